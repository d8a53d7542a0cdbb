//! Lint findings (spec §5): the seeds' best practices checked on the captured traffic, plus the
//! engine's PostHog ingestion warnings, each saying what the vendor will do and how to fix it.
//!
//! Invariants:
//! - one finding per rule and subject (distinct id, device lane or project, see each rule's
//!   key); later events update it (more event uuids and ids, a fresh message) instead of adding
//!   findings, so `findings` stays small on long streams;
//! - findings are kept in creation order and `seq` is the event that first fired them;
//! - everything is computed when the event is applied, from state kept in hash maps, so one
//!   event costs amortised O(1) (plus O(lanes of one id) when an id reaches a new lane).

pub(crate) mod rules;
mod text;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// At most this many event uuids, distinct ids and device ids are kept per finding (the
/// first ones); the message carries the full counts.
pub const MAX_REFS: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    /// "error" | "warning" | "info"
    pub severity: String,
    pub project: String,
    /// What the vendor will do with this traffic, in plain words.
    pub message: String,
    pub fix: String,
    pub event_uuids: Vec<String>,
    pub distinct_ids: Vec<String>,
    pub device_ids: Vec<String>,
    /// Arrival order of the event that first fired the finding.
    pub seq: i64,
}

/// The lint state: findings plus what the rules remember between events.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lint {
    pub findings: Vec<Finding>,
    by_key: HashMap<String, usize>,
    /// Events counted per finding key (messages quote it).
    counts: HashMap<String, usize>,
    /// (project, distinct id) that were the target of a merging `$identify`.
    identify_targets: HashSet<(String, String)>,
    /// (lane, session, distinct id, canonical $set) -> (identify count, first event uuid).
    identifies: HashMap<(usize, String, String, String), (usize, String)>,
    /// (project, distinct id) -> lanes where it has an identified segment.
    lanes_of_user: HashMap<(String, String), HashSet<usize>>,
    /// project -> (identified events, anonymous events).
    share: HashMap<String, (usize, usize)>,
}

impl Lint {
    /// Creates the finding under `key`, or merges `f` into it (refs appended, message and fix
    /// replaced). Returns true when it was created. Also counts one event for the key.
    fn report(&mut self, key: String, f: Finding) -> bool {
        *self.counts.entry(key.clone()).or_default() += 1;
        match self.by_key.get(&key) {
            Some(&i) => {
                let old = &mut self.findings[i];
                old.message = f.message;
                old.fix = f.fix;
                old.severity = f.severity;
                for (into, from) in [
                    (&mut old.event_uuids, f.event_uuids),
                    (&mut old.distinct_ids, f.distinct_ids),
                    (&mut old.device_ids, f.device_ids),
                ] {
                    for v in from {
                        if into.len() < MAX_REFS && !into.contains(&v) {
                            into.push(v);
                        }
                    }
                }
                false
            }
            None => {
                self.by_key.insert(key, self.findings.len());
                self.findings.push(f);
                true
            }
        }
    }

    /// How many events `report` has counted for `key` (after this one).
    fn count(&self, key: &str) -> usize {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// A finding under construction.
pub(crate) fn finding(rule: &str, severity: &str, project: &str, message: String, fix: String) -> Finding {
    Finding {
        rule: rule.to_owned(),
        severity: severity.to_owned(),
        project: project.to_owned(),
        message,
        fix,
        event_uuids: Vec::new(),
        distinct_ids: Vec::new(),
        device_ids: Vec::new(),
        seq: 0,
    }
}
