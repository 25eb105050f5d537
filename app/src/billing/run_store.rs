//! The SQL of tariffs, the invoicing run, its review and its issue (migration 0009). Facts are
//! read set-based for a whole range of days (a handful of queries per run, whatever the size
//! of the commune), and the draft is written with bulk inserts.

use std::collections::HashMap;

use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::money::Cents;
use cantine_domain::tariff::{Bracket, Pricing, Tariff, UnbookedRule};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::{Regie, TariffVersion};
use crate::error::{Error, Result};

pub async fn regies(conn: &mut PgConnection) -> Result<Vec<Regie>> {
    Ok(
        sqlx::query_as!(Regie, "select id, code, name from regie order by code")
            .fetch_all(&mut *conn)
            .await?,
    )
}

pub async fn regie(conn: &mut PgConnection, code: &str) -> Result<Regie> {
    sqlx::query_as!(
        Regie,
        "select id, code, name from regie where code = $1",
        code
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)
}

/// A school year as billing needs it.
#[derive(Debug, Clone)]
pub struct Year {
    pub id: i64,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

pub async fn year_by_label(
    conn: &mut PgConnection,
    label: SchoolYearLabel,
) -> Result<Option<Year>> {
    Ok(sqlx::query_as!(
        Year,
        "select id, first_day, last_day from school_year where label = $1",
        label.to_string()
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// The school years with a day in `[from, to]`, earliest first.
pub async fn years_between(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Year>> {
    Ok(sqlx::query_as!(
        Year,
        "select id, first_day, last_day from school_year
         where first_day <= $2 and last_day >= $1 order by first_day",
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

struct TariffRow {
    id: i64,
    school_year_id: i64,
    label: String,
    applies_from: NaiveDate,
    mode: String,
    effort_rate_millionths: Option<i32>,
    effort_min_cents: Option<i32>,
    effort_max_cents: Option<i32>,
    pai_cents: i32,
    non_resident_cents: i32,
    adult_cents: i32,
    unbooked_surcharge_cents: Option<i32>,
    unbooked_multiplier_percent: Option<i32>,
    carence_days: i32,
}

/// A tariff version with the year it belongs to.
#[derive(Debug, Clone)]
pub struct StoredTariff {
    pub school_year_id: i64,
    pub version: TariffVersion,
}

/// The canteen's tariff versions of the given school years, by year then `applies_from`.
pub async fn tariffs_of_years(conn: &mut PgConnection, years: &[i64]) -> Result<Vec<StoredTariff>> {
    let rows = sqlx::query_as!(
        TariffRow,
        "select t.id, t.school_year_id, y.label, t.applies_from, t.mode, t.effort_rate_millionths,
                t.effort_min_cents, t.effort_max_cents, t.pai_cents, t.non_resident_cents,
                t.adult_cents, t.unbooked_surcharge_cents, t.unbooked_multiplier_percent,
                t.carence_days
         from tariff t join school_year y on y.id = t.school_year_id
         where t.school_year_id = any($1) and t.activity = 'canteen'
         order by t.school_year_id, t.applies_from",
        years
    )
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let bands = sqlx::query!(
        "select tariff_id, qf_min, qf_max, meal_price_cents from tariff_band
         where tariff_id = any($1) order by tariff_id, qf_min",
        &ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_tariff: HashMap<i64, Vec<Bracket>> = HashMap::new();
    for b in bands {
        by_tariff.entry(b.tariff_id).or_default().push(Bracket {
            qf_min: b.qf_min as u32,
            qf_max: b.qf_max.map(|m| m as u32),
            meal: Cents(i64::from(b.meal_price_cents)),
        });
    }
    rows.into_iter()
        .map(|r| {
            let pricing = match r.mode.as_str() {
                "effort_rate" => Pricing::EffortRate {
                    rate_millionths: r.effort_rate_millionths.unwrap_or_default() as u32,
                    min: Cents(i64::from(r.effort_min_cents.unwrap_or_default())),
                    max: Cents(i64::from(r.effort_max_cents.unwrap_or_default())),
                },
                _ => Pricing::Brackets {
                    brackets: by_tariff.remove(&r.id).unwrap_or_default(),
                },
            };
            let unbooked = match (r.unbooked_surcharge_cents, r.unbooked_multiplier_percent) {
                (Some(cents), _) => UnbookedRule::Surcharge {
                    cents: Cents(i64::from(cents)),
                },
                (None, Some(percent)) => UnbookedRule::Multiplier {
                    percent: percent as u32,
                },
                (None, None) => UnbookedRule::Surcharge { cents: Cents::ZERO },
            };
            let year = r
                .label
                .parse::<SchoolYearLabel>()
                .map_err(|e| Error::Internal(e.into()))?;
            Ok(StoredTariff {
                school_year_id: r.school_year_id,
                version: TariffVersion {
                    id: r.id,
                    year,
                    applies_from: r.applies_from,
                    tariff: Tariff {
                        pricing,
                        pai: Cents(i64::from(r.pai_cents)),
                        non_resident: Cents(i64::from(r.non_resident_cents)),
                        adult: Cents(i64::from(r.adult_cents)),
                        unbooked,
                        carence_days: r.carence_days as u32,
                    },
                },
            })
        })
        .collect()
}

/// Inserts a validated version and its brackets; `None` when the year already has a version
/// from that day (versions are append-only).
pub async fn insert_tariff(
    conn: &mut PgConnection,
    year_id: i64,
    applies_from: NaiveDate,
    tariff: &Tariff,
    actor: Option<i64>,
) -> Result<Option<i64>> {
    let (mode, rate, min, max) = match &tariff.pricing {
        Pricing::Brackets { .. } => ("brackets", None, None, None),
        Pricing::EffortRate {
            rate_millionths,
            min,
            max,
        } => (
            "effort_rate",
            Some(*rate_millionths as i32),
            Some(min.get() as i32),
            Some(max.get() as i32),
        ),
    };
    let (surcharge, multiplier) = match tariff.unbooked {
        UnbookedRule::Surcharge { cents } => (Some(cents.get() as i32), None),
        UnbookedRule::Multiplier { percent } => (None, Some(percent as i32)),
    };
    let id = sqlx::query_scalar!(
        "insert into tariff (school_year_id, applies_from, mode, effort_rate_millionths,
                             effort_min_cents, effort_max_cents, pai_cents, non_resident_cents,
                             adult_cents, unbooked_surcharge_cents, unbooked_multiplier_percent,
                             carence_days, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (school_year_id, activity, applies_from) do nothing
         returning id",
        year_id,
        applies_from,
        mode,
        rate,
        min,
        max,
        tariff.pai.get() as i32,
        tariff.non_resident.get() as i32,
        tariff.adult.get() as i32,
        surcharge,
        multiplier,
        tariff.carence_days as i32,
        actor,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    if let Pricing::Brackets { brackets } = &tariff.pricing {
        let mins: Vec<i32> = brackets.iter().map(|b| b.qf_min as i32).collect();
        let maxs: Vec<Option<i32>> = brackets
            .iter()
            .map(|b| b.qf_max.map(|m| m as i32))
            .collect();
        let meals: Vec<i32> = brackets.iter().map(|b| b.meal.get() as i32).collect();
        sqlx::query!(
            "insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
             select $1, * from unnest($2::int[], $3::int[], $4::int[])",
            id,
            &mins,
            &maxs as &[Option<i32>],
            &meals,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(id))
}

/// A child of the régie's schools, with what prices its meals.
#[derive(Debug, Clone)]
pub struct ChildRow {
    pub id: i64,
    pub household_id: i64,
    pub school_id: i64,
    pub pai: bool,
}

pub async fn children(conn: &mut PgConnection, regie: i64) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as!(
        ChildRow,
        "select c.id, c.household_id, c.school_id, c.pai
         from child c join school s on s.id = c.school_id where s.regie_id = $1",
        regie
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub struct ChildOfHousehold {
    pub household_id: i64,
    pub pai: bool,
    pub arrangement: Option<String>,
}

/// The child, if it is `household`'s own or the second household's in shared custody.
pub async fn child_of(
    conn: &mut PgConnection,
    household: i64,
    child: i64,
) -> Result<Option<ChildOfHousehold>> {
    Ok(sqlx::query_as!(
        ChildOfHousehold,
        r#"select c.household_id, c.pai, cu.arrangement as "arrangement?"
           from child c left join custody cu on cu.child_id = c.id
           where c.id = $1 and (c.household_id = $2 or cu.other_household_id = $2)"#,
        child,
        household
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// A booking of the range: booked, or cancelled by a closure (a closed day the child was
/// booked on gives a free line).
pub struct BookingRow {
    pub child_id: i64,
    pub service_date: NaiveDate,
    pub booked: bool,
}

pub async fn bookings(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BookingRow>> {
    Ok(sqlx::query_as!(
        BookingRow,
        "select r.child_id, r.service_date, r.booked
         from reservation r
         join child c on c.id = r.child_id
         join school s on s.id = c.school_id
         where s.regie_id = $1 and r.activity = 'canteen' and r.service_date between $2 and $3
           and (r.booked or exists (
               select 1 from reservation_event e
               where e.child_id = r.child_id and e.service_date = r.service_date
                 and e.activity = r.activity and e.source = 'closure'))",
        regie,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Attendance of locked days only: an unlocked day is not recorded yet.
pub struct AttendanceRow {
    pub child_id: i64,
    pub service_date: NaiveDate,
    pub present: bool,
}

pub async fn locked_attendance(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AttendanceRow>> {
    Ok(sqlx::query_as!(
        AttendanceRow,
        "select a.child_id, a.service_date, a.present
         from attendance a
         join attendance_lock l on l.school_id = a.school_id and l.activity = a.activity
                               and l.service_date = a.service_date
         join school s on s.id = a.school_id
         where s.regie_id = $1 and a.activity = 'canteen' and a.service_date between $2 and $3",
        regie,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A day of an accepted absence, numbered within its absence (1 for its first service day),
/// which the carence counts.
pub struct AbsenceDayRow {
    pub child_id: i64,
    pub service_date: NaiveDate,
    pub reason: String,
    pub notice: String,
    pub day_number: i64,
    pub absence_id: i64,
}

pub async fn accepted_absence_days(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AbsenceDayRow>> {
    Ok(sqlx::query_as!(
        AbsenceDayRow,
        r#"select child_id as "child_id!", service_date as "service_date!", reason as "reason!",
                  notice as "notice!", day_number as "day_number!", absence_id as "absence_id!"
           from (
               select ad.child_id, ad.service_date, a.reason, ad.notice, ad.absence_id,
                      row_number() over (partition by ad.absence_id, ad.child_id
                                         order by ad.service_date) as day_number
               from absence a
               join absence_day ad on ad.absence_id = a.id
               join child c on c.id = ad.child_id
               join school s on s.id = c.school_id
               where s.regie_id = $1 and a.status = 'accepted' and a.activity = 'canteen'
                 and a.first_day <= $3 and a.last_day >= $2
           ) numbered
           where service_date between $2 and $3"#,
        regie,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// A closure of one school (`school_id`) or of all (`None`).
pub struct ClosureRow {
    pub school_id: Option<i64>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

pub async fn closures(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ClosureRow>> {
    Ok(sqlx::query_as!(
        ClosureRow,
        "select school_id, first_day, last_day from closure
         where first_day <= $3 and last_day >= $2
           and (school_id is null or school_id in (select id from school where regie_id = $1))",
        regie,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub struct HouseholdRow {
    pub id: i64,
    pub resident: bool,
}

pub async fn households(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<HouseholdRow>> {
    Ok(sqlx::query_as!(
        HouseholdRow,
        "select id, resident from household where id = any($1)",
        ids
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub struct QfRow {
    pub household_id: i64,
    pub amount_euros: i32,
    pub applies_from: NaiveDate,
}

/// The QF history up to `to`, per household by `applies_from` then recording order, so the
/// last row applying on a day is the one recorded last.
pub async fn quotients(
    conn: &mut PgConnection,
    households: &[i64],
    to: NaiveDate,
) -> Result<Vec<QfRow>> {
    Ok(sqlx::query_as!(
        QfRow,
        "select household_id, amount_euros, applies_from from quotient_familial
         where household_id = any($1) and applies_from <= $2
         order by household_id, applies_from, id",
        households,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// What issued invoices billed for a (household, child, day), with the regularisations of
/// the credit notes a run made (a month whose regularisations outweighed its charges): those
/// gave the day back already. `credited`: what finance's credit notes gave back on a line of
/// that day (`credits_line_id`: a contest answered with credit, a credit note by line); the
/// run counts it only when the day is given back, so it is never refunded twice.
pub struct BilledRow {
    pub household_id: i64,
    pub child_id: i64,
    pub service_date: NaiveDate,
    pub amount: i64,
    pub credited: i64,
}

pub async fn billed(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<BilledRow>> {
    Ok(sqlx::query_as!(
        BilledRow,
        r#"select i.household_id, l.child_id as "child_id!", l.service_date as "service_date!",
                  coalesce(sum(l.amount_cents)
                           filter (where i.kind = 'invoice' or i.billing_run_id is not null), 0)::bigint
                      as "amount!",
                  coalesce(sum(l.amount_cents)
                           filter (where i.kind = 'credit_note' and i.billing_run_id is null
                                     and l.credits_line_id is not null), 0)::bigint
                      as "credited!"
           from invoice_line l join invoice i on i.id = l.invoice_id
           where i.regie_id = $1 and i.status = 'issued'
             and l.service_date between $2 and $3 and l.child_id is not null
           group by i.household_id, l.child_id, l.service_date"#,
        regie,
        from,
        to
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// The months of the régie already issued in `[from, before)`.
pub async fn issued_months(
    conn: &mut PgConnection,
    regie: i64,
    from: NaiveDate,
    before: NaiveDate,
) -> Result<Vec<NaiveDate>> {
    Ok(sqlx::query_scalar!(
        "select month from billing_run
         where regie_id = $1 and activity = 'canteen' and status = 'issued'
           and month >= $2 and month < $3 order by month",
        regie,
        from,
        before
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub struct RunRow {
    pub id: i64,
    pub status: String,
}

/// The month's run, created as a draft if there is none, locked until the transaction ends:
/// two runs (or a run and an issue) of the same month take turns.
pub async fn lock_run(
    conn: &mut PgConnection,
    regie: i64,
    month: NaiveDate,
    actor: Option<i64>,
) -> Result<RunRow> {
    sqlx::query!(
        "insert into billing_run (regie_id, month, created_by) values ($1, $2, $3)
         on conflict (regie_id, activity, month) do nothing",
        regie,
        month,
        actor
    )
    .execute(&mut *conn)
    .await?;
    find_run_locked(conn, regie, month)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the run row just made is missing")))
}

pub async fn find_run_locked(
    conn: &mut PgConnection,
    regie: i64,
    month: NaiveDate,
) -> Result<Option<RunRow>> {
    Ok(sqlx::query_as!(
        RunRow,
        "select id, status from billing_run
         where regie_id = $1 and activity = 'canteen' and month = $2 for update",
        regie,
        month
    )
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn find_run(
    conn: &mut PgConnection,
    regie: i64,
    month: NaiveDate,
) -> Result<Option<RunRow>> {
    Ok(sqlx::query_as!(
        RunRow,
        "select id, status from billing_run
         where regie_id = $1 and activity = 'canteen' and month = $2",
        regie,
        month
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Drops the draft's invoices (their lines go with them) and stamps the run as recomputed.
pub async fn clear_draft(conn: &mut PgConnection, run: i64, actor: Option<i64>) -> Result<()> {
    sqlx::query!(
        "delete from invoice where billing_run_id = $1 and status = 'draft'",
        run
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update billing_run set created_at = clock_timestamp(), created_by = $2 where id = $1",
        run,
        actor
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One document of the draft with its lines, ready to insert.
pub struct NewDocument {
    pub household: i64,
    pub credit_note: bool,
    pub amount: i64,
    pub lines: Vec<NewLine>,
}

pub struct NewLine {
    pub child: i64,
    pub date: NaiveDate,
    pub kind: &'static str,
    pub amount: i64,
    pub explanation: String,
}

/// Writes the draft's documents and lines: two statements whatever their number.
pub async fn insert_draft(
    conn: &mut PgConnection,
    regie: i64,
    run: i64,
    month: NaiveDate,
    documents: &[NewDocument],
    actor: Option<i64>,
) -> Result<()> {
    let households: Vec<i64> = documents.iter().map(|d| d.household).collect();
    let kinds: Vec<&str> = documents
        .iter()
        .map(|d| {
            if d.credit_note {
                "credit_note"
            } else {
                "invoice"
            }
        })
        .collect();
    let amounts: Vec<i64> = documents.iter().map(|d| d.amount).collect();
    let reasons: Vec<Option<&str>> = documents
        .iter()
        .map(|d| d.credit_note.then_some("regularisation"))
        .collect();
    let ordinals: Vec<i32> = (0..documents.len() as i32).collect();
    let ids = sqlx::query!(
        r#"insert into invoice (regie_id, household_id, kind, billing_run_id, month, amount_cents,
                                reason, created_by)
           select $1, d.household, d.kind, $2, $3, d.amount, d.reason, $8
           from unnest($4::bigint[], $5::text[], $6::bigint[], $7::text[], $9::int[])
                as d(household, kind, amount, reason, ordinal)
           order by d.ordinal
           returning id, household_id, kind"#,
        regie,
        run,
        month,
        &households,
        &kinds as &[&str],
        &amounts,
        &reasons as &[Option<&str>],
        actor,
        &ordinals,
    )
    .fetch_all(&mut *conn)
    .await?;
    let by_household: HashMap<i64, i64> = ids.iter().map(|r| (r.household_id, r.id)).collect();
    let count: usize = documents.iter().map(|d| d.lines.len()).sum();
    let mut invoice_ids = Vec::with_capacity(count);
    let mut positions = Vec::with_capacity(count);
    let mut children = Vec::with_capacity(count);
    let mut dates = Vec::with_capacity(count);
    let mut line_kinds = Vec::with_capacity(count);
    let mut line_amounts = Vec::with_capacity(count);
    let mut explanations = Vec::with_capacity(count);
    for d in documents {
        let invoice = by_household[&d.household];
        for (position, line) in d.lines.iter().enumerate() {
            invoice_ids.push(invoice);
            positions.push(position as i32 + 1);
            children.push(line.child);
            dates.push(line.date);
            line_kinds.push(line.kind);
            line_amounts.push(line.amount);
            explanations.push(line.explanation.as_str());
        }
    }
    sqlx::query!(
        "insert into invoice_line (invoice_id, position, child_id, service_date, kind, amount_cents,
                                   explanation)
         select l.invoice_id, l.position, l.child_id, l.service_date, l.kind, l.amount,
                l.explanation::jsonb
         from unnest($1::bigint[], $2::int[], $3::bigint[], $4::date[], $5::text[], $6::bigint[],
                     $7::text[])
              as l(invoice_id, position, child_id, service_date, kind, amount, explanation)",
        &invoice_ids,
        &positions,
        &children,
        &dates,
        &line_kinds as &[&str],
        &line_amounts,
        &explanations as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An invoice of a run, as the review lists it.
pub struct SummaryRow {
    pub id: i64,
    pub kind: String,
    pub number: Option<String>,
    pub month: NaiveDate,
    pub regie: String,
    pub household_id: i64,
    pub household_name: String,
    pub amount_cents: i64,
    /// Allocated to it (an invoice: paid by payments and credit notes).
    pub paid_cents: i64,
    /// Allocated from it (a run's credit note: what it has settled).
    pub used_cents: i64,
    /// The issued credit notes correcting it.
    pub credited_cents: i64,
    pub status: String,
    pub issued_at: Option<DateTime<Utc>>,
}

pub async fn run_invoices(conn: &mut PgConnection, run: i64) -> Result<Vec<SummaryRow>> {
    Ok(sqlx::query_as!(
        SummaryRow,
        r#"select i.id, i.kind, i.number, i.month, r.code as regie, i.household_id,
                  coalesce((select string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id)
                            from account a where a.household_id = i.household_id), '')
                      as "household_name!",
                  coalesce((select sum(al.amount_cents) from ledger_entry le
                            join allocation al on al.target_entry_id = le.id
                            where le.invoice_id = i.id), 0)::bigint as "paid_cents!",
                  coalesce((select sum(al.amount_cents) from ledger_entry le
                            join allocation al on al.source_entry_id = le.id
                            where le.invoice_id = i.id), 0)::bigint as "used_cents!",
                  coalesce((select sum(c.amount_cents) from invoice c
                            where c.corrects_invoice_id = i.id and c.status = 'issued'), 0)::bigint
                      as "credited_cents!",
                  i.amount_cents, i.status, i.issued_at
           from invoice i
           join regie r on r.id = i.regie_id
           where i.billing_run_id = $1
           order by 7, i.id"#,
        run
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Each household's signed total for a run (a credit note counts negative).
pub async fn household_totals(
    conn: &mut PgConnection,
    regie: i64,
    month: NaiveDate,
) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query!(
        r#"select i.household_id,
                  sum(case when i.kind = 'credit_note' then -i.amount_cents else i.amount_cents end)::bigint
                      as "total!"
           from invoice i join billing_run b on b.id = i.billing_run_id
           where b.regie_id = $1 and b.month = $2 and b.activity = 'canteen'
           group by i.household_id"#,
        regie,
        month
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.household_id, r.total))
    .collect())
}

pub async fn household_names(
    conn: &mut PgConnection,
    households: &[i64],
) -> Result<HashMap<i64, String>> {
    Ok(sqlx::query!(
        r#"select h.id, coalesce(string_agg(a.first_name || ' ' || a.last_name, ', ' order by a.id), '')
                  as "name!"
           from household h left join account a on a.household_id = h.id
           where h.id = any($1) group by h.id"#,
        households
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}

/// (booked days not recorded, regularisation lines) of a run.
pub async fn run_counts(conn: &mut PgConnection, run: i64) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(distinct (l.child_id, l.service_date))
                      filter (where l.kind = 'booked_not_recorded') as "unrecorded!",
                  count(*) filter (where l.kind = 'regularisation') as "regularisations!"
           from invoice_line l join invoice i on i.id = l.invoice_id
           where i.billing_run_id = $1"#,
        run
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.unrecorded, row.regularisations))
}

/// The draft documents of a run in issuing order: invoices first, then credit notes (every
/// issuer takes the sequences' locks in that order, so two issuers never deadlock).
pub async fn draft_documents(conn: &mut PgConnection, run: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query!(
        "select id, kind from invoice where billing_run_id = $1 and status = 'draft'
         order by kind = 'credit_note', id",
        run
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.kind))
    .collect())
}

pub async fn mark_issued(conn: &mut PgConnection, ids: &[i64], numbers: &[String]) -> Result<()> {
    sqlx::query!(
        "update invoice i set status = 'issued', number = n.number, issued_at = clock_timestamp()
         from unnest($1::bigint[], $2::text[]) as n(id, number) where i.id = n.id",
        ids,
        numbers
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn queue_mails(conn: &mut PgConnection, run: i64) -> Result<()> {
    sqlx::query!(
        "insert into billing_mail (kind, household_id, invoice_id)
         select case when kind = 'credit_note' then 'credit_note_issued' else 'invoice_issued' end,
                household_id, id
         from invoice where billing_run_id = $1 order by id",
        run
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn mark_run_issued(conn: &mut PgConnection, run: i64, actor: Option<i64>) -> Result<()> {
    sqlx::query!(
        "update billing_run set status = 'issued', issued_at = clock_timestamp(), issued_by = $2
         where id = $1",
        run,
        actor
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
