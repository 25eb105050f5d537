//! The demo's last month, billed: its days attended and locked (a few children absent, one
//! illness accepted), one child in shared custody between two households, the month invoiced
//! and issued, most invoices paid, the Martins' left to pay, and one line contested.

use chrono::{Datelike, Months, NaiveDate};
use sqlx::PgPool;

use cantine_domain::ids::{AccountId, HouseholdId};
use cantine_domain::rules::Rules;

use crate::billing::{self, Means, Month, PaymentInput, Reader};

use super::DOMAIN;

/// The régie the demo bills through (migration 0009's default).
const REGIE: &str = "CANT";

/// Bills the month before today once; answers what it did, for the demo's summary.
pub(super) async fn seed(pool: &PgPool, rules: &Rules<'_>) -> anyhow::Result<String> {
    let billed = sqlx::query_scalar!(r#"select exists(select 1 from billing_run) as "exists!""#)
        .fetch_one(pool)
        .await?;
    if billed {
        return Ok("Billing already seeded.".to_owned());
    }
    let today = rules.today();
    let this_month = today.with_day(1).expect("day 1 exists");
    let first = this_month - Months::new(1);
    let booked = sqlx::query_scalar!(
        r#"select count(*) as "n!" from reservation
           where booked and service_date >= $1 and service_date < $2"#,
        first,
        this_month,
    )
    .fetch_one(pool)
    .await?;
    if booked == 0 {
        return Ok(format!(
            "No demo invoices: nothing was booked in {}.",
            first.format("%Y-%m")
        ));
    }
    let agent = sqlx::query_scalar!(
        "select id from account where email = $1",
        format!("agent@{DOMAIN}")
    )
    .fetch_one(pool)
    .await?;

    let mut tx = pool.begin().await?;
    let custody = shared_custody(&mut tx, first).await?;
    let illness = accepted_illness(&mut tx, agent, first, this_month).await?;
    attend_and_lock(&mut tx, agent, first, this_month).await?;
    tx.commit().await?;

    let month = Month(first);
    billing::run(pool, None, REGIE, month).await?;
    let review = billing::issue(pool, None, REGIE, month).await?;

    let martin = household_of(pool, "martin").await?;
    let contested = review
        .invoices
        .iter()
        .find(|i| Some(i.household) != martin && i.amount.get() > 0)
        .map(|i| (i.id, i.household));
    for invoice in &review.invoices {
        let unpaid =
            Some(invoice.household) == martin || Some(invoice.household) == contested.map(|c| c.1);
        if unpaid || invoice.amount.get() == 0 {
            continue;
        }
        billing::record_payment(
            pool,
            None,
            PaymentInput {
                household: invoice.household,
                regie: REGIE.to_owned(),
                amount: invoice.amount,
                means: if invoice.id % 3 == 0 {
                    Means::Cheque
                } else {
                    Means::Card
                },
                reference: format!("démo {}", invoice.number.as_deref().unwrap_or("")),
                received_on: today,
                idempotency_key: format!("demo-{}", invoice.id),
                invoice: Some(invoice.id),
            },
        )
        .await?;
    }

    let mut contest_login: Option<String> = None;
    if let Some((invoice_id, household)) = contested {
        let invoice = billing::invoice(pool, Reader::Household(household), invoice_id).await?;
        let line = invoice
            .lines
            .iter()
            .find(|l| l.kind == cantine_domain::billing::LineKind::NoShow)
            .or_else(|| invoice.lines.first());
        let account = sqlx::query!(
            "select id, email from account where household_id = $1 order by id limit 1",
            household.get()
        )
        .fetch_one(pool)
        .await?;
        if let Some(line) = line {
            billing::contest_line(
                pool,
                household,
                AccountId(account.id),
                line.id,
                "Mon enfant était malade ce jour-là : j'ai déposé le certificat en mairie."
                    .to_owned(),
            )
            .await?;
            contest_login = account.email;
        }
    }

    Ok(format!(
        "{} invoices of {} issued ({} €); famille.martin@{DOMAIN} has one left to pay{}{}{}.",
        review.invoices.len(),
        first.format("%m/%Y"),
        review.total,
        contest_login
            .map(|e| format!(", {e} contested a line"))
            .unwrap_or_default(),
        custody
            .map(|e| format!(", {e} shares a child in alternate weeks"))
            .unwrap_or_default(),
        if illness {
            ", one illness accepted"
        } else {
            ""
        },
    ))
}

async fn household_of(pool: &PgPool, name: &str) -> anyhow::Result<Option<HouseholdId>> {
    Ok(sqlx::query_scalar!(
        "select household_id from account where email = $1",
        format!("famille.{name}@{DOMAIN}")
    )
    .fetch_optional(pool)
    .await?
    .flatten()
    .map(HouseholdId))
}

/// One demo family's parents live apart: the child's second household has its own guardian, login and
/// QF, and has the child every odd ISO week. Answers the second household's login.
async fn shared_custody(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    first_day: NaiveDate,
) -> anyhow::Result<Option<String>> {
    // The first family, after the named ones, with a child booked: a deterministic choice.
    let Some(child) = sqlx::query!(
        "select c.id, c.last_name from child c join account a on a.household_id = c.household_id
         where a.email not in ($1, $2, $3)
           and exists (select 1 from reservation r where r.child_id = c.id and r.booked)
         order by c.id limit 1",
        format!("famille.martin@{DOMAIN}"),
        format!("famille.bernard@{DOMAIN}"),
        format!("famille.petit@{DOMAIN}"),
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let other = sqlx::query_scalar!(
        "insert into household (address_line1, postcode, city) values ('8 rue des Tilleuls', '77100', 'Meaux') returning id"
    )
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into quotient_familial (household_id, amount_euros, applies_from, document)
         values ($1, 1480, $2, 'Attestation CAF')",
        other,
        first_day - Months::new(3),
    )
    .execute(&mut **tx)
    .await?;
    let email = format!("famille.{}.bis@{DOMAIN}", child.last_name.to_lowercase());
    sqlx::query!(
        // The demo's one password: the hash of the Martins' account.
        "insert into account (household_id, email, password_hash, first_name, last_name, email_confirmed_at)
         select $1, $2, password_hash, 'Julien', $4, now() from account where email = $3",
        other,
        email,
        format!("famille.martin@{DOMAIN}"),
        child.last_name,
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into custody (child_id, other_household_id, arrangement, first_has_even_weeks, reference)
         values ($1, $2, 'alternate_weeks', true, 'Jugement du juge aux affaires familiales, 12 juin 2025')",
        child.id,
        other,
    )
    .execute(&mut **tx)
    .await?;
    Ok(Some(email))
}

/// One child of the demo was ill two booked days: accepted, so the carence applies.
async fn accepted_illness(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    agent: i64,
    first: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<bool> {
    let Some(days) = sqlx::query!(
        r#"select r.child_id, c.household_id, array_agg(r.service_date order by r.service_date) as "days!"
           from reservation r join child c on c.id = r.child_id
           where r.booked and r.service_date >= $1 and r.service_date < $2
           group by r.child_id, c.household_id
           order by r.child_id desc limit 1"#,
        first,
        end,
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    let chosen: Vec<NaiveDate> = days.days.iter().skip(3).take(2).copied().collect();
    let (Some(&from), Some(&to)) = (chosen.first(), chosen.last()) else {
        return Ok(false);
    };
    let declared_by = sqlx::query_scalar!(
        "select id from account where household_id = $1 order by id limit 1",
        days.household_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let absence = sqlx::query_scalar!(
        "insert into absence (household_id, first_day, last_day, reason, comment, declared_by,
                              declared_at, status, decided_by, decided_at)
         values ($1, $2, $3, 'illness', 'Gastro-entérite.', $4,
                 ($2::date + time '08:30') at time zone 'Europe/Paris', 'accepted', $5,
                 ($3::date + time '16:00') at time zone 'Europe/Paris')
         returning id",
        days.household_id,
        from,
        to,
        declared_by,
        agent,
    )
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into absence_day (absence_id, child_id, service_date, notice)
         select $1, $2, d, 'same_morning_illness' from unnest($3::date[]) d",
        absence,
        days.child_id,
        &chosen,
    )
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Every booked child of the month's past days marked by the agent, one in seventeen absent
/// (and every declared absence), then each day locked, as the canteen would have done.
async fn attend_and_lock(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    agent: i64,
    first: NaiveDate,
    end: NaiveDate,
) -> anyhow::Result<()> {
    sqlx::query!(
        "with days as (
             select r.child_id, r.service_date, c.school_id,
                    ((r.child_id * 7 + extract(day from r.service_date)::bigint) % 17 = 0
                     or exists (select 1 from absence_day d where d.child_id = r.child_id
                                and d.service_date = r.service_date)) as absent
             from reservation r join child c on c.id = r.child_id
             where r.booked and r.activity = 'canteen'
               and r.service_date >= $1 and r.service_date < $2
               and r.service_date < (now() at time zone 'Europe/Paris')::date),
         marks as (
             insert into attendance_mark (client_id, child_id, school_id, service_date, present,
                                          walk_in, marked_at, marked_by)
             select gen_random_uuid(), child_id, school_id, service_date, not absent, false,
                    (service_date + time '11:45') at time zone 'Europe/Paris', $3
             from days
             returning id, child_id, school_id, service_date, present, walk_in, marked_at)
         insert into attendance (child_id, service_date, school_id, present, walk_in, marked_at, mark_id)
         select child_id, service_date, school_id, present, walk_in, marked_at, id from marks",
        first,
        end,
        agent,
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into attendance_lock (school_id, service_date, locked_by, locked_at)
         select distinct school_id, service_date, $3::bigint,
                (service_date + time '14:00') at time zone 'Europe/Paris'
         from attendance where service_date >= $1 and service_date < $2",
        first,
        end,
        agent,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
