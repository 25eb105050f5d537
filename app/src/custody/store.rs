//! The `custody` and `custody_range` rows (migration 0009), turned into the domain's
//! `Arrangement` here: a row the domain cannot read is a broken row, never "no custody".

use cantine_domain::custody::{Arrangement, Range, Side};
use cantine_domain::ids::{AccountId, ChildId, HouseholdId};
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use super::{Custody, Holding};
use crate::error::{Error, Invalid, Result, on_constraint};

fn arrangement(
    kind: &str,
    first_has_even_weeks: Option<bool>,
    first_basis_points: Option<i32>,
    ranges: (Vec<NaiveDate>, Vec<NaiveDate>),
) -> Result<Arrangement> {
    let broken = || Error::Internal(anyhow::anyhow!("stored custody arrangement {kind:?}"));
    Ok(match kind {
        "alternate_weeks" => Arrangement::AlternateWeeks {
            first_has_even_weeks: first_has_even_weeks.ok_or_else(broken)?,
        },
        "ranges" => Arrangement::Ranges {
            second: ranges
                .0
                .into_iter()
                .zip(ranges.1)
                .map(|(first_day, last_day)| Range {
                    first_day,
                    last_day,
                })
                .collect(),
        },
        "shares" => Arrangement::Shares {
            first_basis_points: first_basis_points
                .and_then(|bp| u32::try_from(bp).ok())
                .ok_or_else(broken)?,
        },
        _ => return Err(broken()),
    })
}

/// The arrangements of the children that have one, in one query: billing's run reads a
/// whole régie's at once. (child, other household, arrangement).
pub async fn arrangements(
    conn: &mut PgConnection,
    children: &[i64],
) -> Result<Vec<(ChildId, HouseholdId, Arrangement)>> {
    let rows = sqlx::query!(
        r#"select cu.child_id, cu.other_household_id, cu.arrangement, cu.first_has_even_weeks,
            cu.first_basis_points,
            coalesce((select array_agg(r.first_day order by r.first_day) from custody_range r
                      where r.child_id = cu.child_id), '{}') as "range_firsts!: Vec<NaiveDate>",
            coalesce((select array_agg(r.last_day order by r.first_day) from custody_range r
                      where r.child_id = cu.child_id), '{}') as "range_lasts!: Vec<NaiveDate>"
        from custody cu
        where cu.child_id = any($1)"#,
        children,
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                ChildId(row.child_id),
                HouseholdId(row.other_household_id),
                arrangement(
                    &row.arrangement,
                    row.first_has_even_weeks,
                    row.first_basis_points,
                    (row.range_firsts, row.range_lasts),
                )?,
            ))
        })
        .collect()
}

/// Locks the child's row (the booking path locks it too, so a booking and a change of the
/// arrangement run one after the other) and answers its own household.
pub async fn lock_child(conn: &mut PgConnection, child: ChildId) -> Result<Option<HouseholdId>> {
    Ok(sqlx::query_scalar!(
        "select household_id from child where id = $1 for update",
        child.get(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(HouseholdId))
}

pub async fn load(conn: &mut PgConnection, child: ChildId) -> Result<Option<Custody>> {
    let row = sqlx::query!(
        r#"select c.household_id as first_household, cu.other_household_id, cu.arrangement,
            cu.first_has_even_weeks, cu.first_basis_points, cu.reference,
            a.email as "updated_by?", cu.updated_at,
            coalesce((select array_agg(r.first_day order by r.first_day) from custody_range r
                      where r.child_id = cu.child_id), '{}') as "range_firsts!: Vec<NaiveDate>",
            coalesce((select array_agg(r.last_day order by r.first_day) from custody_range r
                      where r.child_id = cu.child_id), '{}') as "range_lasts!: Vec<NaiveDate>"
        from custody cu
        join child c on c.id = cu.child_id
        left join account a on a.id = cu.updated_by
        where cu.child_id = $1"#,
        child.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Custody {
        child,
        first_household: HouseholdId(row.first_household),
        other_household: HouseholdId(row.other_household_id),
        arrangement: arrangement(
            &row.arrangement,
            row.first_has_even_weeks,
            row.first_basis_points,
            (row.range_firsts, row.range_lasts),
        )?,
        reference: row.reference,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
    }))
}

/// How the household holds the child, if it does: its own child (with the arrangement when
/// there is one), or the second household of a shared custody.
pub async fn holding(
    conn: &mut PgConnection,
    household: HouseholdId,
    child: ChildId,
) -> Result<Option<Holding>> {
    let row = sqlx::query!(
        r#"select c.household_id, cu.other_household_id as "other?", cu.arrangement as "arrangement?",
            cu.first_has_even_weeks, cu.first_basis_points,
            coalesce((select array_agg(r.first_day order by r.first_day) from custody_range r
                      where r.child_id = c.id), '{}') as "range_firsts!: Vec<NaiveDate>",
            coalesce((select array_agg(r.last_day order by r.first_day) from custody_range r
                      where r.child_id = c.id), '{}') as "range_lasts!: Vec<NaiveDate>"
        from child c
        left join custody cu on cu.child_id = c.id
        where c.id = $1 and (c.household_id = $2 or cu.other_household_id = $2)"#,
        child.get(),
        household.get(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let side = if row.household_id == household.get() {
        Side::First
    } else {
        Side::Second
    };
    let arrangement = match row.arrangement {
        Some(kind) => Some(arrangement(
            &kind,
            row.first_has_even_weeks,
            row.first_basis_points,
            (row.range_firsts, row.range_lasts),
        )?),
        None => None,
    };
    Ok(Some(Holding { side, arrangement }))
}

pub async fn upsert(
    conn: &mut PgConnection,
    child: ChildId,
    other: HouseholdId,
    arrangement: &Arrangement,
    reference: &str,
    actor: AccountId,
) -> Result<()> {
    let (kind, even, basis_points, ranges): (&str, Option<bool>, Option<i32>, &[Range]) =
        match arrangement {
            Arrangement::AlternateWeeks {
                first_has_even_weeks,
            } => ("alternate_weeks", Some(*first_has_even_weeks), None, &[]),
            Arrangement::Ranges { second } => ("ranges", None, None, second),
            Arrangement::Shares { first_basis_points } => (
                "shares",
                None,
                Some(i32::try_from(*first_basis_points).map_err(anyhow::Error::from)?),
                &[],
            ),
        };
    sqlx::query!(
        "insert into custody (child_id, other_household_id, arrangement, first_has_even_weeks,
                              first_basis_points, reference, updated_by)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (child_id) do update set other_household_id = excluded.other_household_id,
             arrangement = excluded.arrangement, first_has_even_weeks = excluded.first_has_even_weeks,
             first_basis_points = excluded.first_basis_points, reference = excluded.reference,
             updated_by = excluded.updated_by",
        child.get(),
        other.get(),
        kind,
        even,
        basis_points,
        reference,
        actor.get(),
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_constraint(e, |name| {
            (name == "custody_other_household_fk")
                .then_some(Error::Invalid(Invalid::OtherHousehold))
        })
    })?;
    // The ranges are replaced whole: an arrangement is what the last judgement says.
    sqlx::query!("delete from custody_range where child_id = $1", child.get())
        .execute(&mut *conn)
        .await?;
    if !ranges.is_empty() {
        let firsts: Vec<NaiveDate> = ranges.iter().map(|r| r.first_day).collect();
        let lasts: Vec<NaiveDate> = ranges.iter().map(|r| r.last_day).collect();
        sqlx::query!(
            "insert into custody_range (child_id, first_day, last_day)
             select $1, f, l from unnest($2::date[], $3::date[]) as t(f, l)",
            child.get(),
            &firsts,
            &lasts,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Removes the arrangement (its ranges go with it); answers whether there was one.
pub async fn delete(conn: &mut PgConnection, child: ChildId) -> Result<bool> {
    let deleted = sqlx::query!("delete from custody where child_id = $1", child.get())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

/// The children a household holds as the second household, with their own household.
pub async fn shared_with(pool: &PgPool, household: HouseholdId) -> Result<Vec<super::SharedChild>> {
    Ok(sqlx::query!(
        "select c.id, c.first_name, c.last_name, c.school_id, c.household_id from custody cu
         join child c on c.id = cu.child_id
         where cu.other_household_id = $1 order by c.birth_date, c.id",
        household.get(),
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| super::SharedChild {
        child: ChildId(r.id),
        name: format!("{} {}", r.first_name, r.last_name),
        school: cantine_domain::ids::SchoolId(r.school_id),
        first_household: HouseholdId(r.household_id),
    })
    .collect())
}
