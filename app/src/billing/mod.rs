//! Billing: tariffs as of each day, the monthly invoicing run per régie (a draft finance
//! reviews, then issues), invoices and credit notes numbered without gaps, the household's
//! append-only ledger, contests, and the exports for the public accountant.
//!
//! The rules of a day's charge are `cantine_domain::billing`, the prices
//! `cantine_domain::tariff`, the shared-custody split `cantine_domain::custody`: this module
//! gathers the facts, applies them in one transaction, and stores the outcome.

mod contests;
pub(crate) mod documents;
mod issue;
pub(crate) mod ledger;
mod ledger_store;
mod month;
pub mod outbox;
mod prices;
mod receipts;
pub use receipts::Receipt;
mod reports;
mod review;
mod run;
mod run_store;
pub mod sepa;
mod sepa_store;
pub mod stats;
pub mod store;
mod tariffs;

use cantine_domain::billing::LineKind;
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId};
use cantine_domain::money::Cents;
use cantine_domain::tariff::{Price, Tariff};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::audit::Actor;
use crate::error::Result;

/// A billed month, held as its first day. Parsed from `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month(pub NaiveDate);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Regie {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// One version of a year's tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariffVersion {
    pub id: i64,
    pub year: SchoolYearLabel,
    pub applies_from: NaiveDate,
    pub tariff: Tariff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

/// An invoice's state as families and the API see it: `draft` and `issued` are stored, the
/// rest derive from the ledger's allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    /// Fully credited by credit notes.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceSummary {
    pub id: i64,
    pub kind: DocumentKind,
    pub number: Option<String>,
    pub month: Month,
    pub regie: String,
    pub household: HouseholdId,
    /// The guardians' names, as the invoice is addressed.
    pub household_name: String,
    pub amount: Cents,
    /// Settled by payments and credit notes allocated to it.
    pub paid: Cents,
    pub status: InvoiceStatus,
    pub issued_at: Option<DateTime<Utc>>,
}

/// Why a line costs what it costs, stored as the line's `explanation`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Explanation {
    /// The meal's price and its basis (QF bracket, effort rate…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// In shared custody by shares: this household's share of `full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<Share>,
    /// On a regularisation: what the day was billed before and what it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regularises: Option<Regularised>,
    /// A credit note's words from finance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub basis_points: u32,
    pub full: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regularised {
    pub billed_before: Cents,
    /// What the day is billed now, and as what (`None`: nothing to bill any more).
    pub now: Cents,
    pub kind_now: Option<LineKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildName {
    pub id: ChildId,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    pub id: i64,
    pub position: i32,
    pub child: Option<ChildName>,
    pub date: Option<NaiveDate>,
    pub kind: LineKind,
    pub amount: Cents,
    pub explanation: Explanation,
    /// The open or answered contest of this line, if any.
    pub contest: Option<ContestSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub names: Vec<String>,
    pub address_line1: String,
    pub address_line2: String,
    pub postcode: String,
    pub city: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub summary: InvoiceSummary,
    pub recipient: Recipient,
    pub lines: Vec<InvoiceLine>,
    /// A credit note's corrected invoice (id, number).
    pub corrects: Option<(i64, String)>,
    pub reason: Option<String>,
}

/// Who reads an invoice: a family only its own, staff any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Household(HouseholdId),
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Draft,
    Issued,
}

/// A household's total this month against the previous month's, for finance's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub household: HouseholdId,
    pub household_name: String,
    pub this_month: Cents,
    pub previous_month: Cents,
}

/// What finance reviews before issuing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReview {
    pub run_id: i64,
    pub regie: Regie,
    pub month: Month,
    pub status: RunStatus,
    pub invoices: Vec<InvoiceSummary>,
    pub total: Cents,
    pub previous_total: Cents,
    /// Households whose total moved from the previous month, largest change first.
    pub differences: Vec<Difference>,
    /// Booked days of the month whose attendance is not locked: billed as booked for now.
    pub unrecorded_days: i64,
    pub regularisation_lines: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContestStatus {
    Open,
    Answered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContestSummary {
    pub id: i64,
    pub status: ContestStatus,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The credit note it gave, if any (id, number).
    pub credit_note: Option<(i64, String)>,
}

/// A contest with what finance needs to answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contest {
    pub summary: ContestSummary,
    pub household: HouseholdId,
    pub household_name: String,
    pub invoice_id: i64,
    pub invoice_number: String,
    pub line: InvoiceLine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Invoice,
    CreditNote,
    Payment,
    Refund,
    /// A payment the bank took back (a rejected direct debit): owed again.
    Reversal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// + owed by the household, − settled.
    pub amount: Cents,
    /// The invoice or credit note (id, number).
    pub document: Option<(i64, String)>,
    pub memo: String,
    pub balance_after: Cents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// The ledger's sum: positive when the household owes, negative when it is in credit.
    pub balance: Cents,
    /// What is left to pay on issued invoices.
    pub due: Cents,
    /// Payments and credit notes not yet used by an invoice: the next one uses them.
    pub credit: Cents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Means {
    Card,
    SepaDebit,
    Cash,
    Cheque,
    Transfer,
    Cesu,
    ChequesVacances,
    Payfip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInput {
    pub household: HouseholdId,
    pub regie: String,
    pub amount: Cents,
    pub means: Means,
    pub reference: String,
    pub received_on: NaiveDate,
    /// The same key twice records one payment: a retried call or a repeated notification.
    pub idempotency_key: String,
    /// The invoice it pays first; any surplus becomes credit.
    pub invoice: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentOutcome {
    pub payment_id: i64,
    /// False when the idempotency key had already recorded it.
    pub new: bool,
    /// `RC-CANT-2026-000001`: staff-recorded counter payments only (not PayFiP or card).
    pub receipt: Option<String>,
}

/// One line of a credit note: an amount, optionally against a line of the corrected invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditLine {
    pub line: Option<i64>,
    pub amount: Cents,
}

/// What a household was invoiced and paid per child over a calendar year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearlyStatement {
    pub household: HouseholdId,
    pub recipient: Recipient,
    pub year: i32,
    pub children: Vec<ChildYear>,
    pub invoiced: Cents,
    pub credited: Cents,
    pub paid: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildYear {
    pub child: ChildName,
    pub meals: i64,
    pub invoiced: Cents,
}

/// Tells families about billing, worded by the edge; called by the mail worker after the
/// deciding transaction committed.
#[allow(async_fn_in_trait)]
pub trait BillingMails {
    async fn invoice_issued(&self, to: &Recipient, invoice: &InvoiceSummary) -> anyhow::Result<()>;
    async fn contest_answered(
        &self,
        to: &Recipient,
        contest: &ContestSummary,
        invoice_number: &str,
    ) -> anyhow::Result<()>;
    /// The pre-notification of a direct debit: amount, collection date, mandate, creditor.
    async fn debit_announced(
        &self,
        to: &Recipient,
        debit: &sepa::DebitNotice,
    ) -> anyhow::Result<()>;
    /// The bank rejected a direct debit: the invoice is due again.
    async fn debit_rejected(&self, to: &Recipient, debit: &sepa::DebitNotice)
    -> anyhow::Result<()>;
}

pub async fn regies(pool: &PgPool) -> Result<Vec<Regie>> {
    let mut conn = pool.acquire().await?;
    run_store::regies(&mut conn).await
}

pub async fn tariffs(pool: &PgPool, year: SchoolYearLabel) -> Result<Vec<TariffVersion>> {
    tariffs::tariffs(pool, year).await
}

/// Saves a new version of the year's tariff from `applies_from`, validated first.
pub async fn save_tariff(
    pool: &PgPool,
    actor: &Actor,
    year: SchoolYearLabel,
    applies_from: NaiveDate,
    tariff: Tariff,
) -> Result<TariffVersion> {
    tariffs::save_tariff(pool, actor, year, applies_from, tariff).await
}

/// Computes (or recomputes) the month's draft for a régie. Refused with
/// `BillingConflict::RunIssued` once the month is issued.
pub async fn run(
    pool: &PgPool,
    actor: Option<&Actor>,
    regie: &str,
    month: Month,
) -> Result<RunReview> {
    run::run(pool, actor, regie, month).await
}

pub async fn review(pool: &PgPool, regie: &str, month: Month) -> Result<Option<RunReview>> {
    review::review(pool, regie, month).await
}

/// Issues the month's draft: numbers, ledger entries, credit used, mails queued. Issuing an
/// issued month again changes nothing and answers its review. Numbered by the system clock's
/// year: [`issue_at`] with the application's clock.
pub async fn issue(
    pool: &PgPool,
    actor: Option<&Actor>,
    regie: &str,
    month: Month,
) -> Result<RunReview> {
    issue_at(pool, actor, regie, month, Utc::now()).await
}

/// [`issue`] at `now` (the application's clock): the numbers take the Paris year of `now`.
pub async fn issue_at(
    pool: &PgPool,
    actor: Option<&Actor>,
    regie: &str,
    month: Month,
    now: DateTime<Utc>,
) -> Result<RunReview> {
    issue::issue(pool, actor, regie, month, now).await
}

pub async fn invoices(pool: &PgPool, household: HouseholdId) -> Result<Vec<InvoiceSummary>> {
    documents::invoices(pool, household).await
}

pub async fn invoice(pool: &PgPool, reader: Reader, id: i64) -> Result<Invoice> {
    documents::invoice(pool, reader, id).await
}

pub async fn create_credit_note(
    pool: &PgPool,
    actor: &Actor,
    invoice: i64,
    lines: Vec<CreditLine>,
    reason: String,
) -> Result<InvoiceSummary> {
    create_credit_note_at(pool, actor, invoice, lines, reason, Utc::now()).await
}

/// [`create_credit_note`] at `now` (the application's clock): numbered in the Paris year of
/// `now`.
pub async fn create_credit_note_at(
    pool: &PgPool,
    actor: &Actor,
    invoice: i64,
    lines: Vec<CreditLine>,
    reason: String,
    now: DateTime<Utc>,
) -> Result<InvoiceSummary> {
    documents::create_credit_note(pool, actor, invoice, lines, reason, now).await
}

pub async fn contest_line(
    pool: &PgPool,
    household: HouseholdId,
    account: AccountId,
    line: i64,
    message: String,
) -> Result<ContestSummary> {
    contests::contest_line(pool, household, account, line, message).await
}

/// Answers a contest, with a credit note of `credit` on the contested line when given.
pub async fn answer_contest(
    pool: &PgPool,
    actor: &Actor,
    contest: i64,
    answer: String,
    credit: Option<Cents>,
) -> Result<Contest> {
    answer_contest_at(pool, actor, contest, answer, credit, Utc::now()).await
}

/// [`answer_contest`] at `now` (the application's clock): its credit note is numbered in the
/// Paris year of `now`.
pub async fn answer_contest_at(
    pool: &PgPool,
    actor: &Actor,
    contest: i64,
    answer: String,
    credit: Option<Cents>,
    now: DateTime<Utc>,
) -> Result<Contest> {
    contests::answer_contest(pool, actor, contest, answer, credit, now).await
}

pub async fn contests(pool: &PgPool, open_only: bool) -> Result<Vec<Contest>> {
    contests::contests(pool, open_only).await
}

pub async fn balance(pool: &PgPool, household: HouseholdId) -> Result<Balance> {
    ledger::balance(pool, household).await
}

pub async fn ledger(pool: &PgPool, household: HouseholdId) -> Result<Vec<LedgerEntry>> {
    ledger::entries(pool, household).await
}

pub async fn record_payment(
    pool: &PgPool,
    actor: Option<&Actor>,
    payment: PaymentInput,
) -> Result<PaymentOutcome> {
    ledger::record_payment(pool, actor, payment).await
}

/// The printable receipt of a counter payment (`RC-CANT-2026-000001`).
pub async fn receipt(pool: &PgPool, payment_id: i64) -> Result<Receipt> {
    receipts::receipt(pool, payment_id).await
}

/// [`record_payment`] inside the caller's transaction, for a system action (PayFiP's
/// verdict applied with its attempt).
pub async fn record_payment_in(
    tx: &mut sqlx::PgConnection,
    payment: &PaymentInput,
) -> Result<PaymentOutcome> {
    ledger::record_in(tx, None, payment).await
}

/// [`record_payment_in`] for a staff member's decision (finance accepting a PayFiP mismatch):
/// recorded by them and audited, in the caller's transaction.
pub async fn record_payment_by_in(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    payment: &PaymentInput,
) -> Result<PaymentOutcome> {
    ledger::record_in(tx, Some(actor), payment).await
}

/// Pays back part of a household's credit: an explicit finance action.
pub async fn refund(
    pool: &PgPool,
    actor: &Actor,
    household: HouseholdId,
    regie: &str,
    amount: Cents,
    memo: String,
) -> Result<()> {
    ledger::refund(pool, actor, household, regie, amount, memo).await
}

pub async fn yearly_statement(
    pool: &PgPool,
    household: HouseholdId,
    year: i32,
) -> Result<YearlyStatement> {
    reports::yearly_statement(pool, household, year).await
}

/// Sends the due billing mails (`billing_mail` outbox), retrying failures with backoff.
pub async fn send_due_mails(pool: &PgPool, mails: &impl BillingMails) -> Result<usize> {
    outbox::send_due_mails(pool, mails).await
}

/// A row of the monthly accounting export: an issued invoice or credit note, or a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountingRow {
    pub date: NaiveDate,
    pub kind: EntryKind,
    pub number: Option<String>,
    pub household: HouseholdId,
    pub household_name: String,
    /// Signed as in the ledger.
    pub amount: Cents,
    pub means: Option<Means>,
    pub reference: String,
}

/// The month's invoices, credit notes and payments of a régie, in date order.
pub async fn accounting(pool: &PgPool, regie: &str, month: Month) -> Result<Vec<AccountingRow>> {
    reports::accounting(pool, regie, month).await
}

/// The month's issued invoices with their lines and recipients, for the PES V2 export.
pub async fn issued_invoices(pool: &PgPool, regie: &str, month: Month) -> Result<Vec<Invoice>> {
    documents::issued_invoices(pool, regie, month).await
}

/// What a child's meal costs this household on that day, with the tariff of the day: the
/// family's pages show an unusual cost (a walk-in's surcharge, a late absence that stays
/// charged, carence days) before it is due.
pub async fn meal_price(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    date: NaiveDate,
) -> Result<(Price, Tariff)> {
    tariffs::meal_price(pool, household, child, date).await
}

/// A child's meal on one day at the tariff of the day, for the family's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayPrice {
    pub date: NaiveDate,
    /// The meal, booked.
    pub meal: Cents,
    /// The meal without a booking: with the tariff's surcharge or multiplier.
    pub walk_in: Cents,
    /// The first days of an illness that stay charged.
    pub carence_days: u32,
}

/// [`meal_price`] for each day of `[from, to]` that has a tariff, in a handful of queries.
pub async fn meal_prices(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayPrice>> {
    prices::meal_prices(pool, household, child, from, to).await
}
