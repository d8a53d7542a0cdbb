//! [`FaultBook`]: the rules in force, checked by every capture request, with what each has done.
//!
//! Invariants:
//! - Rules are checked in the order they were added; the first whose matcher applies and whose
//!   share picks the request fires, and no other rule counts that request as faulted.
//! - A rule with a `count` fires exactly that many times, however many requests check it at
//!   once (the count is taken under the book's lock), then moves to the expired list.
//! - A `share` is spread evenly, not drawn at random: with share `s`, the n-th matching request
//!   is faulted when `floor(n·s)` grows (in millionths, so 0.1 × 10 is exactly 1). The same
//!   traffic is faulted the same way every run, which a test suite needs.
//! - With no rule in force a check costs one atomic load (capture pays nothing for the feature).
//! - The revision ([`FaultBook::subscribe`]) moves whenever what `list` shows changes: a rule
//!   added, removed, fired or expired.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::error::FaultError;
use crate::rule::{under, Answer, Effect, FaultRule};

/// A share is counted in millionths.
const PPM: u64 = 1_000_000;
/// Expired rules kept for `list` (the newest), so a run can still see what a rule did.
const EXPIRED_KEPT: usize = 20;

/// What a capture request looks like to the rules.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The request's source (`posthog`...), when its route names one.
    pub source: Option<&'a str>,
    pub path: &'a str,
    /// The project key the request names, when it names one.
    pub project: Option<&'a str>,
    /// A capture route (one that carries events), as opposed to flags, config or settings.
    pub capture: bool,
    /// A Capture V1 request (`/i/v1/analytics/events` and its variants).
    pub v1: bool,
}

/// A rule fired for one request: what to do, and which rule said so.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub rule: u64,
    /// The rule in the text syntax, for what is stored with the request.
    pub text: String,
    pub effect: Effect,
}

/// Whether a rule still fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FaultState {
    Active,
    /// Its count is used up.
    Expired,
}

/// A rule as `GET /api/faults` lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FaultView {
    pub id: u64,
    /// The rule in the text syntax (what `serve --fault` takes).
    pub text: String,
    /// What it does, in a sentence.
    pub description: String,
    #[serde(flatten)]
    pub rule: FaultRule,
    pub state: FaultState,
    /// Requests it matched (faulted or, under a share, let through).
    pub matched: u64,
    /// Requests it faulted.
    pub fired: u64,
    /// Faults left before it expires; null without a count.
    pub remaining: Option<u64>,
    pub added_at: DateTime<Utc>,
    pub expired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    rule: FaultRule,
    text: String,
    added_at: DateTime<Utc>,
    expired_at: Option<DateTime<Utc>>,
    matched: u64,
    fired: u64,
    /// Millionths of a request owed to the share.
    carry: u64,
}

impl Entry {
    fn view(&self) -> FaultView {
        FaultView {
            id: self.id,
            text: self.text.clone(),
            description: self.rule.describe(),
            rule: self.rule.clone(),
            state: if self.expired_at.is_some() { FaultState::Expired } else { FaultState::Active },
            matched: self.matched,
            fired: self.fired,
            remaining: self.rule.scope.count.map(|n| n.saturating_sub(self.fired)),
            added_at: self.added_at,
            expired_at: self.expired_at,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    active: Vec<Entry>,
    expired: VecDeque<Entry>,
}

#[derive(Debug)]
pub struct FaultBook {
    inner: Mutex<Inner>,
    /// How many rules are in force (read without the lock).
    active: AtomicUsize,
    revision: watch::Sender<u64>,
}

impl Default for FaultBook {
    fn default() -> FaultBook {
        FaultBook::new()
    }
}

impl FaultRule {
    /// Whether the rule applies to `target` (before its share and count are considered).
    pub fn applies_to(&self, target: &Target<'_>) -> bool {
        let m = &self.matcher;
        let route = match &m.route {
            Some(prefix) => under(target.path, prefix),
            None => target.capture,
        };
        route
            && m.source.as_deref().is_none_or(|s| target.source == Some(s))
            && m.project.as_deref().is_none_or(|p| target.project == Some(p))
            && (target.v1 || !matches!(self.effect.answer, Answer::V1Retry { .. }))
    }
}

impl FaultBook {
    pub fn new() -> FaultBook {
        FaultBook {
            inner: Mutex::new(Inner { next_id: 1, ..Inner::default() }),
            active: AtomicUsize::new(0),
            revision: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn changed(&self) {
        self.revision.send_modify(|r| *r += 1);
    }

    /// Puts `rule` in force, after the rules already there.
    pub fn add(&self, rule: FaultRule, now: DateTime<Utc>) -> FaultView {
        let view = {
            let mut inner = self.lock();
            let id = inner.next_id;
            inner.next_id += 1;
            let entry =
                Entry { id, text: rule.text(), rule, added_at: now, expired_at: None, matched: 0, fired: 0, carry: 0 };
            let view = entry.view();
            inner.active.push(entry);
            self.active.store(inner.active.len(), Ordering::SeqCst);
            view
        };
        self.changed();
        view
    }

    /// The rules in force (in the order they are checked), then the expired ones, newest first.
    pub fn list(&self) -> Vec<FaultView> {
        let inner = self.lock();
        inner.active.iter().chain(inner.expired.iter().rev()).map(Entry::view).collect()
    }

    /// How many rules are in force.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Removes one rule, in force or expired.
    pub fn remove(&self, id: u64) -> Result<FaultView, FaultError> {
        let removed = {
            let mut inner = self.lock();
            let removed = if let Some(i) = inner.active.iter().position(|e| e.id == id) {
                Some(inner.active.remove(i))
            } else {
                inner.expired.iter().position(|e| e.id == id).and_then(|i| inner.expired.remove(i))
            };
            self.active.store(inner.active.len(), Ordering::SeqCst);
            removed
        };
        let removed = removed.ok_or(FaultError::NoSuchRule(id))?;
        self.changed();
        Ok(removed.view())
    }

    /// Removes every rule; returns how many were in force.
    pub fn clear(&self) -> usize {
        let (active, any) = {
            let mut inner = self.lock();
            let active = inner.active.len();
            let any = active + inner.expired.len() > 0;
            inner.active.clear();
            inner.expired.clear();
            self.active.store(0, Ordering::SeqCst);
            (active, any)
        };
        if any {
            self.changed();
        }
        active
    }

    /// The rule that faults this request, if any; counts it against that rule (see the module's
    /// invariants).
    pub fn check(&self, target: &Target<'_>, now: DateTime<Utc>) -> Option<Fired> {
        if self.active.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut touched = false;
        let fired = {
            let mut inner = self.lock();
            let mut fired = None;
            for (i, entry) in inner.active.iter_mut().enumerate() {
                if !entry.rule.applies_to(target) {
                    continue;
                }
                entry.matched += 1;
                touched = true;
                if let Some(share) = entry.rule.scope.share {
                    entry.carry += (share * PPM as f64).round() as u64;
                    if entry.carry < PPM {
                        continue;
                    }
                    entry.carry -= PPM;
                }
                entry.fired += 1;
                let used_up = entry.rule.scope.count.is_some_and(|n| entry.fired >= n);
                fired =
                    Some((i, used_up, Fired { rule: entry.id, text: entry.text.clone(), effect: entry.rule.effect }));
                break;
            }
            if let Some((i, true, _)) = &fired {
                let mut entry = inner.active.remove(*i);
                entry.expired_at = Some(now);
                inner.expired.push_back(entry);
                while inner.expired.len() > EXPIRED_KEPT {
                    inner.expired.pop_front();
                }
                self.active.store(inner.active.len(), Ordering::SeqCst);
            }
            fired.map(|(_, _, f)| f)
        };
        if touched {
            self.changed();
        }
        fired
    }

    /// The book's revision: moves whenever `list` would show something else.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.revision.subscribe()
    }

    pub fn revision(&self) -> u64 {
        *self.revision.borrow()
    }
}
