//! Verifying repositories, with a share of the pack files read each day.

use std::time::{Duration, Instant};

use rustic_core::{CheckOptions, ReadSubsetOption, jiff::civil::Date};

use crate::{
    error::{Result, RusticContext},
    repo,
    target::Target,
};

/// How much pack data `check` reads and verifies, besides the structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadData {
    /// Structure only: index, snapshots, trees, pack sizes.
    None,
    /// Every pack (restic's `--read-data`).
    All,
    /// Packs whose id falls in part `n` of `m` (restic's `--read-data-subset n/m`,
    /// except that `n` counts from 0 here).
    Subset { n: u32, m: u32 },
}

impl ReadData {
    /// The daily rotation: on day `d` of a month of `D` days, part `d-1` of `D`. Over a
    /// calendar month every pack is read exactly once, in February too (a fixed `n/30`
    /// would leave two parts unread in a 28-day month).
    pub fn daily_rotation(date: Date) -> Self {
        let days = u32::try_from(date.days_in_month()).expect("28 to 31");
        let day = u32::try_from(date.day()).expect("1 to 31");
        Self::Subset {
            n: day - 1,
            m: days,
        }
    }

    /// [`ReadData::daily_rotation`] for today in the machine's time zone.
    pub fn daily_rotation_today() -> Self {
        Self::daily_rotation(rustic_core::jiff::Zoned::now().date())
    }

    fn options(self) -> CheckOptions {
        match self {
            Self::None => CheckOptions::default(),
            Self::All => CheckOptions::default()
                .read_data(true)
                .read_data_subset(ReadSubsetOption::All),
            Self::Subset { n, m } => CheckOptions::default()
                .read_data(true)
                .read_data_subset(ReadSubsetOption::IdSubSet((n, m))),
        }
    }
}

/// What `check` found. Errors mean damage (a pack that does not match its hash, a blob
/// missing from the index…); warnings are harmless leftovers such as unreferenced packs
/// after an interrupted backup.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub target: String,
    pub read_data: ReadData,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub duration: Duration,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks the target's repository. An `Err` means the check could not run (unreachable,
/// wrong password); damage found is in the report's `errors`.
pub fn check(target: &Target, read_data: ReadData) -> Result<CheckReport> {
    let started = Instant::now();
    let repo = repo::open_existing(target)?;
    let results = repo
        .check(read_data.options())
        .during(&target.name, "checking")?;
    let mut report = CheckReport {
        target: target.name.clone(),
        read_data,
        errors: Vec::new(),
        warnings: Vec::new(),
        duration: started.elapsed(),
    };
    for (level, finding) in results.0 {
        let text = crate::error::chain(&finding);
        // rustic_core does not export the level's type, only its Debug form.
        if format!("{level:?}") == "Warn" {
            report.warnings.push(text);
        } else {
            report.errors.push(text);
        }
    }
    if !report.is_ok() {
        tracing::error!(target_name = %target.name, errors = ?report.errors, "check found damage");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_read_once_in_each_month() {
        for (year, month) in [(2026, 2), (2028, 2), (2026, 4), (2026, 12)] {
            let first = Date::new(year, month, 1).unwrap();
            let days = first.days_in_month();
            let mut parts: Vec<u32> = (1..=days)
                .map(
                    |d| match ReadData::daily_rotation(Date::new(year, month, d).unwrap()) {
                        ReadData::Subset { n, m } => {
                            assert_eq!(m, u32::try_from(days).unwrap());
                            n
                        }
                        other => panic!("{other:?}"),
                    },
                )
                .collect();
            parts.sort_unstable();
            assert_eq!(parts, (0..u32::try_from(days).unwrap()).collect::<Vec<_>>());
        }
    }
}
