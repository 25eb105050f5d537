//! Absences: a family declares that its children will miss (or missed) the canteen, for
//! illness or another reason, with an optional certificate; a manager accepts or refuses with
//! a reason, and the family is told.
//!
//! A declaration is refused only when it makes no sense (another household's child, no
//! service day of the child's school in the range, a range outside one school year or
//! starting more than 30 days ago). A late one is accepted: each day records its
//! [`Notice`](cantine_domain::absence::Notice) (before the booking deadline, an illness
//! declared the same morning before noon, or late), and whether the day is charged is the
//! billing rule's decision on that fact. Bookings are left as they are for the same reason.
//!
//! Certificates are checked whole before anything is written (size, then the type from the
//! first bytes), stored as files under `<data_dir>/certificates/` (see [`files`]) and
//! described by a `certificate` row written in the same transaction as the absence that uses
//! it. A family reads only its own household's; a manager reads any, and each such read is an
//! audit entry committed before the file is answered.

pub mod files;
mod preview;
mod store;

use cantine_domain::absence::{self, CertificateType, Reason, Status};
use cantine_domain::activity::Activity;
use cantine_domain::ids::{AbsenceId, AccountId, ChildId, HouseholdId};
use cantine_domain::rules::Rules;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Conflict, Error, Invalid, Result};
use crate::platform::mail::{Mail, Mailer};

pub use files::CertificateFiles;
pub use preview::{Preview, PreviewDay, preview};
pub use store::AbsenceRow;

/// The only activity with absences today; see `cantine_domain::activity`.
const ACTIVITY: Activity = Activity::Canteen;

/// The most children one declaration covers: a large family, as for weekly patterns.
pub const MAX_CHILDREN: usize = 10;

/// What a family declares.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub children: Vec<ChildId>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: Reason,
    pub comment: String,
}

/// The absence mails, worded by the HTTP edge.
pub trait AbsenceMails: Send + Sync {
    /// `children` are first names; `refused_for` is the manager's reason of a refusal.
    fn absence_decided(
        &self,
        to: &str,
        children: &[String],
        days: (NaiveDate, NaiveDate),
        refused_for: Option<&str>,
    ) -> Mail;
}

/// A certificate as answered to a reader.
#[derive(Debug)]
pub struct CertificateFile {
    pub bytes: Vec<u8>,
    pub kind: CertificateType,
    pub absence: AbsenceId,
}

/// A certificate checked and written to its file, its row not yet recorded.
struct Written {
    key: uuid::Uuid,
    kind: CertificateType,
    size: i32,
    sha256: Vec<u8>,
}

/// Checks the bytes (nothing is written when they are refused), then writes the file.
async fn write_certificate(files: &CertificateFiles, bytes: Vec<u8>) -> Result<Written> {
    let kind =
        absence::check_certificate(&bytes).map_err(|p| Error::Invalid(Invalid::Certificate(p)))?;
    let size = i32::try_from(bytes.len()).map_err(|e| anyhow::anyhow!("certificate size: {e}"))?;
    let sha256 = Sha256::digest(&bytes).to_vec();
    let key = files.write(bytes).await?;
    Ok(Written {
        key,
        kind,
        size,
        sha256,
    })
}

/// Runs `record` with the certificate's row; if it fails, the file is removed again, so that
/// a refused declaration leaves neither row nor file.
async fn with_certificate<T>(
    files: &CertificateFiles,
    written: Option<&Written>,
    record: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let result = record.await;
    if result.is_err()
        && let Some(w) = written
    {
        files.remove_orphan(w.key).await;
    }
    result
}

fn checked(declaration: &Declaration, today: NaiveDate) -> Result<(Vec<ChildId>, String)> {
    if declaration.children.is_empty() || declaration.children.len() > MAX_CHILDREN {
        return Err(Error::Invalid(Invalid::ChildrenCount { max: MAX_CHILDREN }));
    }
    absence::check_range(declaration.first_day, declaration.last_day, today)
        .map_err(Error::absence)?;
    let comment = declaration.comment.trim();
    if comment.chars().count() > absence::MAX_COMMENT_CHARS {
        return Err(Error::absence(absence::AbsenceError::CommentTooLong));
    }
    let mut children = declaration.children.clone();
    children.sort_unstable();
    children.dedup();
    Ok((children, comment.to_owned()))
}

/// A child's service days in a declaration, each with its notice, as `declare` records them.
#[derive(Debug, Clone)]
pub struct PlannedChild {
    pub child: ChildId,
    pub first_name: String,
    pub days: Vec<(NaiveDate, absence::Notice)>,
}

/// The days a declaration covers for each child (under a shared custody, this household's
/// days only), judged at `rules.now`, with the refusals `declare` gives; nothing is written.
pub async fn planned_days(
    pool: &PgPool,
    rules: &Rules<'_>,
    household: HouseholdId,
    declaration: &Declaration,
) -> Result<Vec<PlannedChild>> {
    let (children, _) = checked(declaration, rules.today())?;
    let (first, last) = (declaration.first_day, declaration.last_day);
    let year = match (rules.year_of(first), rules.year_of(last)) {
        (Some(a), Some(b)) if a == b => a,
        _ => return Err(Error::absence(absence::AbsenceError::OutsideSchoolYear)),
    };
    let mut conn = pool.acquire().await?;
    let mut planned = Vec::new();
    for &child in &children {
        let (school, first_name) = store::school_of(&mut conn, household, child)
            .await?
            .ok_or(Error::NotFound)?;
        let calendar = crate::calendar::school_calendar(&mut conn, rules, school, year).await?;
        let mut child_days = absence::days_for_child(
            &calendar,
            (first, last),
            declaration.reason,
            rules.now,
            rules.deadline,
        )
        .map_err(Error::absence)?;
        // Under a shared custody each household declares the absences of its own days.
        if let Some(holding) = crate::custody::holding(&mut conn, household, child).await?
            && holding.arrangement.is_some()
        {
            child_days.retain(|(d, _)| holding.books(*d));
            if child_days.is_empty() {
                return Err(Error::Conflict(Conflict::OtherHouseholdsDays {
                    child: first_name,
                }));
            }
        }
        planned.push(PlannedChild {
            child,
            first_name,
            days: child_days,
        });
    }
    Ok(planned)
}

/// A family declares an absence for children of its household, with an optional certificate.
/// All or nothing: one child that is not the household's (404) or has no service day in the
/// range (422) refuses the whole declaration.
pub async fn declare(
    pool: &PgPool,
    files: &CertificateFiles,
    rules: &Rules<'_>,
    (household, actor): (HouseholdId, AccountId),
    declaration: &Declaration,
    certificate: Option<Vec<u8>>,
) -> Result<AbsenceId> {
    let (children, comment) = checked(declaration, rules.today())?;
    let (first, last) = (declaration.first_day, declaration.last_day);
    let now = rules.now;
    // The days first: a declaration that makes no sense writes no file.
    let days: Vec<(ChildId, Vec<(NaiveDate, absence::Notice)>)> =
        planned_days(pool, rules, household, declaration)
            .await?
            .into_iter()
            .map(|p| (p.child, p.days))
            .collect();
    let written = match certificate {
        Some(bytes) => Some(write_certificate(files, bytes).await?),
        None => None,
    };
    let record = async {
        let mut tx = pool.begin().await?;
        let certificate = match &written {
            Some(w) => Some(
                store::insert_certificate(
                    &mut tx, household, w.key, w.kind, w.size, &w.sha256, actor,
                )
                .await?,
            ),
            None => None,
        };
        let new = store::NewAbsence {
            household,
            first_day: first,
            last_day: last,
            reason: declaration.reason,
            comment: &comment,
            declared_by: actor,
            declared_at: now,
            certificate,
        };
        let id = store::insert_absence(&mut tx, ACTIVITY, &new).await?;
        for (child, child_days) in &days {
            store::insert_days(&mut tx, id, *child, child_days).await?;
        }
        tx.commit().await?;
        Ok(id)
    };
    let id = with_certificate(files, written.as_ref(), record).await?;
    tracing::info!(
        absence = id.get(),
        children = children.len(),
        "absence declared"
    );
    Ok(id)
}

/// A family attaches a certificate to one of its pending absences (a later one replaces the
/// earlier, whose row and file are kept). Another household's absence is "not found".
pub async fn attach_certificate(
    pool: &PgPool,
    files: &CertificateFiles,
    (household, actor): (HouseholdId, AccountId),
    id: AbsenceId,
    bytes: Vec<u8>,
) -> Result<()> {
    // Judged before the file is checked: a decided absence takes no certificate, whatever it is.
    let status = store::status_for_household(pool, household, id)
        .await?
        .ok_or(Error::NotFound)?;
    if status != Status::Pending {
        return Err(Error::absence(absence::AbsenceError::AlreadyDecided));
    }
    let written = write_certificate(files, bytes).await?;
    let record = async {
        let mut tx = pool.begin().await?;
        let status = store::lock_for_household(&mut tx, household, id)
            .await?
            .ok_or(Error::NotFound)?;
        if status != Status::Pending {
            return Err(Error::absence(absence::AbsenceError::AlreadyDecided));
        }
        let certificate = store::insert_certificate(
            &mut tx,
            household,
            written.key,
            written.kind,
            written.size,
            &written.sha256,
            actor,
        )
        .await?;
        store::set_certificate(&mut tx, id, certificate).await?;
        tx.commit().await?;
        Ok(())
    };
    with_certificate(files, Some(&written), record).await
}

/// The household's absences, newest first.
pub async fn for_household(pool: &PgPool, household: HouseholdId) -> Result<Vec<AbsenceRow>> {
    store::list(pool, ACTIVITY, Some(household), false).await
}

/// One of the household's absences; another household's is "not found".
pub async fn one_for_household(
    pool: &PgPool,
    household: HouseholdId,
    id: AbsenceId,
) -> Result<AbsenceRow> {
    store::one(pool, Some(household), id)
        .await?
        .ok_or(Error::NotFound)
}

/// The declarations waiting for a manager, oldest first.
pub async fn pending(pool: &PgPool) -> Result<Vec<AbsenceRow>> {
    store::list(pool, ACTIVITY, None, true).await
}

/// A manager's decision, audited in its transaction; then the family's mail (to its guardians
/// with an address). The decision stands even if the mail cannot go: the failure is logged.
pub async fn decide_and_tell(
    pool: &PgPool,
    mailer: &Mailer,
    mails: &dyn AbsenceMails,
    actor: &Actor,
    (id, now): (AbsenceId, DateTime<Utc>),
    accept: bool,
    reason: Option<&str>,
) -> Result<AbsenceRow> {
    let mut tx = pool.begin().await?;
    let (household, current) = store::lock_for_decision(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let status = absence::decide(&current, accept, reason).map_err(Error::absence)?;
    let reason = match &status {
        Status::Refused { reason } => Some(reason.as_str()),
        _ => None,
    };
    store::record_decision(&mut tx, id, &status, actor.account, now).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::AbsenceDecided)
            .household(household)
            .detail(serde_json::json!({
                "absence_id": id.get(), "status": status.code(), "reason": reason,
            })),
    )
    .await?;
    let addresses = store::addresses(&mut tx, household).await?;
    tx.commit().await?;
    let decided = store::one(pool, None, id).await?.ok_or(Error::NotFound)?;
    if !addresses.is_empty() {
        let children: Vec<String> = decided
            .children
            .iter()
            .map(|c| c.first_name.clone())
            .collect();
        let mail = mails.absence_decided(
            &addresses.join(", "),
            &children,
            (decided.first_day, decided.last_day),
            reason,
        );
        mailer.send_logged(mail).await;
    }
    Ok(decided)
}

/// The certificate of one of the household's absences. Another household's, or an absence
/// without one, is "not found", so that a family learns nothing of others.
pub async fn certificate_for_family(
    pool: &PgPool,
    files: &CertificateFiles,
    household: HouseholdId,
    id: AbsenceId,
) -> Result<CertificateFile> {
    let stored = store::certificate_of(pool, Some(household), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(CertificateFile {
        bytes: files.read(stored.key).await?,
        kind: stored.kind,
        absence: id,
    })
}

/// A staff member reads an absence's certificate: the read is recorded in the audit log, and
/// committed, before the file is answered.
pub async fn certificate_for_staff(
    pool: &PgPool,
    files: &CertificateFiles,
    actor: &Actor,
    id: AbsenceId,
) -> Result<CertificateFile> {
    let stored = store::certificate_of(pool, None, id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = files.read(stored.key).await?;
    audit::record_now(
        pool,
        &Entry::new(actor, Action::CertificateRead)
            .household(stored.household)
            .detail(serde_json::json!({
                "absence_id": id.get(), "certificate_id": stored.id,
                "sha256": stored.sha256_hex,
            })),
    )
    .await?;
    Ok(CertificateFile {
        bytes,
        kind: stored.kind,
        absence: id,
    })
}
