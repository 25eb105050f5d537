//! The monthly invoicing run of a régie: the month's facts gathered set-based, each child's
//! day charged by `cantine_domain::billing::charge`, the earlier issued months of the school
//! year recomputed for their regularisations, and the draft written in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use cantine_domain::absence::{Notice, Reason};
use cantine_domain::billing::{self as rules, AcceptedAbsence, Attendance, DayFacts, LineKind};
use cantine_domain::custody::{self, Arrangement, Payers};
use cantine_domain::ids::ChildId;
use cantine_domain::money::Cents;
use cantine_domain::tariff::Eater;
use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};

use super::run_store::{self as store, NewDocument, NewLine};
use super::tariffs::{PriceBook, Quotients};
use super::{Explanation, Month, Regularised, RunReview, Share, review};
use crate::audit::{self, Action, Actor, Entry};
use crate::error::{BillingConflict, Conflict, Error, Result};

pub async fn run(
    pool: &PgPool,
    actor: Option<&Actor>,
    regie: &str,
    month: Month,
) -> Result<RunReview> {
    let mut tx = pool.begin().await?;
    let regie = store::regie(&mut tx, regie).await?;
    let actor_id = actor.map(|a| a.account.get());
    let run = store::lock_run(&mut tx, regie.id, month.first_day(), actor_id).await?;
    if run.status == "issued" {
        return Err(Error::Conflict(Conflict::Billing(
            BillingConflict::RunIssued,
        )));
    }
    store::clear_draft(&mut tx, run.id, actor_id).await?;
    let documents = compute(&mut tx, regie.id, month).await?;
    store::insert_draft(
        &mut tx,
        regie.id,
        run.id,
        month.first_day(),
        &documents,
        actor_id,
    )
    .await?;
    let signed: i64 = documents
        .iter()
        .map(|d| if d.credit_note { -d.amount } else { d.amount })
        .sum();
    audit::record(
        &mut tx,
        &Entry {
            actor,
            action: Action::BillingRun,
            household: None,
            child: None,
            detail: serde_json::json!({
                "regie": regie.code, "month": month.to_string(), "run_id": run.id,
                "documents": documents.len(), "total_cents": signed,
                "console": actor.is_none(),
            }),
        },
    )
    .await?;
    let answer = review::of_run(&mut tx, &regie, month, run.id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A child's day as the facts give it now, for the household that pays it.
#[derive(Debug, Clone)]
struct DayLine {
    kind: LineKind,
    amount: Cents,
    explanation: Explanation,
}

type Key = (i64, i64, NaiveDate);

/// The draft's documents: one per household with lines, the month's days then the
/// regularisations of earlier issued months, a negative total becoming a credit note.
async fn compute(conn: &mut PgConnection, regie: i64, month: Month) -> Result<Vec<NewDocument>> {
    let years = store::years_between(conn, month.first_day(), month.last_day()).await?;
    // The earlier months of the school year already issued: recomputed for regularisation.
    let issued = match years.first() {
        Some(year) => {
            store::issued_months(
                conn,
                regie,
                Month::of(year.first_day).first_day(),
                month.first_day(),
            )
            .await?
        }
        None => Vec::new(),
    };
    let from = issued.first().copied().unwrap_or(month.first_day());
    let to = month.last_day();
    let months: HashSet<NaiveDate> = issued.iter().copied().chain([month.first_day()]).collect();
    let in_scope = |day: NaiveDate| months.contains(&Month::of(day).first_day());

    let facts = Facts::gather(conn, regie, from, to).await?;
    let mut now: HashMap<Key, DayLine> = HashMap::new();
    let mut this_month: BTreeMap<i64, Vec<(Key, DayLine)>> = BTreeMap::new();
    for (&(child_id, date), day) in &facts.days {
        if !in_scope(date) {
            continue;
        }
        for (household, line) in facts.charge(child_id, date, day)? {
            let key = (household, child_id, date);
            if date >= month.first_day() {
                this_month.entry(household).or_default().push((key, line));
            } else {
                now.insert(key, line);
            }
        }
    }

    // Regularisation: what each earlier issued day gives now against what issued invoices
    // (and a run's own credit notes) billed for it. Finance's credit notes are goodwill,
    // never undone; but those on a line of the day count as given back when the day is given
    // back, so that a day is never refunded beyond what it was billed.
    let mut regularisations: BTreeMap<i64, Vec<(Key, DayLine)>> = BTreeMap::new();
    if let Some(last_issued) = issued.last() {
        let until = Month(*last_issued).last_day();
        let billed: HashMap<Key, (Cents, Cents)> = store::billed(conn, regie, from, until)
            .await?
            .into_iter()
            // A child now in another régie's school keeps what it was billed here.
            .filter(|b| in_scope(b.service_date) && facts.children.contains_key(&b.child_id))
            .map(|b| {
                (
                    (b.household_id, b.child_id, b.service_date),
                    (Cents(b.amount), Cents(b.credited)),
                )
            })
            .collect();
        let keys: HashSet<Key> = billed.keys().chain(now.keys()).copied().collect();
        for key in keys {
            let (billed, credited) = billed.get(&key).copied().unwrap_or_default();
            let current = now.get(&key);
            let now_amount = current.map_or(Cents::ZERO, |l| l.amount);
            let before = billed_before(billed, credited, now_amount);
            if now_amount == before {
                continue;
            }
            let explanation = Explanation {
                price: current.and_then(|l| l.explanation.price.clone()),
                share: current.and_then(|l| l.explanation.share),
                regularises: Some(Regularised {
                    billed_before: before,
                    now: now_amount,
                    kind_now: current.map(|l| l.kind),
                }),
                memo: None,
            };
            regularisations.entry(key.0).or_default().push((
                key,
                DayLine {
                    kind: LineKind::Regularisation,
                    amount: now_amount - before,
                    explanation,
                },
            ));
        }
    }

    let households: HashSet<i64> = this_month
        .keys()
        .chain(regularisations.keys())
        .copied()
        .collect();
    let mut households: Vec<i64> = households.into_iter().collect();
    households.sort_unstable();
    let mut documents = Vec::with_capacity(households.len());
    for household in households {
        let mut days = this_month.remove(&household).unwrap_or_default();
        days.sort_by_key(|((_, child, date), _)| (*date, *child));
        let mut regs = regularisations.remove(&household).unwrap_or_default();
        regs.sort_by_key(|((_, child, date), _)| (*date, *child));
        let lines: Vec<NewLine> = days
            .into_iter()
            .chain(regs)
            .map(|((_, child, date), line)| {
                Ok(NewLine {
                    child,
                    date,
                    kind: line.kind.code(),
                    amount: line.amount.get(),
                    explanation: serde_json::to_string(&line.explanation)
                        .map_err(|e| Error::Internal(e.into()))?,
                })
            })
            .collect::<Result<_>>()?;
        let total: i64 = lines.iter().map(|l| l.amount).sum();
        documents.push(NewDocument {
            household,
            credit_note: total < 0,
            amount: total.abs(),
            lines,
        });
    }
    Ok(documents)
}

/// What a regularisation compares a day with. A day billed more now is billed the
/// difference (a credit note stays goodwill). A day billed less now is given back what is
/// left of it after the credit notes on its lines, down to `now` at most: never below.
fn billed_before(billed: Cents, credited: Cents, now: Cents) -> Cents {
    if now >= billed {
        billed
    } else {
        (billed - credited).max(now)
    }
}

/// What was booked and recorded on a child's day.
#[derive(Debug, Clone, Copy, Default)]
struct Day {
    booked: bool,
    /// Booked, then cancelled by a closure: the family sees the closed day as free.
    cancelled: bool,
    attendance: Option<bool>,
}

struct Child {
    household: i64,
    school: i64,
    pai: bool,
    custody: Option<(i64, Arrangement)>,
}

/// Everything a range of days is billed from, read in a handful of queries.
struct Facts {
    days: HashMap<(i64, NaiveDate), Day>,
    children: HashMap<i64, Child>,
    absences: HashMap<(i64, NaiveDate), AcceptedAbsence>,
    /// (school, day) closed; school `None`: every school.
    closed: HashSet<(Option<i64>, NaiveDate)>,
    residents: HashMap<i64, bool>,
    quotients: Quotients,
    prices: PriceBook,
}

impl Facts {
    async fn gather(
        conn: &mut PgConnection,
        regie: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Facts> {
        let child_rows = store::children(conn, regie).await?;
        let ids: Vec<ChildId> = child_rows.iter().map(|c| ChildId(c.id)).collect();
        // The custody capability reads the arrangements: one decoding of its rows.
        let mut custodies: HashMap<i64, (i64, Arrangement)> =
            crate::custody::arrangements(conn, &ids)
                .await?
                .into_iter()
                .map(|(child, (other, arrangement))| (child.get(), (other.get(), arrangement)))
                .collect();
        let children: HashMap<i64, Child> = child_rows
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    Child {
                        household: c.household_id,
                        school: c.school_id,
                        pai: c.pai,
                        custody: custodies.remove(&c.id),
                    },
                )
            })
            .collect();
        let mut household_ids: Vec<i64> = children
            .values()
            .flat_map(|c| [Some(c.household), c.custody.as_ref().map(|(h, _)| *h)])
            .flatten()
            .collect();
        household_ids.sort_unstable();
        household_ids.dedup();

        let mut days: HashMap<(i64, NaiveDate), Day> = HashMap::new();
        for b in store::bookings(conn, regie, from, to).await? {
            let day = days.entry((b.child_id, b.service_date)).or_default();
            day.booked = b.booked;
            day.cancelled = !b.booked;
        }
        for a in store::locked_attendance(conn, regie, from, to).await? {
            days.entry((a.child_id, a.service_date))
                .or_default()
                .attendance = Some(a.present);
        }
        let mut absences: HashMap<(i64, NaiveDate), (i64, AcceptedAbsence)> = HashMap::new();
        for a in store::accepted_absence_days(conn, regie, from, to).await? {
            let (Some(reason), Some(notice)) =
                (Reason::from_code(&a.reason), Notice::from_code(&a.notice))
            else {
                continue;
            };
            let accepted = AcceptedAbsence {
                reason,
                notice,
                day_number: a.day_number as u32,
            };
            // Two accepted declarations over one day: the earlier declaration counts.
            absences
                .entry((a.child_id, a.service_date))
                .and_modify(|held| {
                    if a.absence_id < held.0 {
                        *held = (a.absence_id, accepted);
                    }
                })
                .or_insert((a.absence_id, accepted));
        }
        let mut closed = HashSet::new();
        for c in store::closures(conn, regie, from, to).await? {
            let mut day = c.first_day.max(from);
            while day <= c.last_day.min(to) {
                closed.insert((c.school_id, day));
                day = day.succ_opt().expect("a next day");
            }
        }
        let residents = store::households(conn, &household_ids)
            .await?
            .into_iter()
            .map(|h| (h.id, h.resident))
            .collect();
        let quotients = Quotients::new(store::quotients(conn, &household_ids, to).await?);
        let prices = PriceBook::load(conn, from, to).await?;
        Ok(Facts {
            days,
            children,
            absences: absences.into_iter().map(|(k, (_, a))| (k, a)).collect(),
            closed,
            residents,
            quotients,
            prices,
        })
    }

    /// The day's lines: none when nothing happened, one for the paying household, or one per
    /// household when they share the meal (the shares summing to its price).
    fn charge(&self, child_id: i64, date: NaiveDate, day: &Day) -> Result<Vec<(i64, DayLine)>> {
        let Some(child) = self.children.get(&child_id) else {
            return Ok(Vec::new());
        };
        let closed = self.closed.contains(&(None, date))
            || self.closed.contains(&(Some(child.school), date));
        let facts = DayFacts {
            booked: day.booked || (day.cancelled && closed),
            attendance: match day.attendance {
                Some(true) => Attendance::Present,
                Some(false) => Attendance::Absent,
                None => Attendance::NotRecorded,
            },
            closed,
            absence: self.absences.get(&(child_id, date)).copied(),
        };
        if !facts.booked && facts.attendance != Attendance::Present {
            return Ok(Vec::new());
        }
        let tariff = &self.prices.at(date)?.tariff;
        let eater = |household: i64| Eater {
            qf: self.quotients.at(household, date),
            resident: self.residents.get(&household).copied().unwrap_or(true),
            pai: child.pai,
        };
        let (payers, other) = match &child.custody {
            Some((other, arrangement)) => (arrangement.payers(date), *other),
            None => (Payers::One(custody::Side::First), child.household),
        };
        let household_of = |side| match side {
            custody::Side::First => child.household,
            custody::Side::Second => other,
        };
        match payers {
            Payers::One(side) => {
                let household = household_of(side);
                let Some(charge) =
                    rules::charge(facts, tariff, tariff.child_meal(eater(household)))
                else {
                    return Ok(Vec::new());
                };
                Ok(vec![(
                    household,
                    DayLine {
                        kind: charge.kind,
                        amount: charge.amount,
                        explanation: Explanation {
                            price: Some(charge.price),
                            ..Explanation::default()
                        },
                    },
                )])
            }
            Payers::Split { first_basis_points } => {
                // A shared meal is priced once, for the child's own household, then split.
                let Some(charge) =
                    rules::charge(facts, tariff, tariff.child_meal(eater(child.household)))
                else {
                    return Ok(Vec::new());
                };
                let (first, second) = custody::split(charge.amount, first_basis_points);
                let line = |amount, basis_points| DayLine {
                    kind: charge.kind,
                    amount,
                    explanation: Explanation {
                        price: Some(charge.price.clone()),
                        share: Some(Share {
                            basis_points,
                            full: charge.amount,
                        }),
                        ..Explanation::default()
                    },
                };
                Ok(vec![
                    (child.household, line(first, first_basis_points)),
                    (
                        other,
                        line(second, custody::FULL_SHARE - first_basis_points),
                    ),
                ])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_given_back_at_most_what_its_line_credits_left() {
        // Unchanged, credited or not: nothing to regularise.
        assert_eq!(
            billed_before(Cents(290), Cents(290), Cents(290)),
            Cents(290)
        );
        // Billed more now: the difference; the credit note stays goodwill.
        assert_eq!(
            billed_before(Cents(290), Cents(100), Cents(390)),
            Cents(290)
        );
        // Given back: what the line credits have not given back yet.
        assert_eq!(billed_before(Cents(290), Cents(100), Cents(0)), Cents(190));
        assert_eq!(billed_before(Cents(290), Cents(290), Cents(0)), Cents(0));
        // Credited more than the day went down: nothing more.
        assert_eq!(
            billed_before(Cents(290), Cents(100), Cents(200)),
            Cents(200)
        );
        // Never a day without credits: as before.
        assert_eq!(billed_before(Cents(290), Cents(0), Cents(0)), Cents(290));
    }
}
