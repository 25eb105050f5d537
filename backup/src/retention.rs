//! Which snapshots to keep, and removing the others from a repository the appliance owns.

use std::time::{Duration, Instant};

use rustic_core::{
    ForgetGroups, Grouped, KeepOptions, PruneOptions, SnapshotGroupCriterion, jiff::Zoned,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result, RusticContext},
    repo,
    target::Target,
};

/// How many snapshots to keep per period, like restic's `--keep-hourly` etc.: for each
/// of the last N hours (days, weeks, months) that have snapshots, the newest one of that
/// period is kept. A snapshot kept for several reasons counts for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepPolicy {
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for KeepPolicy {
    fn default() -> Self {
        Self {
            hourly: 24,
            daily: 14,
            weekly: 8,
            monthly: 12,
        }
    }
}

type SamePeriod = fn(&Zoned, &Zoned) -> bool;

fn same_hour(a: &Zoned, b: &Zoned) -> bool {
    same_day(a, b) && a.hour() == b.hour()
}

fn same_day(a: &Zoned, b: &Zoned) -> bool {
    a.year() == b.year() && a.day_of_year() == b.day_of_year()
}

// As in rustic_core (and restic): the calendar year with the ISO week number, so the
// days of an ISO week that straddles New Year fall in two periods.
fn same_week(a: &Zoned, b: &Zoned) -> bool {
    a.year() == b.year() && a.date().iso_week_date().week() == b.date().iso_week_date().week()
}

fn same_month(a: &Zoned, b: &Zoned) -> bool {
    a.year() == b.year() && a.month() == b.month()
}

impl KeepPolicy {
    /// True when the policy would keep nothing at all; such a policy is refused.
    pub fn keeps_nothing(&self) -> bool {
        self.hourly == 0 && self.daily == 0 && self.weekly == 0 && self.monthly == 0
    }

    /// Which of the snapshots taken at `times` the policy keeps (`result[i]` for
    /// `times[i]`), computed without any repository.
    ///
    /// Same rules as rustic_core's `KeepOptions` (and restic's `forget`): walking from
    /// the newest snapshot to the oldest, a snapshot is the newest of its hour (day, week,
    /// month) when the next newer snapshot lies in another one; it is then kept while that
    /// period's count is not used up. The oldest snapshot also counts as the start of a
    /// period, so a young history keeps its oldest snapshot. Periods are read in each
    /// snapshot's own time zone offset.
    pub fn keeps(&self, times: &[Zoned]) -> Vec<bool> {
        let mut order: Vec<usize> = (0..times.len()).collect();
        order.sort_by(|&a, &b| times[b].cmp(&times[a]));
        let mut left = [self.hourly, self.daily, self.weekly, self.monthly];
        let same: [SamePeriod; 4] = [same_hour, same_day, same_week, same_month];
        let mut kept = vec![false; times.len()];
        for (position, &index) in order.iter().enumerate() {
            let newer = position.checked_sub(1).map(|p| &times[order[p]]);
            let is_oldest = position + 1 == order.len();
            for (count, same_period) in left.iter_mut().zip(same) {
                let starts_period = match newer {
                    None => true,
                    Some(newer) => is_oldest || !same_period(&times[index], newer),
                };
                if starts_period && *count > 0 {
                    *count -= 1;
                    kept[index] = true;
                }
            }
        }
        kept
    }

    /// The same policy as rustic_core options.
    pub fn keep_options(&self) -> KeepOptions {
        let count = |n: u32| Some(i32::try_from(n).unwrap_or(i32::MAX));
        KeepOptions::default()
            .keep_hourly(count(self.hourly))
            .keep_daily(count(self.daily))
            .keep_weekly(count(self.weekly))
            .keep_monthly(count(self.monthly))
    }
}

/// What [`forget_prune`] did.
#[derive(Clone, Debug)]
pub struct ForgetReport {
    pub target: String,
    /// Ids of the snapshots kept.
    pub kept: Vec<String>,
    /// Ids of the snapshots removed.
    pub forgotten: Vec<String>,
    pub duration: Duration,
}

/// Applies `policy` to the target's snapshots, grouped like restic does (by host and
/// paths), removes the others and prunes data no snapshot uses any more.
///
/// Pack files found unused are first marked and only deleted by a later prune, 23 hours
/// on (rustic's default), so a backup running at the same time never loses data it
/// relies on. rustic_core neither writes nor honours restic's lock files: never run this
/// while a `restic` command works on the same repository.
pub fn forget_prune(target: &Target, policy: &KeepPolicy) -> Result<ForgetReport> {
    if target.append_only {
        return Err(Error::AppendOnly {
            target: target.name.clone(),
        });
    }
    if policy.keeps_nothing() {
        return Err(Error::InvalidTarget {
            target: target.name.clone(),
            reason: "a retention policy that keeps nothing is refused".to_owned(),
        });
    }
    let started = Instant::now();
    let repo = repo::open_existing(target)?;
    let snapshots = repo
        .get_all_snapshots()
        .during(&target.name, "listing snapshots")?;
    let groups = ForgetGroups::from_grouped_snapshots_with_retention(
        Grouped::from_items(snapshots, SnapshotGroupCriterion::default()),
        &policy.keep_options(),
        &Zoned::now(),
    )
    .during(&target.name, "applying the retention policy")?;
    let mut kept = Vec::new();
    let mut forgotten = Vec::new();
    for group in &groups.0 {
        for item in &group.items {
            let id = item.snapshot.id.to_hex().as_str().to_owned();
            if item.keep {
                kept.push(id)
            } else {
                forgotten.push(id)
            }
        }
    }
    let ids = groups.into_forget_ids();
    if !ids.is_empty() {
        repo.delete_snapshots(&ids)
            .during(&target.name, "removing snapshots")?;
    }
    let options = PruneOptions::default();
    let plan = repo
        .prune_plan(&options)
        .during(&target.name, "planning the prune")?;
    repo.prune(&options, plan).during(&target.name, "pruning")?;
    tracing::info!(target_name = %target.name, kept = kept.len(), forgotten = forgotten.len(),
        "retention applied");
    Ok(ForgetReport {
        target: target.name.clone(),
        kept,
        forgotten,
        duration: started.elapsed(),
    })
}
