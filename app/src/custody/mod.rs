//! Shared custody: a child of separated parents belongs to two households. The child's own
//! household (`child.household_id`) is the first; the arrangement a manager records names the
//! second and says which of them books (and pays) each day: `cantine_domain::custody`.
//!
//! This capability records the arrangement (with its audit entry, in one transaction) and
//! answers how a household holds a child ([`Holding`]): the pages, the booking path and the
//! absences ask it, so that the second household sees the child and each household changes
//! only its own days. Billing reads the same rows for itself.

mod store;

use cantine_domain::ids::{ChildId, HouseholdId, SchoolId};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

pub use cantine_domain::custody::{Arrangement, CustodyError, Range, Side};

use crate::audit::{self, Action, Actor, Entry};
use crate::error::{Error, Field, Invalid, Result};

/// The most ranges one arrangement holds: a school year of alternating fortnights is 20.
pub const MAX_RANGES: usize = 100;
/// The judgement or agreement named, as long as a document's reference elsewhere.
pub const MAX_REFERENCE_CHARS: usize = 200;

/// A child's arrangement as recorded.
#[derive(Debug, Clone)]
pub struct Custody {
    pub child: ChildId,
    pub first_household: HouseholdId,
    pub other_household: HouseholdId,
    pub arrangement: Arrangement,
    pub reference: String,
    /// The e-mail of the staff member who last set it.
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How a household holds a child: its side, and the arrangement when the custody is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub side: Side,
    pub arrangement: Option<Arrangement>,
}

impl Holding {
    /// Whether this household books (and cancels) that day: every day for a child that is not
    /// shared, its own days under the arrangement otherwise.
    pub fn books(&self, date: NaiveDate) -> bool {
        self.arrangement
            .as_ref()
            .is_none_or(|a| a.books(self.side, date))
    }

    /// The second household: it sees the child and books its days, but the child's record
    /// and enrollment stay with the first.
    pub fn is_second(&self) -> bool {
        self.side == Side::Second
    }
}

/// A child another household holds as its first, seen from the second household's page.
#[derive(Debug, Clone)]
pub struct SharedChild {
    pub child: ChildId,
    pub name: String,
    pub school: SchoolId,
    pub first_household: HouseholdId,
}

/// How `household` holds `child`, inside the caller's transaction; `None` when the child is
/// neither its own nor shared with it (which callers answer as "not found").
pub async fn holding(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<Holding>> {
    store::holding(conn, household, child).await
}

/// The arrangements of those children that have one, with their second household, read in
/// one query inside the caller's transaction: billing judges a whole month with them.
pub async fn arrangements(
    conn: &mut PgConnection,
    children: &[ChildId],
) -> Result<std::collections::HashMap<ChildId, (HouseholdId, Arrangement)>> {
    let ids: Vec<i64> = children.iter().map(|c| c.get()).collect();
    Ok(store::arrangements(conn, &ids)
        .await?
        .into_iter()
        .map(|(child, other, arrangement)| (child, (other, arrangement)))
        .collect())
}

/// [`holding`], for a read outside any transaction.
pub async fn holding_of(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<Holding>> {
    let mut conn = pool.acquire().await?;
    store::holding(&mut conn, household, child).await
}

/// Which side `household` is for `child`: `First` for its own child (shared or not),
/// `Second` for a child shared with it, `None` otherwise.
pub async fn side_of(
    pool: &PgPool,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<Side>> {
    Ok(holding_of(pool, household, child).await?.map(|h| h.side))
}

/// The child's arrangement, if any (staff pages and API).
pub async fn get(pool: &PgPool, child: ChildId) -> Result<Option<Custody>> {
    let mut conn = pool.acquire().await?;
    store::load(&mut conn, child).await
}

/// The children shared with `household` as their second household.
pub async fn shared_with(pool: &PgPool, household: HouseholdId) -> Result<Vec<SharedChild>> {
    store::shared_with(pool, household).await
}

/// What a manager records.
#[derive(Debug, Clone)]
pub struct NewCustody {
    pub other_household: HouseholdId,
    pub arrangement: Arrangement,
    /// The judgement or agreement it comes from ("Jugement du JAF de Lyon du 3 mars 2026").
    pub reference: String,
}

fn checked(new: &NewCustody) -> Result<String> {
    let reference = new.reference.trim();
    if reference.is_empty() {
        return Err(Error::Invalid(Invalid::Required {
            field: Field::Document,
        }));
    }
    if reference.chars().count() > MAX_REFERENCE_CHARS {
        return Err(Error::Invalid(Invalid::TooLong {
            field: Field::Document,
            max: Some(MAX_REFERENCE_CHARS),
        }));
    }
    if let Arrangement::Ranges { second } = &new.arrangement
        && !(1..=MAX_RANGES).contains(&second.len())
    {
        return Err(Error::Invalid(Invalid::RangeCount { max: MAX_RANGES }));
    }
    new.arrangement
        .validate()
        .map_err(|e| Error::Invalid(Invalid::Custody(e)))?;
    Ok(reference.to_owned())
}

/// Sets or replaces a child's arrangement, with its audit entry, in one transaction. The
/// child's row is locked first, as the booking path locks it: a booking in flight is judged
/// under the old arrangement or the new one, never half of each.
pub async fn set(pool: &PgPool, actor: &Actor, child: ChildId, new: NewCustody) -> Result<Custody> {
    let reference = checked(&new)?;
    let mut tx = pool.begin().await?;
    let first = store::lock_child(&mut tx, child)
        .await?
        .ok_or(Error::NotFound)?;
    if first == new.other_household {
        return Err(Error::Invalid(Invalid::OtherHousehold));
    }
    let before = store::load(&mut tx, child).await?;
    store::upsert(
        &mut tx,
        child,
        new.other_household,
        &new.arrangement,
        &reference,
        actor.account,
    )
    .await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::CustodySet)
            .household(first)
            .child(child)
            .detail(serde_json::json!({
                "other_household_id": new.other_household.get(),
                "arrangement": new.arrangement,
                "reference": reference,
                "replaced": before.map(|b| serde_json::json!({
                    "other_household_id": b.other_household.get(),
                    "arrangement": b.arrangement,
                    "reference": b.reference,
                })),
            })),
    )
    .await?;
    let stored = store::load(&mut tx, child)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("custody of {child:?} not stored")))?;
    tx.commit().await?;
    Ok(stored)
}

/// Removes a child's arrangement (the child stays its own household's alone), with its audit
/// entry; a child without one is "not found".
pub async fn remove(pool: &PgPool, actor: &Actor, child: ChildId) -> Result<()> {
    let mut tx = pool.begin().await?;
    let first = store::lock_child(&mut tx, child)
        .await?
        .ok_or(Error::NotFound)?;
    let before = store::load(&mut tx, child).await?.ok_or(Error::NotFound)?;
    store::delete(&mut tx, child).await?;
    audit::record(
        &mut tx,
        &Entry::new(actor, Action::CustodyRemoved)
            .household(first)
            .child(child)
            .detail(serde_json::json!({
                "other_household_id": before.other_household.get(),
                "arrangement": before.arrangement,
                "reference": before.reference,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
