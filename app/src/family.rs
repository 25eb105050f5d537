//! A household's children and their enrollments, always scoped to the household asking: a child
//! of another household is "not found", never "forbidden", so ids reveal nothing.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use sqlx::{PgConnection, PgPool};

use crate::domain::calendar::{Closure, HolidayCalendar, SchoolCalendar, SchoolYearLabel, Zone};
use crate::domain::child::{ClassLevel, Diet};
use crate::domain::deadline::DeadlineRule;
use crate::domain::enrollment::{Enrollment, EnrollmentError, EnrollmentStatus};
use crate::domain::weekdays::WeekdaySet;
use crate::error::{Error, Result};

/// What the calendar and deadline rules need, with the instant they are judged at.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub holidays: &'a HolidayCalendar,
    pub zone: Zone,
    pub deadline: &'a DeadlineRule,
    pub now: DateTime<Utc>,
}

impl<'a> Rules<'a> {
    pub fn from_config(config: &'a crate::config::Config, now: DateTime<Utc>) -> Self {
        Rules {
            holidays: &config.calendar.holidays,
            zone: config.calendar.zone,
            deadline: &config.booking.deadline,
            now,
        }
    }

    /// The booking planner judging at this instant.
    pub fn planner(&self) -> crate::domain::booking::Planner<'a> {
        crate::domain::booking::Planner {
            rule: self.deadline,
            now: self.now,
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&Paris).date_naive()
    }

    /// The school year running today, or the next one during the summer.
    pub fn current_year(&self) -> Result<SchoolYearLabel> {
        let today = self.today();
        self.holidays
            .school_year_containing(today)
            .or_else(|| {
                self.holidays
                    .school_years()
                    .iter()
                    .filter(|y| y.first_day() > today)
                    .min_by_key(|y| y.first_day())
            })
            .map(|y| y.label())
            .ok_or_else(|| {
                Error::Internal(anyhow::anyhow!(
                    "the holiday calendar has no school year for {today}"
                ))
            })
    }
}

pub fn weekdays_to_sql(set: WeekdaySet) -> Vec<i16> {
    set.iter().map(|d| d.number_from_monday() as i16).collect()
}

pub fn weekdays_from_sql(days: &[i16]) -> WeekdaySet {
    WeekdaySet::from_days(days.iter().filter_map(|n| match n {
        1 => Some(chrono::Weekday::Mon),
        2 => Some(chrono::Weekday::Tue),
        3 => Some(chrono::Weekday::Wed),
        4 => Some(chrono::Weekday::Thu),
        5 => Some(chrono::Weekday::Fri),
        6 => Some(chrono::Weekday::Sat),
        7 => Some(chrono::Weekday::Sun),
        _ => None,
    }))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct School {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub service_weekdays: Vec<i16>,
}

pub async fn schools(pool: &PgPool) -> Result<Vec<School>> {
    Ok(
        sqlx::query_as("select id, name, address, service_weekdays from school order by name")
            .fetch_all(pool)
            .await?,
    )
}

/// A child as the family sees it, with this year's enrollment if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Child {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub school_id: i64,
    pub school_name: String,
    pub class_level: String,
    pub diet: String,
    pub allergies: String,
    pub pai: bool,
    pub enrollment_status: Option<String>,
    pub enrollment_weekdays: Option<Vec<i16>>,
    pub enrollment_reason: Option<String>,
}

const CHILD_COLUMNS: &str = "c.id, c.first_name, c.last_name, c.birth_date, c.school_id, s.name as school_name,
    c.class_level, c.diet, c.allergies, c.pai,
    e.status as enrollment_status, e.weekdays as enrollment_weekdays, e.decision_reason as enrollment_reason";

/// The latest enrollment of the year wins: a rejected request followed by a new one shows the new.
const CHILD_FROM: &str = "from child c join school s on s.id = c.school_id
    left join lateral (
        select en.status, en.weekdays, en.decision_reason from enrollment en
        join school_year y on y.id = en.school_year_id
        where en.child_id = c.id and y.label = $2
        order by en.id desc limit 1) e on true";

pub async fn children(pool: &PgPool, household: i64, year: SchoolYearLabel) -> Result<Vec<Child>> {
    Ok(sqlx::query_as(&format!(
        "select {CHILD_COLUMNS} {CHILD_FROM} where c.household_id = $1 order by c.birth_date, c.id"
    ))
    .bind(household)
    .bind(year.to_string())
    .fetch_all(pool)
    .await?)
}

pub async fn child(pool: &PgPool, household: i64, id: i64, year: SchoolYearLabel) -> Result<Child> {
    sqlx::query_as(&format!(
        "select {CHILD_COLUMNS} {CHILD_FROM} where c.household_id = $1 and c.id = $3"
    ))
    .bind(household)
    .bind(year.to_string())
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)
}

#[derive(Debug, Clone)]
pub struct NewChild {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub school_id: i64,
    pub class_level: String,
    pub diet: String,
    pub allergies: String,
    pub pai: bool,
}

fn name(field: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 {
        return Err(Error::validation(format!(
            "Le champ « {field} » est obligatoire (100 caractères au plus)."
        )));
    }
    Ok(value.to_owned())
}

pub async fn create_child(
    pool: &PgPool,
    household: i64,
    today: NaiveDate,
    new: NewChild,
) -> Result<i64> {
    let first_name = name("prénom", &new.first_name)?;
    let last_name = name("nom", &new.last_name)?;
    let level: ClassLevel = new.class_level.parse().map_err(|_| {
        Error::validation("Niveau de classe inconnu (PS, MS, GS, CP, CE1, CE2, CM1 ou CM2).")
    })?;
    let diet: Diet = new
        .diet
        .parse()
        .map_err(|_| Error::validation("Régime inconnu (standard, vegetarian ou no_pork)."))?;
    let age = today.year() - new.birth_date.year();
    if new.birth_date >= today || !(1..=14).contains(&age) {
        return Err(Error::validation(
            "Date de naissance invalide pour un enfant scolarisé.",
        ));
    }
    if new.allergies.chars().count() > 1000 {
        return Err(Error::validation(
            "Le champ « allergies » est trop long (1000 caractères au plus).",
        ));
    }
    let school_exists: bool =
        sqlx::query_scalar("select exists(select 1 from school where id = $1)")
            .bind(new.school_id)
            .fetch_one(pool)
            .await?;
    if !school_exists {
        return Err(Error::validation("École inconnue."));
    }
    Ok(sqlx::query_scalar(
        "insert into child (household_id, first_name, last_name, birth_date, school_id, class_level, diet, allergies, pai)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(household)
    .bind(first_name)
    .bind(last_name)
    .bind(new.birth_date)
    .bind(new.school_id)
    .bind(level.code())
    .bind(diet.code())
    .bind(new.allergies.trim())
    .bind(new.pai)
    .fetch_one(pool)
    .await?)
}

fn enrollment_error(e: EnrollmentError) -> Error {
    Error::Conflict {
        code: e.code(),
        detail: e.to_string(),
    }
}

/// Asks for the canteen for a child; a manager validates or rejects it later.
pub async fn request_enrollment(
    pool: &PgPool,
    household: i64,
    actor: i64,
    child_id: i64,
    year: SchoolYearLabel,
    weekdays: WeekdaySet,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let service: Option<Vec<i16>> = sqlx::query_scalar(
        "select s.service_weekdays from child c join school s on s.id = c.school_id
         where c.id = $1 and c.household_id = $2 for update of c",
    )
    .bind(child_id)
    .bind(household)
    .fetch_optional(&mut *tx)
    .await?;
    let service = service.ok_or(Error::NotFound)?;
    Enrollment::request(year, weekdays, weekdays_from_sql(&service)).map_err(|e| {
        Error::Invalid {
            code: e.code(),
            detail: format!("La cantine ne sert pas ces jours-là : {e}"),
        }
    })?;
    let year_id: Option<i64> = sqlx::query_scalar("select id from school_year where label = $1")
        .bind(year.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    let year_id = year_id.ok_or_else(|| {
        Error::validation(format!(
            "Les inscriptions pour {year} ne sont pas ouvertes."
        ))
    })?;
    let inserted = sqlx::query_scalar(
        "insert into enrollment (child_id, school_year_id, weekdays, requested_by) values ($1, $2, $3, $4) returning id",
    )
    .bind(child_id)
    .bind(year_id)
    .bind(weekdays_to_sql(weekdays))
    .bind(actor)
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("enrollment_one_live") => {
            return Err(Error::conflict(
                "already_enrolled",
                "Une inscription est déjà en cours ou validée pour cet enfant cette année.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(id)
}

/// Builds the calendar of a school for a year: the zone's holidays, public holidays, and the
/// closures that concern the school.
pub async fn school_calendar(
    conn: &mut PgConnection,
    rules: &Rules<'_>,
    school_id: i64,
    year: SchoolYearLabel,
) -> Result<SchoolCalendar> {
    let service: Vec<i16> = sqlx::query_scalar("select service_weekdays from school where id = $1")
        .bind(school_id)
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<(Option<i64>, NaiveDate, NaiveDate, String)> = sqlx::query_as(
        "select school_id, first_day, last_day, reason from closure where school_id is null or school_id = $1",
    )
    .bind(school_id)
    .fetch_all(&mut *conn)
    .await?;
    let closures: Vec<Closure<i64>> = rows
        .into_iter()
        .filter_map(|(school, first, last, reason)| Closure::new(school, first, last, &reason).ok())
        .collect();
    let calendar = SchoolCalendar::for_year(
        rules.holidays,
        year,
        rules.zone,
        weekdays_from_sql(&service),
    )
    .map_err(|e| Error::Internal(anyhow::anyhow!("calendar of school {school_id}: {e}")))?;
    Ok(calendar.with_closures(&school_id, &closures))
}

/// The enrollment of a child for a year as the domain sees it (the latest live one).
pub async fn enrollment(
    conn: &mut PgConnection,
    child_id: i64,
    year: SchoolYearLabel,
) -> Result<Option<(i64, Enrollment)>> {
    let row: Option<(i64, Vec<i16>, String, Option<String>)> = sqlx::query_as(
        "select e.id, e.weekdays, e.status, e.decision_reason from enrollment e
         join school_year y on y.id = e.school_year_id
         where e.child_id = $1 and y.label = $2 order by e.id desc limit 1",
    )
    .bind(child_id)
    .bind(year.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(id, days, status, reason)| {
        let status = EnrollmentStatus::from_code(&status, reason.as_deref())?;
        Some((
            id,
            Enrollment::restore(year, weekdays_from_sql(&days), status),
        ))
    }))
}

/// A manager's decision. Validating books the child's usual weekdays for the rest of the year.
pub async fn decide_enrollment(
    pool: &PgPool,
    rules: &Rules<'_>,
    enrollment_id: i64,
    actor: Option<i64>,
    decision: Decision,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "select e.child_id, c.school_id, y.label from enrollment e
         join child c on c.id = e.child_id join school_year y on y.id = e.school_year_id
         where e.id = $1 for update of e, c",
    )
    .bind(enrollment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (child_id, school_id, label) = row.ok_or(Error::NotFound)?;
    let year: SchoolYearLabel = label
        .parse()
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored school year {label:?}: {e:?}")))?;
    let (_, mut enrollment) = enrollment(&mut tx, child_id, year)
        .await?
        .ok_or(Error::NotFound)?;
    match &decision {
        Decision::Validate => enrollment.validate(),
        Decision::Reject(reason) => enrollment.reject(reason),
    }
    .map_err(enrollment_error)?;
    sqlx::query(
        "update enrollment set status = $2, decision_reason = $3, decided_by = $4, decided_at = now() where id = $1",
    )
    .bind(enrollment_id)
    .bind(enrollment.status().code())
    .bind(match &decision {
        Decision::Reject(reason) => Some(reason.trim().to_owned()),
        Decision::Validate => None,
    })
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    if matches!(decision, Decision::Validate) {
        let calendar = school_calendar(&mut tx, rules, school_id, year).await?;
        crate::reservations::book_usual_days(
            &mut tx,
            rules,
            child_id,
            &calendar,
            &enrollment,
            actor,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub enum Decision {
    Validate,
    Reject(String),
}
