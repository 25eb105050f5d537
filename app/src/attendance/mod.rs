//! Attendance: who actually ate, per school and day, as the canteen agents mark it on a tablet.
//!
//! - The day's list is every child expected (booked and enrolled), plus the walk-ins already
//!   marked, each with what the agent must see at the table: diet, allergens and their
//!   details, the PAI flag, and the allergens of the day's menu that concern the child.
//!   Reading it is a read of health data, audited once per list read.
//! - Marks come in batches, each with the id its device generated: a mark sent again (a retry
//!   after a lost answer, a queue replayed) changes nothing and answers `Duplicate`. Every mark
//!   stays in the history; the current state is the mark made last by the device's clock
//!   (clamped to the server's `now`), so two agents marking the same child agree whatever order
//!   their queues arrive in. Marks are not audit entries: the history (who, when, from which
//!   session) is their evidence, and one entry per synchronised mark would flood the log.
//! - A manager locks a school's day. After that only a manager corrects it, with a reason, and
//!   each such correction is an audit entry. Billing reads [`locked`].

pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use cantine_domain::activity::Activity;
use cantine_domain::booking::BookingError;
use cantine_domain::child::{ClassLevel, Diet};
use cantine_domain::ids::{ChildId, SchoolId};
use cantine_domain::menu::Allergen;
use cantine_domain::roles::{Role, Roles, Scope};

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Conflict, Error, Field, Invalid, Result};
use crate::menus;
use crate::platform::sql::decode;

/// The longest batch a device sends at once (its script sends a longer queue in parts): a
/// hundred marks stay well under the default request body limit of 64 KiB.
pub const MAX_BATCH: usize = 100;
/// The longest correction reason.
pub const MAX_REASON: usize = 300;

/// Who reads or marks.
pub struct Agent<'a> {
    pub actor: &'a Actor,
    pub roles: Roles,
    pub scope: Scope,
}

impl Agent<'_> {
    fn is_manager(&self) -> bool {
        self.roles.contains(Role::Manager)
    }
}

/// One child on the day's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub child: ChildId,
    pub first_name: String,
    pub last_name: String,
    pub class_level: ClassLevel,
    pub diet: Diet,
    pub allergens: Vec<Allergen>,
    /// The free-text details of the allergies.
    pub allergies: String,
    pub pai: bool,
    pub booked: bool,
    /// `None` while not marked.
    pub present: Option<bool>,
    /// Marked while not booked.
    pub walk_in: bool,
    pub marked_at: Option<DateTime<Utc>>,
    /// The allergens of the day's menu the child must not eat.
    pub menu_warnings: Vec<Allergen>,
    /// An absence the family declared for the day, pending or accepted: the agent knows
    /// whom not to wait for (the mark is still the agent's to make).
    pub absence: Option<DeclaredAbsence>,
}

/// Where a family's absence for the day stands (a refused one is not shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclaredAbsence {
    Pending,
    Accepted,
}

impl DeclaredAbsence {
    pub fn code(self) -> &'static str {
        match self {
            DeclaredAbsence::Pending => "pending",
            DeclaredAbsence::Accepted => "accepted",
        }
    }

    fn from_stored(code: Option<&str>) -> Result<Option<Self>> {
        match code {
            None => Ok(None),
            Some("pending") => Ok(Some(DeclaredAbsence::Pending)),
            Some("accepted") => Ok(Some(DeclaredAbsence::Accepted)),
            Some(other) => Err(anyhow::anyhow!("stored absence status {other:?} on a list").into()),
        }
    }
}

/// A manager's lock on a school's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub locked_at: DateTime<Utc>,
    /// The e-mail address of the manager who locked it.
    pub locked_by: String,
}

/// A school's day, as the agents see it.
#[derive(Debug, Clone)]
pub struct DayList {
    pub school: SchoolId,
    pub school_name: String,
    pub date: NaiveDate,
    pub class: Option<ClassLevel>,
    pub children: Vec<Expected>,
    pub lock: Option<Lock>,
    /// Whether a menu was entered for the day (no warning can be given otherwise).
    pub menu_known: bool,
}

impl DayList {
    pub fn waiting(&self) -> usize {
        self.children.iter().filter(|c| c.present.is_none()).count()
    }

    pub fn present(&self) -> usize {
        self.children
            .iter()
            .filter(|c| c.present == Some(true))
            .count()
    }
}

/// The school, when the agent may see it; otherwise it looks unknown.
async fn school_in_scope(pool: &PgPool, agent: &Agent<'_>, school: SchoolId) -> Result<String> {
    if !agent.scope.covers(school) {
        return Err(Error::NotFound);
    }
    store::school_name(pool, school.get())
        .await?
        .ok_or(Error::NotFound)
}

/// The day's list of a school (of one class, if given). Audited as a read of the children's
/// health data.
pub async fn day_list(
    pool: &PgPool,
    agent: &Agent<'_>,
    school: SchoolId,
    date: NaiveDate,
    class: Option<ClassLevel>,
) -> Result<DayList> {
    let school_name = school_in_scope(pool, agent, school).await?;
    let activity = Activity::Canteen;
    let rows = store::day_list(
        pool,
        activity.code(),
        school.get(),
        date,
        class.map(ClassLevel::code),
    )
    .await?;
    let menu = menus::served(pool, activity, &[school], (date, date))
        .await?
        .remove(&(school, date));
    let mut children = Vec::with_capacity(rows.len());
    for row in rows {
        let allergens: Vec<Allergen> = menus::decode_all("child.allergens", &row.allergens)?;
        children.push(Expected {
            child: ChildId(row.id),
            first_name: row.first_name,
            last_name: row.last_name,
            class_level: decode("child.class_level", &row.class_level)?,
            diet: decode("child.diet", &row.diet)?,
            menu_warnings: menu
                .as_ref()
                .map(|m| m.warnings(&allergens))
                .unwrap_or_default(),
            allergens,
            allergies: row.allergies,
            pai: row.pai,
            booked: row.booked,
            present: row.present,
            walk_in: row.walk_in.unwrap_or(false),
            marked_at: row.marked_at,
            absence: DeclaredAbsence::from_stored(row.absence.as_deref())?,
        });
    }
    // One entry per list read, naming the children shown: the data protection officer sees who
    // read whose health data, without one entry per child.
    audit::record_now(
        pool,
        &Entry::new(agent.actor, Action::HealthDataRead).detail(json!({
            "attendance": { "school": school.get(), "date": date, "class": class.map(ClassLevel::code) },
            "children": children.iter().map(|c| c.child.get()).collect::<Vec<_>>(),
        })),
    )
    .await?;
    Ok(DayList {
        school,
        school_name,
        date,
        class,
        children,
        lock: store::lock_of(pool, activity.code(), school.get(), date)
            .await?
            .map(|l| Lock {
                locked_at: l.locked_at,
                locked_by: l.locked_by,
            }),
        menu_known: menu.is_some(),
    })
}

/// An enrolled child a walk-in can be: not booked, not marked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub child: ChildId,
    pub first_name: String,
    pub last_name: String,
    pub class_level: ClassLevel,
}

pub async fn walk_in_candidates(
    pool: &PgPool,
    agent: &Agent<'_>,
    school: SchoolId,
    date: NaiveDate,
    class: Option<ClassLevel>,
) -> Result<Vec<Candidate>> {
    school_in_scope(pool, agent, school).await?;
    store::walk_in_candidates(
        pool,
        Activity::Canteen.code(),
        school.get(),
        date,
        class.map(ClassLevel::code),
    )
    .await?
    .into_iter()
    .map(|r| {
        Ok(Candidate {
            child: ChildId(r.id),
            first_name: r.first_name,
            last_name: r.last_name,
            class_level: decode("child.class_level", &r.class_level)?,
        })
    })
    .collect()
}

/// One mark as a device sends it.
#[derive(Debug, Clone)]
pub struct NewMark {
    pub client_id: Uuid,
    pub child: ChildId,
    pub date: NaiveDate,
    pub present: bool,
    /// When the agent tapped, by the device's clock; `None` for now.
    pub marked_at: Option<DateTime<Utc>>,
    /// Required to correct a locked day.
    pub reason: Option<String>,
}

/// What became of one mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, and now the child's state for the day.
    Applied,
    /// Recorded in the history, but a mark made later holds.
    Superseded,
    /// This client id was recorded before: nothing changed.
    Duplicate,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Superseded => "superseded",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// Records a batch of marks in one transaction: all of them, or (on a refusal) none.
///
/// Refused: a day after today (422), a child out of the agent's schools (404) or not enrolled
/// that year (409 `not_enrolled`), a locked day for anyone but a manager (409
/// `attendance_locked`), a manager's correction of a locked day without a reason (422). A
/// replayed client id is answered `Duplicate` before any of these checks, so a device
/// replaying its queue after the day was locked learns that its marks are in.
pub async fn mark(
    pool: &PgPool,
    agent: &Agent<'_>,
    today: NaiveDate,
    now: DateTime<Utc>,
    marks: &[NewMark],
) -> Result<Vec<Outcome>> {
    if marks.is_empty() || marks.len() > MAX_BATCH {
        return Err(Error::Invalid(Invalid::Request(format!(
            "marks: 1 to {MAX_BATCH}"
        ))));
    }
    let activity = Activity::Canteen;
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(marks.len());
    for m in marks {
        if store::mark_exists(&mut tx, m.client_id).await? {
            outcomes.push(Outcome::Duplicate);
            continue;
        }
        if m.date > today {
            return Err(Error::Invalid(Invalid::AttendanceDay(m.date)));
        }
        let reason = m.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
            return Err(Error::Invalid(Invalid::TooLong {
                field: Field::Reason,
                max: Some(MAX_REASON),
            }));
        }
        let day = store::child_day(&mut tx, activity.code(), m.child.get(), m.date)
            .await?
            .filter(|d| agent.scope.covers(SchoolId(d.school_id)))
            .ok_or(Error::NotFound)?;
        if !day.enrolled {
            return Err(Error::Conflict(Conflict::Booking(
                BookingError::NotEnrolled,
            )));
        }
        store::guard_day(&mut tx, day.school_id, m.date, false).await?;
        let locked = store::lock_of(&mut *tx, activity.code(), day.school_id, m.date)
            .await?
            .is_some();
        if locked {
            if !agent.is_manager() {
                return Err(Error::Conflict(Conflict::AttendanceLocked));
            }
            if reason.is_none() {
                return Err(Error::Invalid(Invalid::Required {
                    field: Field::Reason,
                }));
            }
        }
        let marked_at = m.marked_at.map_or(now, |at| at.min(now));
        let current = store::record_mark(
            &mut tx,
            &store::NewMarkRow {
                client_id: m.client_id,
                activity: activity.code(),
                child: m.child.get(),
                school: day.school_id,
                date: m.date,
                present: m.present,
                walk_in: !day.booked,
                marked_at,
                received_at: now,
                marked_by: agent.actor.account.get(),
                after_lock: locked,
                reason,
            },
        )
        .await?;
        if locked {
            audit::record(
                &mut tx,
                &Entry::new(agent.actor, Action::AttendanceCorrected)
                    .child(m.child)
                    .detail(json!({
                        "school": day.school_id, "date": m.date, "present": m.present,
                        "reason": reason, "client_id": m.client_id,
                    })),
            )
            .await?;
        }
        outcomes.push(if current {
            Outcome::Applied
        } else {
            Outcome::Superseded
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// A lock, and whether this call made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub locked_at: DateTime<Utc>,
    pub newly: bool,
}

/// Locks a school's day (a manager's act, audited with the day's counts). Locking it again
/// changes nothing.
pub async fn lock_day(
    pool: &PgPool,
    agent: &Agent<'_>,
    school: SchoolId,
    date: NaiveDate,
    (today, now): (NaiveDate, DateTime<Utc>),
) -> Result<Locked> {
    school_in_scope(pool, agent, school).await?;
    if date > today {
        return Err(Error::Invalid(Invalid::AttendanceDay(date)));
    }
    let activity = Activity::Canteen;
    let mut tx = pool.begin().await?;
    store::guard_day(&mut tx, school.get(), date, true).await?;
    let inserted = store::insert_lock(
        &mut tx,
        activity.code(),
        school.get(),
        date,
        agent.actor.account.get(),
        now,
    )
    .await?;
    let locked = match inserted {
        Some(at) => {
            let (present, absent) =
                store::day_counts(&mut tx, activity.code(), school.get(), date).await?;
            audit::record(
                &mut tx,
                &Entry::new(agent.actor, Action::AttendanceLocked).detail(json!({
                    "school": school.get(), "date": date, "present": present, "absent": absent,
                })),
            )
            .await?;
            Locked {
                locked_at: at,
                newly: true,
            }
        }
        None => Locked {
            locked_at: store::lock_of(&mut *tx, activity.code(), school.get(), date)
                .await?
                .ok_or_else(|| anyhow::anyhow!("a lock that vanished"))?
                .locked_at,
            newly: false,
        },
    };
    tx.commit().await?;
    Ok(locked)
}

/// A child's final state on a locked day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attended {
    pub child: ChildId,
    pub present: bool,
    pub walk_in: bool,
}

/// A locked day of a school, with every child marked on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedDay {
    pub school: SchoolId,
    pub date: NaiveDate,
    pub locked_at: DateTime<Utc>,
    pub children: Vec<Attended>,
}

/// The locked attendance of the days from..=to, of those schools (`None`: every school):
/// what billing charges. Days not locked yet are absent, never half-read.
pub async fn locked(
    pool: &PgPool,
    activity: Activity,
    schools: Option<&[SchoolId]>,
    days: (NaiveDate, NaiveDate),
) -> Result<Vec<LockedDay>> {
    let ids: Option<Vec<i64>> = schools.map(|s| s.iter().map(|s| s.get()).collect());
    let rows = store::locked(pool, activity.code(), ids.as_deref(), days).await?;
    let mut out: Vec<LockedDay> = Vec::new();
    for row in rows {
        let school = SchoolId(row.school_id);
        let day = match out.last_mut() {
            Some(d) if d.school == school && d.date == row.service_date => d,
            _ => {
                out.push(LockedDay {
                    school,
                    date: row.service_date,
                    locked_at: row.locked_at,
                    children: Vec::new(),
                });
                out.last_mut().expect("just pushed")
            }
        };
        if let (Some(child), Some(present), Some(walk_in)) =
            (row.child_id, row.present, row.walk_in)
        {
            day.children.push(Attended {
                child: ChildId(child),
                present,
                walk_in,
            });
        }
    }
    Ok(out)
}
