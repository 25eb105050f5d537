//! Retention keeps exactly what the policy says: checked against an oracle written from
//! the policy's wording, against rustic_core's own `KeepOptions`, and on a real repository.

use std::collections::BTreeSet;

use cantine_backup::{
    BackupRequest, KeepPolicy, backup_command, forget_prune,
    jiff::{Span, Timestamp, ToSpan, Zoned, civil, tz::TimeZone},
    list_snapshots,
};
use rustic_core::SnapshotOptions;

use crate::common::{LocalRepo, sh};

fn utc(date: civil::Date, hour: i8) -> Zoned {
    date.at(hour, 0, 0, 0).to_zoned(TimeZone::UTC).unwrap()
}

fn kept_times(policy: &KeepPolicy, times: &[Zoned]) -> BTreeSet<Timestamp> {
    policy
        .keeps(times)
        .iter()
        .zip(times)
        .filter(|(keep, _)| **keep)
        .map(|(_, t)| t.timestamp())
        .collect()
}

#[test]
fn the_default_policy_keeps_24_hours_14_days_8_weeks_and_12_months_of_an_hourly_history() {
    // A snapshot every hour from 1 January 2025 to Sunday 15 March 2026, 12:00 UTC.
    let first = civil::date(2025, 1, 1);
    let last = civil::date(2026, 3, 15);
    let mut times = Vec::new();
    let mut day = first;
    while day <= last {
        for hour in 0..24 {
            if day == last && hour > 12 {
                break;
            }
            times.push(utc(day, hour));
        }
        day = day.tomorrow().unwrap();
    }

    // The oracle, written from the policy's words rather than from the algorithm.
    let mut expected = BTreeSet::new();
    let newest = utc(last, 12);
    // The 24 newest hours.
    for h in 0..24 {
        expected.insert(newest.timestamp() - Span::new().hours(h));
    }
    // The newest snapshot of each of the 14 newest days: today's latest, then 23:00.
    expected.insert(newest.timestamp());
    for d in 1..14 {
        expected.insert(utc(last - d.days(), 23).timestamp());
    }
    // The 8 newest ISO weeks (Monday to Sunday): this Sunday's latest, then Sundays 23:00.
    for w in 1..8 {
        expected.insert(utc(last - (7 * w).days(), 23).timestamp());
    }
    // The 12 newest months: this month's latest, then each month's last day at 23:00.
    for m in 1..12 {
        let month_start = civil::date(2026, 3, 1) - m.months();
        expected.insert(utc(month_start.last_of_month(), 23).timestamp());
    }

    let kept = kept_times(&KeepPolicy::default(), &times);
    assert_eq!(kept, expected);
    // Sunday 8 March 23:00 is also one of the 14 days, and 14 March 23:00 one of the
    // 24 hours.
    assert_eq!(kept.len(), 24 + 13 + 7 + 11 - 2);
}

#[test]
fn a_young_history_keeps_its_oldest_snapshot() {
    let day = civil::date(2026, 9, 1);
    let times = [
        utc(day, 8),
        utc(day, 8) + 10.minutes(),
        utc(day, 8) + 20.minutes(),
    ];
    let policy = KeepPolicy {
        hourly: 1,
        daily: 0,
        weekly: 0,
        monthly: 0,
    };
    // Newest of the hour kept, the middle one dropped; the oldest starts the history and
    // is kept while counts remain (none here: hourly was used by the newest).
    assert_eq!(policy.keeps(&times), [false, false, true]);
    assert_eq!(KeepPolicy::default().keeps(&times), [true, false, true]);
}

/// Pseudo-random irregular history: gaps from minutes to days, so periods are sometimes
/// empty and sometimes crowded.
fn irregular_history(count: usize, seed: u64) -> Vec<Zoned> {
    let mut state = seed;
    let mut time = utc(civil::date(2024, 12, 20), 0);
    let mut times = Vec::new();
    for _ in 0..count {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let minutes = match (state >> 33) % 10 {
            0..=5 => (state >> 40) % 90 + 1,
            6..=8 => (state >> 40) % (60 * 30) + 60,
            _ => (state >> 40) % (60 * 24 * 9) + 60,
        };
        time += Span::new().minutes(i64::try_from(minutes).unwrap());
        times.push(time.clone());
    }
    times
}

#[test]
fn the_pure_policy_agrees_with_rustic_core_keep_options() {
    let times = irregular_history(3000, 7);
    for policy in [
        KeepPolicy::default(),
        KeepPolicy {
            hourly: 3,
            daily: 5,
            weekly: 0,
            monthly: 40,
        },
    ] {
        let snapshots: Vec<_> = times
            .iter()
            .map(|t| {
                SnapshotOptions::default()
                    .time(t.clone())
                    .to_snapshot()
                    .unwrap()
            })
            .collect();
        let by_rustic: BTreeSet<Timestamp> = policy
            .keep_options()
            .apply(snapshots, &Zoned::now())
            .unwrap()
            .into_iter()
            .filter(|f| f.keep)
            .map(|f| f.snapshot.time.timestamp())
            .collect();
        assert_eq!(kept_times(&policy, &times), by_rustic, "{policy:?}");
    }
}

#[test]
fn forget_prune_on_a_real_repository_keeps_exactly_what_the_policy_computes() {
    let repo = LocalRepo::new("local");
    let times = irregular_history(16, 11);
    for (i, time) in times.iter().enumerate() {
        let mut request = BackupRequest::new("retention");
        request.time = Some(time.clone());
        backup_command(&repo.target, sh(&format!("echo dump {i}")), &request, None).unwrap();
    }
    let policy = KeepPolicy {
        hourly: 2,
        daily: 3,
        weekly: 2,
        monthly: 2,
    };
    let expected = kept_times(&policy, &times);
    assert!(
        expected.len() > 3 && expected.len() < times.len(),
        "{expected:?}"
    );

    let report = forget_prune(&repo.target, &policy).unwrap();
    assert_eq!(report.kept.len(), expected.len());
    assert_eq!(report.forgotten.len(), times.len() - expected.len());
    let left: BTreeSet<Timestamp> = list_snapshots(&repo.target)
        .unwrap()
        .iter()
        .map(|s| s.time.timestamp())
        .collect();
    assert_eq!(left, expected);
}
