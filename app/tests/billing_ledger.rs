//! What happens to money after a month is issued, on a real PostgreSQL through
//! `cantine::billing`: credit notes (partial, full, refused above what is left), contests
//! answered with a credit, regularisations of an issued month on the next month's invoice,
//! payments (idempotent by key, concurrent retries included), overpayments becoming credit the
//! next invoice uses, refunds, and a seeded random sequence of all of them after which every
//! household's ledger adds up.
//!
//! Figures: the fixture's tariff (`cantine_test_support::billing::brackets`): QF 600 pays
//! 2,90 € a meal, QF 450 1,50 €, a walk-in 1,00 € more.

use std::collections::{BTreeMap, HashSet};

use cantine::billing::{
    self, Balance, CreditLine, DocumentKind, EntryKind, InvoiceStatus, Means, Month, PaymentInput,
    PaymentOutcome, Reader,
};
use cantine::error::{BillingConflict, Conflict, Error};
use cantine_domain::billing::LineKind;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId};
use cantine_domain::money::Cents;
use cantine_test_support::billing::{
    Commune, REGIE, brackets, document_of, line_facts, lines, month, service_days,
};
use cantine_test_support::time::date;
use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

async fn eats(commune: &Commune, child: ChildId, days: &[&str]) {
    let days: Vec<_> = days.iter().map(|d| date(d)).collect();
    commune.book(child, &days).await;
    for day in &days {
        commune.attend(child, *day, true).await;
    }
    commune.lock(&days).await;
}

async fn run_and_issue(c: &Commune, m: Month) -> billing::RunReview {
    billing::run(&c.pool, Some(&c.agent), REGIE, m)
        .await
        .unwrap();
    billing::issue(&c.pool, Some(&c.agent), REGIE, m)
        .await
        .unwrap()
}

async fn summary(c: &Commune, id: i64) -> billing::InvoiceSummary {
    billing::invoice(&c.pool, Reader::Staff, id)
        .await
        .unwrap()
        .summary
}

fn exceeded(max: i64) -> impl Fn(&cantine::error::Result<billing::InvoiceSummary>) -> bool {
    move |r| matches!(r, Err(Error::Conflict(Conflict::Billing(BillingConflict::AmountExceeded { max: m }))) if *m == Cents(max))
}

fn payment(household: HouseholdId, amount: i64, key: &str, invoice: Option<i64>) -> PaymentInput {
    PaymentInput {
        household,
        regie: REGIE.to_owned(),
        amount: Cents(amount),
        means: Means::Card,
        reference: format!("paiement {key}"),
        received_on: date("2026-12-01"),
        idempotency_key: key.to_owned(),
        invoice,
    }
}

/// Refused as a reused idempotency key.
fn reused(r: &cantine::error::Result<PaymentOutcome>) -> bool {
    matches!(
        r,
        Err(Error::Conflict(Conflict::Billing(
            BillingConflict::IdempotencyKeyReused
        )))
    )
}

/// The ledger's sum of each kind, and the running balance checked entry by entry.
async fn checked_ledger(
    c: &Commune,
    household: HouseholdId,
) -> (BTreeMap<&'static str, i64>, Balance) {
    let entries = billing::ledger(&c.pool, household).await.unwrap();
    let mut running = Cents::ZERO;
    let mut sums: BTreeMap<&'static str, i64> = BTreeMap::new();
    for e in &entries {
        running = running + e.amount;
        assert_eq!(e.balance_after, running, "balance after entry {}", e.id);
        let kind = match e.kind {
            EntryKind::Invoice => "invoice",
            EntryKind::CreditNote => "credit_note",
            EntryKind::Payment => "payment",
            EntryKind::Refund => "refund",
            EntryKind::Reversal => "reversal",
        };
        *sums.entry(kind).or_default() += e.amount.get();
    }
    let balance = billing::balance(&c.pool, household).await.unwrap();
    assert_eq!(balance.balance, running, "the balance is the ledger's sum");
    assert_eq!(balance.balance, balance.due - balance.credit);
    assert!(balance.due >= Cents::ZERO && balance.credit >= Cents::ZERO);
    assert!(
        balance.due == Cents::ZERO || balance.credit == Cents::ZERO,
        "credit is used before anything stays due: {balance:?}"
    );
    // What is due is what is left to pay on the issued invoices.
    let invoices = billing::invoices(&c.pool, household).await.unwrap();
    let left: i64 = invoices
        .iter()
        .filter(|i| i.kind == DocumentKind::Invoice)
        .map(|i| {
            assert!(i.paid <= i.amount, "{i:?}");
            (i.amount - i.paid).get()
        })
        .sum();
    assert_eq!(balance.due, Cents(left));
    (sums, balance)
}

/// A household at QF 600 whose child ate four November days, issued: 4 × 290 = 1 160.
async fn issued_november(c: &Commune, name: &str) -> (HouseholdId, billing::InvoiceSummary) {
    let h = c.household(name, Some(600)).await;
    let child = c.child(h, &format!("{name}Child"), false).await;
    eats(
        c,
        child,
        &["2026-11-02", "2026-11-03", "2026-11-05", "2026-11-06"],
    )
    .await;
    (
        h,
        document_of(&run_and_issue(c, month("2026-11")).await, h).clone(),
    )
}

#[tokio::test]
async fn credit_notes_partial_then_full_cancel_the_invoice_and_never_exceed_it() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let (h, invoice) = issued_november(&c, "Avoir").await;
    assert_eq!(invoice.amount, Cents(1160));
    assert_eq!(invoice.status, InvoiceStatus::Issued);
    let invoice_lines = lines(&c.pool, invoice.id).await;
    let first = invoice_lines[0].id;
    let credit = |lines: Vec<CreditLine>| {
        billing::create_credit_note(
            &c.pool,
            &c.agent,
            invoice.id,
            lines,
            "Geste commercial".into(),
        )
    };

    // 1,00 € on the first day.
    let partial = credit(vec![CreditLine {
        line: Some(first),
        amount: Cents(100),
    }])
    .await
    .unwrap();
    assert_eq!(partial.kind, DocumentKind::CreditNote);
    assert_eq!(partial.amount, Cents(100));
    let number = partial.number.clone().unwrap();
    assert!(
        number.starts_with("AV-CANT-") && number.ends_with("-000001"),
        "{number}"
    );
    let after = summary(&c, invoice.id).await;
    assert_eq!(
        after.paid,
        Cents(100),
        "the credit note settles its invoice first"
    );
    assert_eq!(after.status, InvoiceStatus::PartiallyPaid);
    let note = billing::invoice(&c.pool, Reader::Household(h), partial.id)
        .await
        .unwrap();
    assert_eq!(
        note.corrects,
        Some((invoice.id, invoice.number.clone().unwrap()))
    );
    assert_eq!(note.lines.len(), 1);
    assert_eq!(note.lines[0].kind, LineKind::Credit);
    assert_eq!(note.lines[0].date, Some(date("2026-11-02")));

    // Above what is left on the line (290 − 100) or on the invoice (1 160 − 100): refused.
    let over_line = credit(vec![CreditLine {
        line: Some(first),
        amount: Cents(191),
    }])
    .await;
    assert!(exceeded(190)(&over_line), "{over_line:?}");
    let two_lines = credit(vec![
        CreditLine {
            line: Some(first),
            amount: Cents(100),
        },
        CreditLine {
            line: Some(first),
            amount: Cents(91),
        },
    ])
    .await;
    assert!(exceeded(190)(&two_lines), "{two_lines:?}");
    let over_invoice = credit(vec![CreditLine {
        line: None,
        amount: Cents(1061),
    }])
    .await;
    assert!(exceeded(1060)(&over_invoice), "{over_invoice:?}");
    let zero = credit(vec![CreditLine {
        line: None,
        amount: Cents(0),
    }])
    .await;
    assert!(matches!(zero, Err(Error::Invalid(_))), "{zero:?}");
    // Refusals took no number: the next credit note is 000002.
    let full = credit(vec![CreditLine {
        line: None,
        amount: Cents(1060),
    }])
    .await
    .unwrap();
    assert!(full.number.as_deref().unwrap().ends_with("-000002"));
    let cancelled = summary(&c, invoice.id).await;
    assert_eq!(cancelled.status, InvoiceStatus::Cancelled);
    assert_eq!(cancelled.paid, Cents(1160));
    let nothing_left = credit(vec![CreditLine {
        line: None,
        amount: Cents(1),
    }])
    .await;
    assert!(exceeded(0)(&nothing_left), "{nothing_left:?}");

    let (sums, balance) = checked_ledger(&c, h).await;
    assert_eq!(sums["invoice"], 1160);
    assert_eq!(sums["credit_note"], -1160);
    assert_eq!(
        balance,
        Balance {
            balance: Cents(0),
            due: Cents(0),
            credit: Cents(0)
        }
    );
}

#[tokio::test]
async fn a_credit_note_on_a_paid_invoice_and_a_contest_answered_with_credit_become_credit() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let (h, invoice) = issued_november(&c, "Paye").await;
    billing::record_payment(&c.pool, None, payment(h, 1160, "paye-1", Some(invoice.id)))
        .await
        .unwrap();
    assert_eq!(summary(&c, invoice.id).await.status, InvoiceStatus::Paid);

    // The family contests the no-show-like Tuesday; finance answers with 2,90 €.
    let line = lines(&c.pool, invoice.id).await[1].id;
    let account: i64 = sqlx::query_scalar("select id from account where household_id = $1")
        .bind(h.get())
        .fetch_one(&c.pool)
        .await
        .unwrap();
    let contest = billing::contest_line(
        &c.pool,
        h,
        AccountId(account),
        line,
        "Mon enfant était en sortie scolaire.".into(),
    )
    .await
    .unwrap();
    let again = billing::contest_line(&c.pool, h, AccountId(account), line, "Relance".into()).await;
    assert!(matches!(
        again,
        Err(Error::Conflict(Conflict::Billing(
            BillingConflict::ContestOpen
        )))
    ));
    let answered = billing::answer_contest(
        &c.pool,
        &c.agent,
        contest.id,
        "Sortie confirmée par l'école.".into(),
        Some(Cents(290)),
    )
    .await
    .unwrap();
    let (note_id, _) = answered.summary.credit_note.clone().unwrap();
    assert_eq!(summary(&c, note_id).await.amount, Cents(290));
    // Paid already: the credit note's 2,90 € stay as credit; the invoice stays paid.
    assert_eq!(summary(&c, invoice.id).await.status, InvoiceStatus::Paid);
    let (_, balance) = checked_ledger(&c, h).await;
    assert_eq!(
        balance,
        Balance {
            balance: Cents(-290),
            due: Cents(0),
            credit: Cents(290)
        }
    );
    // The line can take 0 more than what is left of it: 290 − 290.
    let over = billing::create_credit_note(
        &c.pool,
        &c.agent,
        invoice.id,
        vec![CreditLine {
            line: Some(line),
            amount: Cents(1),
        }],
        "Encore".into(),
    )
    .await;
    assert!(exceeded(0)(&over), "{over:?}");
}

#[tokio::test]
async fn a_change_after_issue_is_regularised_on_the_next_invoice_once() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let d = |s: &str| date(s);
    let h = c.household("Regul", Some(600)).await;
    let child = c.child(h, "Rita", false).await;
    // October: booked Mon 5, Tue 6, Thu 8, Fri 9; only Monday and Tuesday are locked when the
    // month is issued: Thursday and Friday are billed as booked.
    let october = [
        d("2026-10-05"),
        d("2026-10-06"),
        d("2026-10-08"),
        d("2026-10-09"),
    ];
    c.book(child, &october).await;
    c.attend(child, october[0], true).await;
    c.attend(child, october[1], true).await;
    c.lock(&october[..2]).await;
    let oct = run_and_issue(&c, month("2026-10")).await;
    assert_eq!(oct.unrecorded_days, 2);
    assert_eq!(document_of(&oct, h).amount, Cents(4 * 290));

    // Afterwards: absent on Thursday without notice (a no-show: still 2,90 €, nothing to
    // regularise), absent Friday with an excuse declared in time (free: −2,90 €), and eating
    // unbooked on Monday 12th (+3,90 €), all locked.
    c.attend(child, october[2], false).await;
    c.attend(child, october[3], false).await;
    c.absence(
        h,
        child,
        &[october[3]],
        ("other", "before_deadline", "accepted"),
    )
    .await;
    c.attend(child, d("2026-10-12"), true).await;
    c.lock(&[october[2], october[3], d("2026-10-12")]).await;
    let refused = billing::run(&c.pool, None, REGIE, month("2026-10")).await;
    assert!(matches!(
        refused,
        Err(Error::Conflict(Conflict::Billing(
            BillingConflict::RunIssued
        )))
    ));
    // November: one meal, then October's regularisations.
    eats(&c, child, &["2026-11-02"]).await;
    let nov = billing::run(&c.pool, None, REGIE, month("2026-11"))
        .await
        .unwrap();
    assert_eq!(nov.regularisation_lines, 2);
    let doc = document_of(&nov, h);
    let doc_lines = lines(&c.pool, doc.id).await;
    assert_eq!(
        line_facts(&c.pool, doc.id).await,
        vec![
            (Some(child), Some(d("2026-11-02")), LineKind::Meal, 290),
            (
                Some(child),
                Some(d("2026-10-09")),
                LineKind::Regularisation,
                -290
            ),
            (
                Some(child),
                Some(d("2026-10-12")),
                LineKind::Regularisation,
                390
            ),
        ]
    );
    let friday = doc_lines[1].explanation.regularises.clone().unwrap();
    assert_eq!(
        (friday.billed_before, friday.now, friday.kind_now),
        (Cents(290), Cents(0), Some(LineKind::ExcusedAbsence))
    );
    let monday = doc_lines[2].explanation.regularises.clone().unwrap();
    assert_eq!(
        (monday.billed_before, monday.now, monday.kind_now),
        (Cents(0), Cents(390), Some(LineKind::Unbooked))
    );
    // 290 − 290 + 390.
    assert_eq!(doc.amount, Cents(390));
    billing::issue(&c.pool, None, REGIE, month("2026-11"))
        .await
        .unwrap();

    // December: Monday 2 November turns out excused too (a correction of the locked day and
    // an excuse accepted late in the month): the only line is −2,90 €, so the run makes a
    // credit note.
    c.attend(child, d("2026-11-02"), false).await;
    c.absence(
        h,
        child,
        &[d("2026-11-02")],
        ("other", "before_deadline", "accepted"),
    )
    .await;
    let dec = run_and_issue(&c, month("2026-12")).await;
    let note = document_of(&dec, h);
    assert_eq!(note.kind, DocumentKind::CreditNote);
    assert_eq!(note.amount, Cents(290));
    assert_eq!(
        line_facts(&c.pool, note.id).await,
        vec![(
            Some(child),
            Some(d("2026-11-02")),
            LineKind::Regularisation,
            -290
        )]
    );

    // January: nothing changed since, so nothing is regularised again, not even the day the
    // December credit note already gave back.
    let jan = billing::run(&c.pool, None, REGIE, month("2027-01"))
        .await
        .unwrap();
    assert_eq!(jan.regularisation_lines, 0, "{:?}", jan.invoices);
    assert!(jan.invoices.is_empty(), "{:?}", jan.invoices);

    // 1 160 + 390 − 290.
    let (_, balance) = checked_ledger(&c, h).await;
    assert_eq!(balance.balance, Cents(1260));
}

#[tokio::test]
async fn a_payment_recorded_twice_with_one_key_is_one_payment_and_a_surplus_is_credit() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let (h, invoice) = issued_november(&c, "Paiement").await;

    let first = billing::record_payment(&c.pool, None, payment(h, 500, "cb-1", Some(invoice.id)))
        .await
        .unwrap();
    assert!(first.new);
    // The same request again: the first payment stands.
    let again = billing::record_payment(&c.pool, None, payment(h, 500, "cb-1", Some(invoice.id)))
        .await
        .unwrap();
    assert_eq!((again.payment_id, again.new), (first.payment_id, false));
    // Two notifications of one payment at once: one is recorded.
    let (x, y) = tokio::join!(
        billing::record_payment(&c.pool, None, payment(h, 60, "cb-2", None)),
        billing::record_payment(&c.pool, None, payment(h, 60, "cb-2", None)),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.payment_id, y.payment_id);
    assert!(x.new != y.new, "exactly one is new: {x:?} {y:?}");
    let (sums, balance) = checked_ledger(&c, h).await;
    assert_eq!(sums["payment"], -560);
    assert_eq!(balance.balance, Cents(600));
    assert_eq!(
        summary(&c, invoice.id).await.status,
        InvoiceStatus::PartiallyPaid
    );

    // 10,00 € for the 6,00 € left: 4,00 € of credit …
    billing::record_payment(&c.pool, None, payment(h, 1000, "cheque-1", None))
        .await
        .unwrap();
    assert_eq!(summary(&c, invoice.id).await.status, InvoiceStatus::Paid);
    let (_, balance) = checked_ledger(&c, h).await;
    assert_eq!(
        balance,
        Balance {
            balance: Cents(-400),
            due: Cents(0),
            credit: Cents(400)
        }
    );
    // … that December's invoice (three meals, 8,70 €) uses at once.
    let child: i64 = sqlx::query_scalar("select id from child where household_id = $1")
        .bind(h.get())
        .fetch_one(&c.pool)
        .await
        .unwrap();
    eats(
        &c,
        ChildId(child),
        &["2026-12-07", "2026-12-08", "2026-12-10"],
    )
    .await;
    let dec = document_of(&run_and_issue(&c, month("2026-12")).await, h).clone();
    assert_eq!(dec.amount, Cents(870));
    let dec = summary(&c, dec.id).await;
    assert_eq!(
        (dec.paid, dec.status),
        (Cents(400), InvoiceStatus::PartiallyPaid)
    );
    let (_, balance) = checked_ledger(&c, h).await;
    assert_eq!(
        balance,
        Balance {
            balance: Cents(470),
            due: Cents(470),
            credit: Cents(0)
        }
    );

    // A refund needs credit: none now; 5,00 € paid for 4,70 € due leave 0,30 €.
    let none = billing::refund(&c.pool, &c.agent, h, REGIE, Cents(1), "Trop-perçu".into()).await;
    assert!(matches!(
        none,
        Err(Error::Conflict(Conflict::Billing(
            BillingConflict::AmountExceeded { max: Cents(0) }
        )))
    ));
    billing::record_payment(&c.pool, None, payment(h, 500, "cb-3", Some(dec.id)))
        .await
        .unwrap();
    let over = billing::refund(&c.pool, &c.agent, h, REGIE, Cents(31), "Trop-perçu".into()).await;
    assert!(matches!(
        over,
        Err(Error::Conflict(Conflict::Billing(
            BillingConflict::AmountExceeded { max: Cents(30) }
        )))
    ));
    billing::refund(&c.pool, &c.agent, h, REGIE, Cents(30), "Trop-perçu".into())
        .await
        .unwrap();
    let (sums, balance) = checked_ledger(&c, h).await;
    assert_eq!(sums["refund"], 30);
    assert_eq!(
        balance,
        Balance {
            balance: Cents(0),
            due: Cents(0),
            credit: Cents(0)
        }
    );
    // Invalid payments are refused before anything is written.
    let zero = billing::record_payment(&c.pool, None, payment(h, 0, "cb-zero", None)).await;
    assert!(matches!(zero, Err(Error::Invalid(_))), "{zero:?}");
    let stranger = c.household("Etranger", Some(600)).await;
    let not_theirs = billing::record_payment(
        &c.pool,
        None,
        payment(stranger, 100, "cb-x", Some(invoice.id)),
    )
    .await;
    assert!(matches!(not_theirs, Err(Error::NotFound)), "{not_theirs:?}");
}

/// What the test expects of a household, from what the service answered.
#[derive(Default)]
struct Model {
    /// Invoices − credit notes − payments + refunds.
    balance: i64,
    /// Per issued invoice: (amount, credited by credit notes so far).
    invoices: BTreeMap<i64, (i64, i64)>,
}

/// A seeded random sequence of operations on three households over September to February:
/// months run and issued in turn, booked days of issued months excused afterwards (so that
/// later runs regularise them, some with a credit note), payments (keys repeated on purpose,
/// sometimes naming an invoice, often too much), credit notes of random amounts (some refused
/// above what is left), refunds (some refused above the credit). After each operation every
/// household's ledger adds up: balance = invoices − credit notes − payments + refunds, the
/// running balance of its entries, due and credit never both positive, due = what its
/// invoices have left to pay. Answers (regularisation lines, credit notes made by runs, keys
/// reused for another payment and refused).
async fn random_ledger(seed: u64) -> (i64, usize, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let mut households = Vec::new();
    let mut children = Vec::new();
    for i in 0..3 {
        let qf = [300, 600, 1000][rng.gen_range(0..3)];
        let h = c.household(&format!("Hasard{i}"), Some(qf)).await;
        children.push(c.child(h, &format!("Alea{i}"), false).await);
        households.push(h);
    }
    let days = service_days("2026-09-01", "2026-12-18");
    let mut bookings: Vec<Vec<NaiveDate>> = Vec::new();
    for child in &children {
        let booked: Vec<NaiveDate> = days.iter().copied().filter(|_| rng.gen_bool(0.4)).collect();
        bookings.push(booked.clone());
        c.book(*child, &booked).await;
        for day in &booked {
            c.attend(*child, *day, rng.gen_bool(0.9)).await;
        }
        // A walk-in now and then.
        for day in days.iter().filter(|d| !booked.contains(d)) {
            if rng.gen_bool(0.03) {
                c.attend(*child, *day, true).await;
            }
        }
    }
    c.lock(&days).await;

    // January and February bill nothing but the regularisations of the months before.
    let months = [
        "2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02",
    ]
    .map(month);
    let mut excused: HashSet<(usize, NaiveDate)> = HashSet::new();
    let (mut regularised, mut run_credit_notes, mut reuses) = (0, 0, 0);
    let mut next_month = 0;
    let mut models: Vec<Model> = (0..3).map(|_| Model::default()).collect();
    // Each key's request (amount, invoice named): a retry repeats it, anything else is refused.
    let mut keys: BTreeMap<String, (i64, Option<i64>)> = BTreeMap::new();
    for step in 0..18 {
        let who = rng.gen_range(0..3);
        let h = households[who];
        let op = if next_month < months.len() && (step == 0 || rng.gen_bool(0.25)) {
            0
        } else {
            rng.gen_range(1..5)
        };
        match op {
            0 => {
                let review = run_and_issue(&c, months[next_month]).await;
                next_month += 1;
                regularised += review.regularisation_lines;
                run_credit_notes += review
                    .invoices
                    .iter()
                    .filter(|d| d.kind == DocumentKind::CreditNote)
                    .count();
                for doc in &review.invoices {
                    let i = households.iter().position(|x| *x == doc.household).unwrap();
                    match doc.kind {
                        DocumentKind::Invoice => {
                            models[i].balance += doc.amount.get();
                            models[i].invoices.insert(doc.id, (doc.amount.get(), 0));
                        }
                        DocumentKind::CreditNote => models[i].balance -= doc.amount.get(),
                    }
                }
            }
            1 => {
                let key = format!("{seed}-{who}-{}", rng.gen_range(0..4));
                let mut amount = rng.gen_range(1..=3000);
                let mut invoice = if rng.gen_bool(0.5) {
                    models[who]
                        .invoices
                        .keys()
                        .copied()
                        .collect::<Vec<_>>()
                        .choose(&mut rng)
                        .copied()
                } else {
                    None
                };
                // A key seen before: mostly retried as it was, sometimes reused for another
                // payment.
                if let Some(&first) = keys.get(&key)
                    && rng.gen_bool(0.7)
                {
                    (amount, invoice) = first;
                }
                let result =
                    billing::record_payment(&c.pool, None, payment(h, amount, &key, invoice)).await;
                match keys.get(&key) {
                    Some(&first) if first != (amount, invoice) => {
                        assert!(reused(&result), "key {key}: {result:?}");
                        reuses += 1;
                    }
                    Some(_) => assert!(!result.unwrap().new, "key {key}"),
                    None => {
                        assert!(result.unwrap().new, "key {key}");
                        keys.insert(key, (amount, invoice));
                        models[who].balance -= amount;
                    }
                }
            }
            2 => {
                let Some((&id, &(amount, credited))) = models[who]
                    .invoices
                    .iter()
                    .collect::<Vec<_>>()
                    .choose(&mut rng)
                    .copied()
                else {
                    continue;
                };
                let left = amount - credited;
                let asked = if left == 0 || rng.gen_bool(0.2) {
                    left + rng.gen_range(1..100)
                } else {
                    rng.gen_range(1..=left)
                };
                let result = billing::create_credit_note(
                    &c.pool,
                    &c.agent,
                    id,
                    vec![CreditLine {
                        line: None,
                        amount: Cents(asked),
                    }],
                    format!("Avoir {step}"),
                )
                .await;
                if asked > left {
                    assert!(exceeded(left)(&result), "{result:?}");
                } else {
                    assert_eq!(result.unwrap().amount, Cents(asked));
                    models[who].balance -= asked;
                    models[who].invoices.insert(id, (amount, credited + asked));
                    if credited + asked == amount && amount > 0 {
                        assert_eq!(summary(&c, id).await.status, InvoiceStatus::Cancelled);
                    }
                }
            }
            3 if next_month > 0 => {
                // A booked day of an issued month excused afterwards: the next run gives it
                // back (a credit note when nothing else is billed that month).
                let issued_until = months[next_month - 1].last_day();
                let candidates: Vec<NaiveDate> = bookings[who]
                    .iter()
                    .copied()
                    .filter(|d| *d <= issued_until && !excused.contains(&(who, *d)))
                    .collect();
                if let Some(&day) = candidates.choose(&mut rng) {
                    excused.insert((who, day));
                    // Marked absent after all (a manager's correction), with an excuse.
                    c.attend(children[who], day, false).await;
                    c.absence(
                        h,
                        children[who],
                        &[day],
                        ("other", "before_deadline", "accepted"),
                    )
                    .await;
                }
            }
            _ => {
                let credit = billing::balance(&c.pool, h).await.unwrap().credit.get();
                let over = billing::refund(
                    &c.pool,
                    &c.agent,
                    h,
                    REGIE,
                    Cents(credit + 1),
                    "Trop".into(),
                )
                .await;
                assert!(
                    matches!(over, Err(Error::Conflict(Conflict::Billing(BillingConflict::AmountExceeded { max }))) if max == Cents(credit)),
                    "{over:?}"
                );
                if credit > 0 {
                    let amount = rng.gen_range(1..=credit);
                    billing::refund(
                        &c.pool,
                        &c.agent,
                        h,
                        REGIE,
                        Cents(amount),
                        "Remboursement".into(),
                    )
                    .await
                    .unwrap();
                    models[who].balance += amount;
                }
            }
        }
        for (i, h) in households.iter().enumerate() {
            let (_, balance) = checked_ledger(&c, *h).await;
            assert_eq!(
                balance.balance,
                Cents(models[i].balance),
                "seed {seed}, step {step}, household {i}"
            );
        }
    }
    (regularised, run_credit_notes, reuses)
}

#[tokio::test]
async fn random_ledger_operations_keep_every_balance_consistent_seeds_0_to_7() {
    let mut seen = (0, 0, 0);
    for seed in 0..8 {
        let (lines, notes, reuses) = random_ledger(seed).await;
        seen = (seen.0 + lines, seen.1 + notes, seen.2 + reuses);
    }
    // The seeds do exercise regularisations, runs' credit notes, and keys reused.
    assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
}

#[tokio::test]
async fn random_ledger_operations_keep_every_balance_consistent_seeds_8_to_15() {
    let mut seen = (0, 0, 0);
    for seed in 8..16 {
        let (lines, notes, reuses) = random_ledger(seed).await;
        seen = (seen.0 + lines, seen.1 + notes, seen.2 + reuses);
    }
    // The seeds do exercise regularisations, runs' credit notes, and keys reused.
    assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
}

/// The run's review (what `issue` answers, and finance's list) says of each invoice what the
/// invoice itself says: paid, then cancelled by a credit note.
#[tokio::test]
async fn the_review_and_the_invoice_agree_on_what_is_paid_and_cancelled() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let (h, invoice) = issued_november(&c, "Accord").await;
    let (other, other_invoice) = {
        let o = c.household("Autre", Some(600)).await;
        let child = c.child(o, "AutreChild", false).await;
        eats(&c, child, &["2026-12-07"]).await;
        (
            o,
            document_of(&run_and_issue(&c, month("2026-12")).await, o).clone(),
        )
    };
    assert_eq!(other_invoice.amount, Cents(290));
    let agree = |m: &'static str| {
        let pool = c.pool.clone();
        async move {
            let review = billing::review(&pool, REGIE, month(m))
                .await
                .unwrap()
                .unwrap();
            for listed in &review.invoices {
                let read = billing::invoice(&pool, Reader::Staff, listed.id)
                    .await
                    .unwrap()
                    .summary;
                assert_eq!(
                    (listed.status, listed.paid),
                    (read.status, read.paid),
                    "review of {m} against the invoice {}",
                    listed.id
                );
            }
            review
        }
    };
    // Paid in full, then credited in full: cancelled, whatever paid it before.
    billing::record_payment(
        &c.pool,
        None,
        payment(h, 1160, "accord-1", Some(invoice.id)),
    )
    .await
    .unwrap();
    agree("2026-11").await;
    billing::create_credit_note(
        &c.pool,
        &c.agent,
        invoice.id,
        vec![CreditLine {
            line: None,
            amount: Cents(1160),
        }],
        "Annulation".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        summary(&c, invoice.id).await.status,
        InvoiceStatus::Cancelled
    );
    let review = agree("2026-11").await;
    assert_eq!(document_of(&review, h).status, InvoiceStatus::Cancelled);
    // The other household's invoice is paid by a payment only.
    billing::record_payment(&c.pool, None, payment(other, 290, "accord-2", None))
        .await
        .unwrap();
    let review = agree("2026-12").await;
    assert_eq!(document_of(&review, other).status, InvoiceStatus::Paid);
}

/// Credit taken twice at once: the invoice being issued and a refund of all the credit, or
/// two credit notes for all that is left of one invoice. The household's lock makes them
/// take turns: one wins, the other is refused or finds nothing left, and the ledger adds up.
#[tokio::test]
async fn concurrent_uses_of_one_credit_never_spend_it_twice() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let (h, invoice) = issued_november(&c, "Course").await;
    // 16,60 € paid for the 11,60 € due: 5,00 € of credit.
    billing::record_payment(&c.pool, None, payment(h, 1660, "course-1", None))
        .await
        .unwrap();
    assert_eq!(
        billing::balance(&c.pool, h).await.unwrap().credit,
        Cents(500)
    );
    let child: i64 = sqlx::query_scalar("select id from child where household_id = $1")
        .bind(h.get())
        .fetch_one(&c.pool)
        .await
        .unwrap();
    eats(&c, ChildId(child), &["2026-12-07", "2026-12-08"]).await;
    billing::run(&c.pool, None, REGIE, month("2026-12"))
        .await
        .unwrap();
    // December's 5,80 € would use the 5,00 € of credit; a refund of 5,00 € wants them too.
    let (issued, refunded) = tokio::join!(
        billing::issue(&c.pool, None, REGIE, month("2026-12")),
        billing::refund(&c.pool, &c.agent, h, REGIE, Cents(500), "Trop-perçu".into()),
    );
    let dec = document_of(&issued.unwrap(), h).clone();
    let dec = summary(&c, dec.id).await;
    match refunded {
        // Refunded first: December stays due in full.
        Ok(()) => assert_eq!(dec.paid, Cents(0)),
        // Issued first: the invoice took the credit, nothing is left to refund.
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Conflict(Conflict::Billing(BillingConflict::AmountExceeded {
                        max: Cents(0)
                    }))
                ),
                "{e:?}"
            );
            assert_eq!(dec.paid, Cents(500));
        }
    }
    let (_, balance) = checked_ledger(&c, h).await;
    // 1 160 + 580 − 1 660 (+ 500 refunded, or not).
    assert!(
        balance.balance == Cents(580) || balance.balance == Cents(80),
        "{balance:?}"
    );
    // Two credit notes of all that is left on November's invoice, at once: one is refused.
    let note = |reason: &str| {
        billing::create_credit_note(
            &c.pool,
            &c.agent,
            invoice.id,
            vec![CreditLine {
                line: None,
                amount: Cents(1160),
            }],
            reason.to_owned(),
        )
    };
    let (a, b) = tokio::join!(note("Erreur de facturation"), note("Doublon"));
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    let refused = if a.is_ok() { b } else { a };
    assert!(exceeded(0)(&refused), "{refused:?}");
    checked_ledger(&c, h).await;
}

/// Credit notes written at once on several invoices (and contests answered with credit)
/// take the credit-note sequence's numbers 1..n, no gap, no duplicate.
#[tokio::test]
async fn concurrent_credit_notes_are_numbered_without_gap() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let mut households = Vec::new();
    for i in 0..6 {
        let h = c.household(&format!("Numero{i}"), Some(600)).await;
        let child = c.child(h, &format!("N{i}"), false).await;
        eats(&c, child, &["2026-11-02", "2026-11-03"]).await;
        households.push(h);
    }
    let review = run_and_issue(&c, month("2026-11")).await;
    let tasks: Vec<_> = households
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let pool = c.pool.clone();
            let agent = c.agent.clone();
            let invoice = document_of(&review, *h).id;
            tokio::spawn(async move {
                billing::create_credit_note(
                    &pool,
                    &agent,
                    invoice,
                    vec![CreditLine {
                        line: None,
                        amount: Cents(10 + i as i64),
                    }],
                    "Geste".into(),
                )
                .await
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().unwrap().number.unwrap());
    }
    numbers.sort();
    let year = &numbers[0]["AV-CANT-".len().."AV-CANT-".len() + 4];
    let wanted: Vec<String> = (1..=6).map(|n| format!("AV-CANT-{year}-{n:06}")).collect();
    assert_eq!(numbers, wanted);
    for h in households {
        checked_ledger(&c, h).await;
    }
}

/// An idempotency key is one request. Reused by another household it is refused, and the
/// answer says nothing of the payment it recorded (not its id, not that it is new or not);
/// reused by the same household for another amount or another invoice, refused too; repeated
/// as it was, it answers the first payment.
#[tokio::test]
async fn a_payment_key_reused_by_another_household_or_for_another_payment_is_refused() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let h = c.household("Cle", Some(600)).await;
    let other = c.household("Voisin", Some(600)).await;
    for (household, name) in [(h, "CleChild"), (other, "VoisinChild")] {
        let child = c.child(household, name, false).await;
        eats(&c, child, &["2026-11-02", "2026-11-03"]).await;
    }
    let review = run_and_issue(&c, month("2026-11")).await;
    let (invoice, other_invoice) = (document_of(&review, h).id, document_of(&review, other).id);

    let first = billing::record_payment(&c.pool, None, payment(h, 500, "cle-1", Some(invoice)))
        .await
        .unwrap();
    assert!(first.new);
    // Another household, with the same key: refused, whatever it says.
    for (amount, named) in [(500, Some(other_invoice)), (500, None), (580, None)] {
        let stolen =
            billing::record_payment(&c.pool, None, payment(other, amount, "cle-1", named)).await;
        assert!(reused(&stolen), "{stolen:?}");
    }
    // The same household, another payment under the key: another amount, another invoice.
    for (amount, named) in [(501, Some(invoice)), (500, None)] {
        let other_payment =
            billing::record_payment(&c.pool, None, payment(h, amount, "cle-1", named)).await;
        assert!(reused(&other_payment), "{other_payment:?}");
    }
    // The same request: the first payment.
    let retried = billing::record_payment(&c.pool, None, payment(h, 500, "cle-1", Some(invoice)))
        .await
        .unwrap();
    assert_eq!((retried.payment_id, retried.new), (first.payment_id, false));
    // Two households sending one new key at once: one is recorded, the other refused.
    let (mine, theirs) = tokio::join!(
        billing::record_payment(&c.pool, None, payment(h, 60, "cle-2", None)),
        billing::record_payment(&c.pool, None, payment(other, 60, "cle-2", None)),
    );
    assert!(
        (mine.as_ref().is_ok_and(|o| o.new) && reused(&theirs))
            || (theirs.as_ref().is_ok_and(|o| o.new) && reused(&mine)),
        "{mine:?} {theirs:?}"
    );
    let paid_by = |r: &cantine::error::Result<PaymentOutcome>| if r.is_ok() { 60 } else { 0 };
    // Nothing of the refusals reached a ledger: 2 × 290 each, less what each really paid.
    let (sums, balance) = checked_ledger(&c, h).await;
    assert_eq!(sums["payment"], -500 - paid_by(&mine));
    assert_eq!(balance.balance, Cents(580 - 500 - paid_by(&mine)));
    let (sums, balance) = checked_ledger(&c, other).await;
    assert_eq!(sums.get("payment").copied().unwrap_or(0), -paid_by(&theirs));
    assert_eq!(balance.balance, Cents(580 - paid_by(&theirs)));
}

/// A day credited by finance on its line (a contest answered with credit, a credit note by
/// line), then excused after the month is issued: the next run gives back only what the
/// credit notes have not given back already, so a day is never refunded beyond what it was
/// billed; and a day credited but not changed keeps its credit (goodwill is never undone).
#[tokio::test]
async fn a_day_credited_on_its_line_then_excused_is_not_refunded_twice() {
    let c = Commune::new().await;
    c.tariff("2026-09-01", brackets()).await;
    let d = |s: &str| date(s);
    let h = c.household("Double", Some(600)).await;
    let child = c.child(h, "Dora", false).await;
    // November: Mon 2, Tue 3, Thu 5 at 2,90 €: 8,70 €.
    eats(&c, child, &["2026-11-02", "2026-11-03", "2026-11-05"]).await;
    let nov = document_of(&run_and_issue(&c, month("2026-11")).await, h).clone();
    assert_eq!(nov.amount, Cents(870));
    let nov_lines = lines(&c.pool, nov.id).await;
    let line_of = |day: &str| {
        nov_lines
            .iter()
            .find(|l| l.date == Some(d(day)))
            .unwrap()
            .id
    };

    // Monday contested and answered with its whole 2,90 €.
    let account: i64 = sqlx::query_scalar("select id from account where household_id = $1")
        .bind(h.get())
        .fetch_one(&c.pool)
        .await
        .unwrap();
    let contest = billing::contest_line(
        &c.pool,
        h,
        AccountId(account),
        line_of("2026-11-02"),
        "Il était malade, j'ai prévenu.".into(),
    )
    .await
    .unwrap();
    billing::answer_contest(
        &c.pool,
        &c.agent,
        contest.id,
        "Remboursé.".into(),
        Some(Cents(290)),
    )
    .await
    .unwrap();
    // Tuesday credited 1,00 € and Thursday 0,50 € by finance, line by line.
    for (day, cents) in [("2026-11-03", 100), ("2026-11-05", 50)] {
        billing::create_credit_note(
            &c.pool,
            &c.agent,
            nov.id,
            vec![CreditLine {
                line: Some(line_of(day)),
                amount: Cents(cents),
            }],
            "Geste".into(),
        )
        .await
        .unwrap();
    }
    // Then Monday and Tuesday are excused after all (free): Thursday stays a meal.
    for day in ["2026-11-02", "2026-11-03"] {
        c.attend(child, d(day), false).await;
        c.absence(
            h,
            child,
            &[d(day)],
            ("other", "before_deadline", "accepted"),
        )
        .await;
    }

    // December: one meal, and Tuesday's 1,90 € not given back yet; Monday was given back in
    // full by the contest's credit note, Thursday did not change.
    eats(&c, child, &["2026-12-07"]).await;
    let dec = billing::run(&c.pool, None, REGIE, month("2026-12"))
        .await
        .unwrap();
    let doc = document_of(&dec, h).clone();
    assert_eq!(
        line_facts(&c.pool, doc.id).await,
        vec![
            (Some(child), Some(d("2026-12-07")), LineKind::Meal, 290),
            (
                Some(child),
                Some(d("2026-11-03")),
                LineKind::Regularisation,
                -190
            ),
        ]
    );
    let tuesday = lines(&c.pool, doc.id).await[1]
        .explanation
        .regularises
        .clone()
        .unwrap();
    assert_eq!(
        (tuesday.billed_before, tuesday.now, tuesday.kind_now),
        (Cents(190), Cents(0), Some(LineKind::ExcusedAbsence))
    );
    assert_eq!((doc.kind, doc.amount), (DocumentKind::Invoice, Cents(100)));
    billing::issue(&c.pool, None, REGIE, month("2026-12"))
        .await
        .unwrap();
    // January: nothing left to regularise.
    let jan = billing::run(&c.pool, None, REGIE, month("2027-01"))
        .await
        .unwrap();
    assert!(jan.invoices.is_empty(), "{:?}", jan.invoices);
    // 870 − 290 − 100 − 50 + 100: Monday and Tuesday cost nothing in the end, Thursday 2,40 €,
    // December's meal 2,90 €.
    let (sums, balance) = checked_ledger(&c, h).await;
    assert_eq!(sums["credit_note"], -440);
    assert_eq!(balance.balance, Cents(530));
}
