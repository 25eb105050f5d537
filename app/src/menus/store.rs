//! The menu rows.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

use crate::error::Result;

#[derive(Debug, Clone)]
pub struct DishRow {
    pub menu_day_id: i64,
    pub school_id: Option<i64>,
    pub service_date: NaiveDate,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub course: String,
    pub name: String,
    pub allergens: Vec<String>,
    pub regimes: Vec<String>,
    pub quality_signs: Vec<String>,
}

/// Every dish of the menus of the days from..=to that concern those schools (their own, and
/// the commune's), in menu then position order.
pub async fn dishes<'e>(
    db: impl PgExecutor<'e>,
    activity: &str,
    schools: &[i64],
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<DishRow>> {
    Ok(sqlx::query_as!(
        DishRow,
        "select m.id as menu_day_id, m.school_id, m.service_date, m.published_at, m.updated_at,
                d.course, d.name, d.allergens, d.regimes, d.quality_signs
         from menu_day m join dish d on d.menu_day_id = m.id
         where m.activity = $1 and m.service_date between $3 and $4
           and (m.school_id is null or m.school_id = any($2))
         order by m.id, d.position",
        activity,
        schools,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}
