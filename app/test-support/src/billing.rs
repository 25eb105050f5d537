//! A small commune to bill: one school (Mon, Tue, Thu, Fri), the 2026-2027 year, a finance
//! agent, households with their QF, children enrolled for the year, bookings, locked
//! attendance, absences, closures and shared custody.
//!
//! Prices, custody and attendance go through their services (`cantine::billing::save_tariff`,
//! `cantine::custody::set`, `cantine::attendance::{mark, lock_day}`), which validate. Rows a
//! service would need a family's session or a mailer for (enrollments, bookings, absences and
//! their decisions, closures) are written as those services leave them, as the demo seeds
//! them, so that a billing test states a month in a few lines.

use cantine::attendance::{self, NewMark};
use cantine::audit::Actor;
use cantine::billing::{self, Month, TariffVersion};
use cantine::custody::{self, NewCustody};
use cantine_domain::calendar::SchoolYearLabel;
use cantine_domain::custody::Arrangement;
use cantine_domain::ids::{AccountId, ChildId, HouseholdId, SchoolId};
use cantine_domain::money::Cents;
use cantine_domain::roles::{Role, Scope};
use cantine_domain::tariff::{Bracket, Pricing, Tariff, UnbookedRule};
use chrono::{Datelike, NaiveDate, Utc, Weekday};
use sqlx::PgPool;
use sqlx::types::Uuid;

use crate::cluster::{self, TestDb};
use crate::time::date;

/// The régie migration 0009 creates, which every school bills through by default.
pub const REGIE: &str = "CANT";
pub const YEAR: &str = "2026-2027";
/// The year's last day: the "today" the attendance service judges marks and locks at, so
/// that every day of the year may be marked.
const LAST_DAY: &str = "2027-07-03";

/// The tests' usual tariff (brackets), whose figures the tests' comments use:
///
/// | QF         | meal   |
/// |------------|--------|
/// | [0, 500)   | 1,50 € |
/// | [500, 900) | 2,90 € |
/// | 900 and up | 4,50 € |
///
/// PAI 1,00 €, non-resident 6,00 €, adult 7,00 €, a walk-in pays 1,00 € more, and the first
/// 2 days of an accepted illness are charged.
pub fn brackets() -> Tariff {
    Tariff {
        pricing: Pricing::Brackets {
            brackets: vec![
                Bracket {
                    qf_min: 0,
                    qf_max: Some(500),
                    meal: Cents(150),
                },
                Bracket {
                    qf_min: 500,
                    qf_max: Some(900),
                    meal: Cents(290),
                },
                Bracket {
                    qf_min: 900,
                    qf_max: None,
                    meal: Cents(450),
                },
            ],
        },
        pai: Cents(100),
        non_resident: Cents(600),
        adult: Cents(700),
        unbooked: UnbookedRule::Surcharge { cents: Cents(100) },
        carence_days: 2,
    }
}

/// `"2026-11"`.
pub fn month(text: &str) -> Month {
    text.parse().expect("YYYY-MM")
}

/// The school's service days (Mon, Tue, Thu, Fri) from `from` to `to`, both included.
pub fn service_days(from: &str, to: &str) -> Vec<NaiveDate> {
    let (mut day, to) = (date(from), date(to));
    let mut days = Vec::new();
    while day <= to {
        if matches!(
            day.weekday(),
            Weekday::Mon | Weekday::Tue | Weekday::Thu | Weekday::Fri
        ) {
            days.push(day);
        }
        day = day.succ_opt().expect("a next day");
    }
    days
}

/// A fresh database with one school, the 2026-2027 year and a finance agent.
pub struct Commune {
    pub db: TestDb,
    pub pool: PgPool,
    pub school: i64,
    /// The finance agent who saves tariffs, marks and locks days, decides and credits.
    pub agent: Actor,
}

impl Commune {
    pub async fn new() -> Commune {
        let db = cluster::database().await;
        let pool = db.pool.clone();
        let school =
            crate::fixtures::school(&pool, "École Jules-Ferry", "1 place de la Mairie").await;
        crate::fixtures::school_year(&pool, YEAR, date("2026-09-01"), date(LAST_DAY)).await;
        let agent_id: i64 = sqlx::query_scalar(
            "insert into account (email, first_name, last_name, email_confirmed_at)
             values ('finances@mairie.test', 'Dominique', 'Finances', now()) returning id",
        )
        .fetch_one(&pool)
        .await
        .expect("the finance agent");
        sqlx::query(
            "insert into account_role (account_id, role) values ($1, 'finance'), ($1, 'manager')",
        )
        .bind(agent_id)
        .execute(&pool)
        .await
        .expect("the agent's roles");
        Commune {
            db,
            pool,
            school,
            agent: Actor {
                account: AccountId(agent_id),
                email: "finances@mairie.test".to_owned(),
                ip: "127.0.0.1".to_owned(),
            },
        }
    }

    /// A version of the year's tariff from `applies_from`.
    pub async fn tariff(&self, applies_from: &str, tariff: Tariff) -> TariffVersion {
        billing::save_tariff(
            &self.pool,
            &self.agent,
            YEAR.parse::<SchoolYearLabel>().expect("a year label"),
            date(applies_from),
            tariff,
        )
        .await
        .expect("save the tariff")
    }

    /// Another school, billed through a new régie `code`: answers the school.
    pub async fn school_of_new_regie(&self, code: &str, school_name: &str) -> i64 {
        let regie: i64 =
            sqlx::query_scalar("insert into regie (code, name) values ($1, $2) returning id")
                .bind(code)
                .bind(format!("Régie {code}"))
                .fetch_one(&self.pool)
                .await
                .expect("a régie");
        let school = crate::fixtures::school(&self.pool, school_name, "2 rue de l'École").await;
        sqlx::query("update school set regie_id = $2 where id = $1")
            .bind(school)
            .bind(regie)
            .execute(&self.pool)
            .await
            .expect("the school's régie");
        school
    }

    /// A resident household with one confirmed guardian, Camille `<name>`, and its QF from
    /// the start of the year (`None`: no QF on file).
    pub async fn household(&self, name: &str, qf: Option<u32>) -> HouseholdId {
        let household = crate::fixtures::household(&self.pool).await;
        sqlx::query(
            "insert into account (household_id, email, first_name, last_name, email_confirmed_at)
             values ($1, $2, 'Camille', $3, now())",
        )
        .bind(household)
        .bind(format!("{}@example.test", name.to_lowercase()))
        .bind(name)
        .execute(&self.pool)
        .await
        .expect("a guardian");
        if let Some(qf) = qf {
            self.qf(HouseholdId(household), qf, "2026-09-01").await;
        }
        HouseholdId(household)
    }

    /// A QF value from `applies_from`.
    pub async fn qf(&self, household: HouseholdId, euros: u32, applies_from: &str) {
        sqlx::query(
            "insert into quotient_familial (household_id, amount_euros, applies_from, document)
             values ($1, $2, $3, 'Attestation CAF')",
        )
        .bind(household.get())
        .bind(euros as i32)
        .bind(date(applies_from))
        .execute(&self.pool)
        .await
        .expect("a QF");
    }

    pub async fn non_resident(&self, household: HouseholdId) {
        sqlx::query("update household set resident = false where id = $1")
            .bind(household.get())
            .execute(&self.pool)
            .await
            .expect("non-resident");
    }

    /// A child of the household at the commune's school, enrolled for the year (validated).
    pub async fn child(&self, household: HouseholdId, first_name: &str, pai: bool) -> ChildId {
        self.child_at(household, self.school, first_name, pai).await
    }

    pub async fn child_at(
        &self,
        household: HouseholdId,
        school: i64,
        first_name: &str,
        pai: bool,
    ) -> ChildId {
        let child: i64 = sqlx::query_scalar(
            "insert into child (household_id, first_name, last_name, birth_date, school_id,
                                class_level, pai)
             values ($1, $2, 'Enfant', '2019-03-14', $3, 'CE1', $4) returning id",
        )
        .bind(household.get())
        .bind(first_name)
        .bind(school)
        .bind(pai)
        .fetch_one(&self.pool)
        .await
        .expect("a child");
        sqlx::query(
            "insert into enrollment (child_id, school_year_id, weekdays, status, decided_by, decided_at)
             select $1, id, '{1,2,4,5}', 'validated', $2, now() from school_year where label = $3",
        )
        .bind(child)
        .bind(self.agent.account.get())
        .bind(YEAR)
        .execute(&self.pool)
        .await
        .expect("an enrollment");
        ChildId(child)
    }

    /// Books the child on the days.
    pub async fn book(&self, child: ChildId, days: &[NaiveDate]) {
        self.set_booked(child, days, true, "parent").await;
    }

    /// Cancels the child's bookings of the days, as the family would.
    pub async fn cancel(&self, child: ChildId, days: &[NaiveDate]) {
        self.set_booked(child, days, false, "parent").await;
    }

    async fn set_booked(&self, child: ChildId, days: &[NaiveDate], booked: bool, source: &str) {
        sqlx::query(
            "with changed as (
                 insert into reservation (child_id, service_date, booked)
                 select $1, d, $3 from unnest($2::date[]) d
                 on conflict (child_id, activity, service_date) do update set booked = excluded.booked
                 returning service_date)
             insert into reservation_event (child_id, service_date, old_booked, new_booked, source,
                                            actor_account_id)
             select $1, service_date, not $3, $3, $4, $5 from changed",
        )
        .bind(child.get())
        .bind(days)
        .bind(booked)
        .bind(source)
        .bind(self.agent.account.get())
        .execute(&self.pool)
        .await
        .expect("bookings");
    }

    /// The agent as the attendance service sees them: a manager, for the whole commune (a
    /// manager may correct a locked day, with a reason).
    fn attendance_agent(&self) -> attendance::Agent<'_> {
        attendance::Agent {
            actor: &self.agent,
            roles: [Role::Manager, Role::Finance].into_iter().collect(),
            scope: Scope::Commune,
        }
    }

    /// Marks the child present or absent on the day through the attendance service, as the
    /// canteen's tablet does (the last mark holds; a locked day is corrected as a manager
    /// does, with a reason). Billing reads it once the day is locked.
    pub async fn attend(&self, child: ChildId, day: NaiveDate, present: bool) {
        attendance::mark(
            &self.pool,
            &self.attendance_agent(),
            date(LAST_DAY),
            Utc::now(),
            &[NewMark {
                client_id: Uuid::new_v4(),
                child,
                date: day,
                present,
                marked_at: None,
                reason: Some("Correction du pointage".to_owned()),
            }],
        )
        .await
        .expect("an attendance mark");
    }

    /// Marks each child present on every day it is booked of `days`.
    pub async fn attend_booked(&self, children: &[ChildId], days: &[NaiveDate]) {
        let ids: Vec<i64> = children.iter().map(|c| c.get()).collect();
        let booked: Vec<(i64, NaiveDate)> = sqlx::query_as(
            "select child_id, service_date from reservation
             where booked and child_id = any($1) and service_date = any($2)",
        )
        .bind(&ids)
        .bind(days)
        .fetch_all(&self.pool)
        .await
        .expect("bookings");
        for (child, day) in booked {
            self.attend(ChildId(child), day, true).await;
        }
    }

    /// Locks the days of every school through the attendance service: their attendance is
    /// final and billed.
    pub async fn lock(&self, days: &[NaiveDate]) {
        let schools: Vec<i64> = sqlx::query_scalar("select id from school order by id")
            .fetch_all(&self.pool)
            .await
            .expect("the schools");
        for school in schools {
            for day in days {
                attendance::lock_day(
                    &self.pool,
                    &self.attendance_agent(),
                    SchoolId(school),
                    *day,
                    (date(LAST_DAY), Utc::now()),
                )
                .await
                .expect("lock a day");
            }
        }
    }

    /// An absence of the child over `days` (its service days), declared by the household's
    /// guardian with `notice` (`before_deadline`, `same_morning_illness`, `late`), for
    /// `reason` (`illness`, `other`), in `status` (`pending`, `accepted`, `refused`).
    pub async fn absence(
        &self,
        household: HouseholdId,
        child: ChildId,
        days: &[NaiveDate],
        (reason, notice, status): (&str, &str, &str),
    ) -> i64 {
        let (first, last) = (days[0], *days.last().expect("a day"));
        let absence: i64 = sqlx::query_scalar(
            "insert into absence (household_id, first_day, last_day, reason, declared_by, status,
                                  decided_by, decided_at, decision_reason)
             values ($1, $2, $3, $4,
                     (select id from account where household_id = $1 order by id limit 1),
                     $5, case when $5 <> 'pending' then $6::bigint end,
                     case when $5 <> 'pending' then now() end,
                     case when $5 = 'refused' then 'Pas de justificatif' end)
             returning id",
        )
        .bind(household.get())
        .bind(first)
        .bind(last)
        .bind(reason)
        .bind(status)
        .bind(self.agent.account.get())
        .fetch_one(&self.pool)
        .await
        .expect("an absence");
        sqlx::query(
            "insert into absence_day (absence_id, child_id, service_date, notice)
             select $1, $2, d, $4 from unnest($3::date[]) d",
        )
        .bind(absence)
        .bind(child.get())
        .bind(days)
        .bind(notice)
        .execute(&self.pool)
        .await
        .expect("absence days");
        absence
    }

    /// Closes every school from `first` to `last` (a strike). With `cancel`, the bookings of
    /// those days are cancelled as the closure service cancels them; without, they stay.
    pub async fn closure(&self, first: &str, last: &str, cancel: bool) {
        sqlx::query(
            "insert into closure (first_day, last_day, reason, created_by) values ($1, $2, 'Grève', $3)",
        )
        .bind(date(first))
        .bind(date(last))
        .bind(self.agent.account.get())
        .execute(&self.pool)
        .await
        .expect("a closure");
        if cancel {
            sqlx::query(
                "with cancelled as (
                     update reservation set booked = false
                     where booked and service_date between $1 and $2
                     returning child_id, service_date)
                 insert into reservation_event (child_id, service_date, old_booked, new_booked,
                                                source, actor_account_id, reason)
                 select child_id, service_date, true, false, 'closure', $3, 'Grève' from cancelled",
            )
            .bind(date(first))
            .bind(date(last))
            .bind(self.agent.account.get())
            .execute(&self.pool)
            .await
            .expect("bookings cancelled by the closure");
        }
    }

    /// Shares the child with `other` under `arrangement`, through the custody service.
    pub async fn custody(&self, child: ChildId, other: HouseholdId, arrangement: Arrangement) {
        custody::set(
            &self.pool,
            &self.agent,
            child,
            NewCustody {
                other_household: other,
                arrangement,
                reference: "Jugement du JAF du 3 mars 2026".to_owned(),
            },
        )
        .await
        .expect("set the custody");
    }
}

/// The document of the household in a run's review (a run gives each household one).
pub fn document_of(
    review: &billing::RunReview,
    household: HouseholdId,
) -> &billing::InvoiceSummary {
    review
        .invoices
        .iter()
        .find(|i| i.household == household)
        .unwrap_or_else(|| panic!("no document for household {household:?}"))
}

/// A line as tests compare it: (child, day, kind, cents).
pub type Line = (
    Option<ChildId>,
    Option<NaiveDate>,
    cantine_domain::billing::LineKind,
    i64,
);

/// The document's lines in order, read as staff do.
pub async fn lines(pool: &PgPool, document: i64) -> Vec<billing::InvoiceLine> {
    billing::invoice(pool, billing::Reader::Staff, document)
        .await
        .expect("read the document")
        .lines
}

/// The document's lines as (child, day, kind, cents).
pub async fn line_facts(pool: &PgPool, document: i64) -> Vec<Line> {
    lines(pool, document)
        .await
        .into_iter()
        .map(|l| (l.child.map(|c| c.id), l.date, l.kind, l.amount.get()))
        .collect()
}
