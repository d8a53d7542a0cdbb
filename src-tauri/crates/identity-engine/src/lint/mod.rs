//! Lint findings: identity best practices (unique user ids, reset() at logout, identify before
//! the signup event, ...) checked on the captured traffic, plus the engine's ingestion
//! warnings, each saying what the vendor will do and how to fix it.
//!
//! Invariants:
//! - one finding per rule and subject (distinct id, device lane or project, see each rule's
//!   key); later events update it (more event uuids and ids, a fresh message) instead of adding
//!   findings, so `findings` stays small on long streams;
//! - findings are kept in creation order and `seq` is the event that first fired them;
//! - `missing_reset_between_users` follows the lane's transitions: when a late segment changes
//!   them (`LaneUpdate::reclassified`) the lane's finding is rebuilt, or withdrawn when no switch
//!   is left, so it always equals what the current transitions give;
//! - everything is computed when the event is applied, from state kept in hash maps, so one
//!   event costs amortised O(1) (plus O(lanes of one id) when an id reaches a new lane);
//!   except `undelivered_identify`, made from the events that are undelivered now and the
//!   persons as they stand (`undelivered.rs`), kept apart in `undelivered`.

mod group;
mod rule;
pub(crate) mod rules;
pub(crate) mod text;
mod undelivered;
mod users;
mod vendor;

pub use group::{group_findings, FindingGroup, FindingVariant};
pub use rule::{LintRule, Severity};
pub use undelivered::Undelivered;

use foldhash::{HashMap, HashSet};

use serde::Serialize;

use crate::devices::{DeviceLane, Transition, TransitionKind};

/// At most this many event uuids, distinct ids and device ids are kept per finding (the
/// first ones); the message carries the full counts.
pub const MAX_REFS: usize = 100;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    pub rule: LintRule,
    pub severity: Severity,
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
    /// project -> distinct id -> index in `users`: the ids identified on some lane (nested so
    /// the lookup for every identified event needs no owned key).
    user_index: HashMap<String, HashMap<String, usize>>,
    /// The lanes of each such id, and which of them count as unrelated devices.
    users: Vec<UserLanes>,
    /// lane -> the entries of `users` whose lanes include it (usually one).
    users_of_lane: HashMap<usize, Vec<usize>>,
    /// Segment/Mixpanel: (project, anonymousId or $device_id) -> the user ids sent with it.
    users_of_anon: HashMap<(String, String), Vec<String>>,
    /// KISSmetrics: (project, identity) -> the identities alias calls joined it with.
    aliased_with: HashMap<(String, String), Vec<String>>,
    /// project -> (identified events, anonymous events).
    share: HashMap<String, Share>,
    /// `distinct_users_merged`: the user ids of each person.
    user_ids: users::UserIds,
    /// The event being linted joined two users' ids (`distinct_users_merged` fired for it).
    users_joined_by_event: bool,
    /// Findings about undelivered events (`undelivered.rs`), made again whenever they are set.
    pub undelivered: Vec<Finding>,
}

/// The lanes where one distinct id has an identified segment, kept up to date event by event
/// so `generic_distinct_id`'s "many devices" check costs O(log lanes) per new lane instead of a
/// scan of every lane of the id.
///
/// Invariant: `devices` holds `(first_seq, device id, lane)` of exactly the lanes of `lanes`
/// that are not a reset(true) continuation of another lane of `lanes`, sorted as the finding
/// lists them; `lanes[l]` says whether `l` is in `devices`.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserLanes {
    pub lanes: HashMap<usize, bool>,
    pub devices: std::collections::BTreeSet<(i64, String, usize)>,
}

/// Events counted for a project's `identified_share` finding, and that finding's key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Share {
    pub key: String,
    pub identified: usize,
    pub anonymous: usize,
    /// Its finding exists.
    pub reported: bool,
}

impl Lint {
    /// Makes the `undelivered_identify` findings again from `events`; returns how many there are
    /// that were not there before.
    pub(crate) fn set_undelivered(&mut self, engine: &crate::Engine, events: &[Undelivered]) -> usize {
        let fresh = undelivered::findings(engine, events);
        let new = fresh
            .iter()
            .filter(|f| {
                !self.undelivered.iter().any(|old| old.event_uuids == f.event_uuids && old.project == f.project)
            })
            .count();
        self.undelivered = fresh;
        new
    }

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

    /// Rebuilds the `missing_reset_between_users` finding of `lane` from its current
    /// `switch_without_reset` transitions, after a late segment changed them: withdrawn when
    /// none is left, created (first fired by event `seq`) when one appeared. Returns 1 when it
    /// was created. Costs O(transitions of the lane + findings), only on such events.
    pub(crate) fn refresh_missing_reset(&mut self, lane: &DeviceLane, seq: i64) -> usize {
        let key = format!("missing_reset_between_users|{}", lane.id);
        let switches: Vec<&Transition> =
            lane.transitions.iter().filter(|t| t.kind == TransitionKind::SwitchWithoutReset).collect();
        let Some(last) = switches.last() else {
            if let Some(i) = self.by_key.remove(&key) {
                self.counts.remove(&key);
                self.findings.remove(i);
                self.by_key.values_mut().filter(|k| **k > i).for_each(|k| *k -= 1);
            }
            return 0;
        };
        let (from, to) = (last.from.clone().unwrap_or_default(), last.to.clone().unwrap_or_default());
        let message = last
            .missing_reset_message(&lane.device_id)
            .unwrap_or_else(|| text::missing_reset(&lane.device_id, &from, &to, lane.family));
        let mut f = finding(
            LintRule::MissingResetBetweenUsers,
            Severity::Error,
            &lane.project,
            message,
            text::fix_missing_reset(lane.family),
        );
        f.device_ids.push(lane.device_id.clone());
        for t in &switches {
            f.event_uuids.extend(t.event_uuid.clone().filter(|u| !f.event_uuids.contains(u)));
            for id in [&t.from, &t.to].into_iter().flatten() {
                if !f.distinct_ids.contains(id) {
                    f.distinct_ids.push(id.clone());
                }
            }
        }
        f.event_uuids.truncate(MAX_REFS);
        f.distinct_ids.truncate(MAX_REFS);
        self.counts.insert(key.clone(), switches.len());
        match self.by_key.get(&key) {
            Some(&i) => {
                f.seq = self.findings[i].seq;
                self.findings[i] = f;
                0
            }
            None => {
                f.seq = seq;
                self.by_key.insert(key, self.findings.len());
                self.findings.push(f);
                1
            }
        }
    }

    /// The finding as it reads now: `identified_share` counts every event, so its message is
    /// written here rather than on each event.
    pub(crate) fn current<'a>(&self, f: &'a Finding) -> std::borrow::Cow<'a, Finding> {
        match self.share.get(&f.project) {
            Some(share) if f.rule == LintRule::IdentifiedShare => {
                let mut f = f.clone();
                f.message = text::share(share.identified, share.anonymous);
                std::borrow::Cow::Owned(f)
            }
            _ => std::borrow::Cow::Borrowed(f),
        }
    }

    /// `id` was a user id of `project` (`distinct_users_merged`'s notion of one).
    pub(crate) fn is_user_id(&self, project: &str, id: &str) -> bool {
        self.user_ids.is_user_id(project, id)
    }

    /// Drops the findings of `project` and everything the rules remember about it: state keyed
    /// by the project, by its lanes (renumbered by `lanes`, see `Devices::forget_project`) or by
    /// its persons (`persons`, merged ones included). Findings of other projects keep their
    /// order; every finding key names its project or one of its lanes, so none is shared.
    pub(crate) fn forget_project(
        &mut self,
        project: &str,
        lanes: &crate::devices::LaneRemap,
        persons: &HashSet<uuid::Uuid>,
    ) {
        let mut kept = 0;
        let findings: Vec<Option<usize>> = self
            .findings
            .iter()
            .map(|f| {
                (f.project != project).then(|| {
                    kept += 1;
                    kept - 1
                })
            })
            .collect();
        self.findings.retain(|f| f.project != project);
        self.by_key.retain(|_, i| match findings[*i] {
            Some(new) => {
                *i = new;
                true
            }
            None => false,
        });
        // Every counted key has its finding (`report` makes both), so the counts follow.
        let by_key = &self.by_key;
        self.counts.retain(|key, _| by_key.contains_key(key));
        self.identify_targets.retain(|(p, _)| p != project);
        self.identifies = std::mem::take(&mut self.identifies)
            .into_iter()
            .filter_map(|((lane, session, id, set), v)| Some(((lanes.get(lane)?, session, id, set), v)))
            .collect();

        // The entries of `users` are one per (project, id): the project's go, the rest move down.
        let gone: HashSet<usize> =
            self.user_index.remove(project).map(|ids| ids.into_values().collect()).unwrap_or_default();
        let mut kept = 0;
        let users: Vec<Option<usize>> = (0..self.users.len())
            .map(|u| {
                (!gone.contains(&u)).then(|| {
                    kept += 1;
                    kept - 1
                })
            })
            .collect();
        let mut index = 0;
        self.users.retain(|_| {
            index += 1;
            users[index - 1].is_some()
        });
        for user in &mut self.users {
            user.lanes = user.lanes.iter().filter_map(|(&l, &counted)| Some((lanes.get(l)?, counted))).collect();
            user.devices = std::mem::take(&mut user.devices)
                .into_iter()
                .filter_map(|(s, d, l)| Some((s, d, lanes.get(l)?)))
                .collect();
        }
        for ids in self.user_index.values_mut() {
            ids.retain(|_, u| match users[*u] {
                Some(new) => {
                    *u = new;
                    true
                }
                None => false,
            });
        }
        self.users_of_lane = std::mem::take(&mut self.users_of_lane)
            .into_iter()
            .filter_map(|(lane, of)| {
                let of: Vec<usize> = of.into_iter().filter_map(|u| users[u]).collect();
                Some((lanes.get(lane)?, of)).filter(|(_, of)| !of.is_empty())
            })
            .collect();

        self.users_of_anon.retain(|(p, _), _| p != project);
        self.aliased_with.retain(|(p, _), _| p != project);
        self.share.remove(project);
        self.user_ids.forget_project(project, lanes, persons);
        self.users_joined_by_event = false;
    }

    /// How many events `report` has counted for `key` (after this one).
    fn count(&self, key: &str) -> usize {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// A finding under construction.
pub(crate) fn finding(rule: LintRule, severity: Severity, project: &str, message: String, fix: String) -> Finding {
    Finding {
        rule,
        severity,
        project: project.to_owned(),
        message,
        fix,
        event_uuids: Vec::new(),
        distinct_ids: Vec::new(),
        device_ids: Vec::new(),
        seq: 0,
    }
}
