//! After a rush: every acknowledged change is the database's final state, and the history holds
//! one event per acknowledged change, in the order the server acknowledged them, each from the
//! state the previous one left.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

use crate::rush::Ack;

/// A child's day.
type Day = (i64, NaiveDate);
/// One history row: old, new, source.
type Event = (bool, bool, String);

#[derive(Debug, Serialize)]
pub struct Verified {
    pub acknowledged: usize,
    pub days: usize,
    pub events: usize,
    /// What does not match, the first few.
    pub problems: Vec<String>,
    pub problem_count: usize,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.problem_count == 0
    }
}

pub async fn check(pool: &PgPool, acks: &[Ack]) -> anyhow::Result<Verified> {
    // Per child and day, the acknowledged changes in order: a child's requests are sent one
    // after the other, so the order of `acks` is the order of the answers.
    let mut expected: BTreeMap<Day, Vec<(bool, &str)>> = BTreeMap::new();
    for ack in acks {
        expected
            .entry((ack.child, ack.date))
            .or_default()
            .push((ack.booked, ack.source));
    }
    let children: Vec<i64> = {
        let mut ids: Vec<i64> = acks.iter().map(|a| a.child).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let state: Vec<(i64, NaiveDate, bool)> = sqlx::query_as(
        "select child_id, service_date, booked from reservation
         where child_id = any($1) and activity = 'canteen'",
    )
    .bind(&children)
    .fetch_all(pool)
    .await?;
    let state: BTreeMap<Day, bool> = state.into_iter().map(|(c, d, b)| ((c, d), b)).collect();
    // The seed's rows are `enrollment` events; everything the rush did is `parent` or `pattern`.
    let events: Vec<(i64, NaiveDate, bool, bool, String)> = sqlx::query_as(
        "select child_id, service_date, old_booked, new_booked, source from reservation_event
         where child_id = any($1) and activity = 'canteen' and source <> 'enrollment'
         order by id",
    )
    .bind(&children)
    .fetch_all(pool)
    .await?;
    let mut history: BTreeMap<Day, Vec<Event>> = BTreeMap::new();
    for (c, d, old, new, source) in &events {
        history
            .entry((*c, *d))
            .or_default()
            .push((*old, *new, source.clone()));
    }
    let mut problems = Vec::new();
    for (key, changes) in &expected {
        let (child, date) = key;
        let last = changes.last().expect("non-empty").0;
        match state.get(key) {
            Some(&booked) if booked == last => {}
            other => problems.push(format!(
                "child {child} {date}: acknowledged booked={last}, database has {other:?}"
            )),
        }
        let recorded = history.remove(key).unwrap_or_default();
        let as_acked: Vec<(bool, &str)> = recorded
            .iter()
            .map(|(_, new, source)| (*new, source.as_str()))
            .collect();
        if &as_acked != changes {
            problems.push(format!(
                "child {child} {date}: acknowledged {changes:?}, history has {as_acked:?}"
            ));
        }
        if recorded.iter().any(|(old, new, _)| old == new) {
            problems.push(format!(
                "child {child} {date}: an event that changes nothing"
            ));
        }
        if recorded.windows(2).any(|w| w[0].1 != w[1].0) {
            problems.push(format!("child {child} {date}: events that do not chain"));
        }
    }
    for ((child, date), recorded) in history {
        problems.push(format!(
            "child {child} {date}: {} events that no answer acknowledged",
            recorded.len()
        ));
    }
    Ok(Verified {
        acknowledged: acks.len(),
        days: expected.len(),
        events: events.len(),
        problem_count: problems.len(),
        problems: problems.into_iter().take(10).collect(),
    })
}
