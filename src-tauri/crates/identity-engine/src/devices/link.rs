//! reset(true) continuations: posthog-js `reset(true)` replaces `$device_id` with the new
//! anonymous distinct id and sends nothing, so the new lane can only be tied to the old one by
//! evidence. Always `inferred`.
//!
//! Only `$last_posthog_reset` (posthog-js `reset()` stores the time it ran and sends it on the
//! next events) makes a continuation. A timing-only fit is recorded as a `possible` link: no
//! `reset_device` transition, not a continuation for the lint rules, shown by the UI only on
//! request. Separate browser contexts with one user agent a few minutes apart (incognito
//! windows, fresh profiles, Playwright contexts) fit the timing rule all the time, so treating
//! it as a fact drew unrelated visitors as one device.
//!
//! A lane N continues lane O when all hold:
//! - same project and same user agent (required, and weak on its own: many users share one);
//! - N is "fresh": keyed by `$device_id` and its first distinct id equals it (what posthog-js
//!   does on first load and after reset(true));
//! - O is another `$device_id` lane, not yet continued, not a continuation of N (no cycles);
//! - and either N's first event carries `$last_posthog_reset` (posthog-js records when reset()
//!   ran) later than any on O, or, without it, N's first event arrived after O's last one and
//!   within 10 minutes of it (client time), and O is the only lane of that user agent that
//!   fits: with several visitors on one browser version, timing alone says nothing.
//!
//! Batches arrive out of order (the fixture's new lane arrives before the old one), so a lane
//! with `$last_posthog_reset` is re-examined when a lane with its user agent appears later; the
//! time rule is only checked when N is created. A link, once made, is kept.
//!
//! Lanes without `$device_id` (PostHog's mobile SDKs, `@posthog/core`) have their own rule,
//! `link_after_reset`: plain reset() there starts a new anonymous chain, and only a `$identify`
//! naming the user the old chain ended on ties the two.

use chrono::Duration;

use super::{Devices, LaneLink, Transition, TransitionKind, Why};
use crate::engine::vendor;
use crate::types::{time, EventInput};

const MAX_GAP_MINUTES: i64 = 10;
/// Lanes remembered per (project, user agent) as link candidates. Most visitors share a handful
/// of user agents, so an unbounded list would make every new lane cost O(lanes). A reset(true)
/// continuation starts right after its old lane, well within the latest lanes of its agent.
pub(super) const RECENT_PEERS: usize = 256;
const TOLERANCE_SECONDS: i64 = 5;

impl Devices {
    /// Indexes lane `idx` by user agent and makes the links it allows; returns changed lanes.
    pub(super) fn link_lane(&mut self, idx: usize) -> Vec<usize> {
        self.lanes[idx].indexed_agent = true;
        let lane = &self.lanes[idx].lane;
        let key = (lane.project.clone(), lane.user_agent.clone().unwrap_or_default());
        let marked = self.lanes[idx].reset_marker.is_some();
        let agent = self.by_agent.entry(key.clone()).or_default();
        agent.recent.push_back(idx);
        if agent.recent.len() > RECENT_PEERS {
            agent.recent.pop_front();
        }
        // Reset-marked lanes waiting for their old lane: only those still among the recent
        // lanes (the window every candidate comes from), so the list stays short.
        let recent = &agent.recent;
        agent.waiting.retain(|n| recent.contains(n));
        if marked {
            agent.waiting.push(idx);
        }
        let peers: Vec<usize> = agent.recent.iter().copied().collect();
        let waiting = agent.waiting.clone();
        let mut changed = Vec::new();
        // `idx` as the continuation (time rule allowed: it was just created or just got its
        // user agent), then every earlier reset-marked lane that may continue `idx`.
        for n in std::iter::once(idx).chain(waiting.into_iter().filter(|&n| n != idx)) {
            if self.lanes[n].lane.linked_from.is_some() || !self.is_fresh(n) {
                continue;
            }
            if let Some(old) = self.pick_old(n, &peers) {
                self.link(n, old);
                changed.push(n);
                changed.push(old);
            }
        }
        let lanes = &self.lanes;
        if let Some(agent) = self.by_agent.get_mut(&key) {
            agent.waiting.retain(|&n| lanes[n].lane.linked_from.is_none());
        }
        changed
    }

    fn is_fresh(&self, n: usize) -> bool {
        let lane = &self.lanes[n].lane;
        // Mixpanel's anonymous distinct id is `$device:<device id>`.
        self.lanes[n].keyed
            && lane.segments.first().is_some_and(|s| {
                s.distinct_id == lane.device_id
                    || s.distinct_id.strip_prefix("$device:") == Some(lane.device_id.as_str())
            })
    }

    /// Lane `o` just received `ev`: drops a timing-only continuation it contradicts. Returns
    /// the lane that lost its link.
    pub(super) fn check_continuation(&mut self, o: usize, ev: &crate::types::EventInput) -> Option<usize> {
        let n = self.lanes[o].continued_by?;
        let new = &self.lanes[n];
        if !new.linked_by_time || ev.timestamp <= new.lane.first_seen + Duration::seconds(TOLERANCE_SECONDS) {
            return None;
        }
        self.lanes[o].continued_by = None;
        let new = &mut self.lanes[n];
        new.linked_by_time = false;
        new.lane.linked_from = None;
        new.continues = None;
        new.lane.transitions.retain(|t| t.kind != TransitionKind::ResetDevice);
        Some(n)
    }

    /// The lane `n` most plausibly continues, if any.
    fn pick_old(&self, n: usize, peers: &[usize]) -> Option<usize> {
        let new = &self.lanes[n];
        let open =
            |o: usize| o != n && self.lanes[o].continued_by.is_none() && self.lanes[o].keyed && !self.continues(o, n);
        let Some(mark) = &new.reset_marker else {
            // Timing alone: the old lane must be the only lane of this user agent active in the
            // window before N, linked or not. Otherwise visitors sharing a browser version would
            // be chained into one another, each new lane "continuing" the last free one.
            let mut active = peers.iter().copied().filter(|&o| {
                let old = &self.lanes[o];
                let gap = new.lane.first_seen - old.lane.last_seen;
                o != n
                    && self.lanes[o].keyed
                    && old.lane.last_seq < new.lane.first_seq
                    && gap >= Duration::zero()
                    && gap <= Duration::minutes(MAX_GAP_MINUTES)
            });
            let only = active.next().filter(|_| active.next().is_none())?;
            // A posthog-js that records reset times would have marked N too.
            return (self.lanes[only].reset_marker.is_none() && open(only)).then_some(only);
        };
        peers
            .iter()
            .copied()
            .filter(|&o| open(o) && self.lanes[o].reset_marker.as_ref().is_none_or(|m| m < mark))
            .max_by(|&a, &b| {
                let key = |o: usize| (self.lanes[o].reset_marker.as_deref(), self.lanes[o].lane.last_seq);
                key(a).cmp(&key(b))
            })
    }

    /// True when `o` is (transitively) a continuation of `n`.
    fn continues(&self, o: usize, n: usize) -> bool {
        let mut cur = self.lanes[o].continues;
        for _ in 0..self.lanes.len() {
            match cur {
                Some(id) if id == n => return true,
                Some(id) => cur = self.lanes[id].continues,
                None => return false,
            }
        }
        false
    }

    fn link(&mut self, n: usize, o: usize) {
        let old = &self.lanes[o].lane;
        let new_state = &self.lanes[n];
        let new = &new_state.lane;
        let ua = new.user_agent.clone().unwrap_or_default();
        let possible = new_state.reset_marker.is_none();
        let timing = match &new_state.reset_marker {
            Some(mark) => {
                format!("its first event carries $last_posthog_reset = {mark}, the moment posthog-js ran reset()")
            }
            None => format!(
                "its first event ({}) came {} s after the last event of '{}' ({})",
                time(new.first_seen),
                (new.first_seen - old.last_seen).num_seconds(),
                old.device_id,
                time(old.last_seen)
            ),
        };
        let words = vendor(new.family).words;
        let (what, sdk) = (words.reset_call, words.reset_evidence);
        let evidence = if possible {
            format!(
                "Possible, not linked: same user agent as device '{}' ('{ua}'); {sdk}; {timing}. Timing is the \
                 only evidence: another browser context with this user agent looks the same.",
                old.device_id
            )
        } else {
            format!("Inferred, not certain: same user agent as device '{}' ('{ua}'); {sdk}; {timing}.", old.device_id)
        };
        let link = LaneLink { lane_id: old.id.clone(), evidence: evidence.clone(), inferred: true, possible };
        if possible {
            // Kept for `check_continuation` (a later event of the old lane drops it) and so
            // that one old lane has at most one guess; not a continuation, so no transition.
            self.lanes[o].continued_by = Some(n);
            self.lanes[n].linked_by_time = true;
            self.lanes[n].lane.linked_from = Some(link);
            self.lanes[n].continues = Some(o);
            return;
        }
        let replaced = words.reset_replaced;
        let explanation = format!(
            "{what} on device '{}': {replaced} '{}' and sent no event, so this lane continues that one ({evidence})",
            old.device_id, new.device_id
        );
        let t = Transition {
            kind: TransitionKind::ResetDevice,
            seq: new.first_seq,
            event_uuid: None,
            timestamp: new.first_seen,
            from: Some(old.device_id.clone()),
            to: Some(new.device_id.clone()),
            inferred: true,
            why: Why::Text(explanation.into()),
            family: new.family,
        };
        self.lanes[o].continued_by = Some(n);
        self.lanes[n].linked_by_time = false;
        self.lanes[n].lane.linked_from = Some(link);
        self.lanes[n].continues = Some(o);
        self.lanes[n].push(t);
    }
}

/// What an event says of the device it came from, for lanes without `$device_id`: the user
/// agent when the SDK sends one (posthog-android's `$raw_user_agent`, from `http.agent`), else
/// the device model and app the mobile SDKs put on every event (posthog-ios and posthog-android
/// `PostHogContext` static context; posthog-react-native `getAppProperties`, whose
/// `$device_name` is the model). Every key read here is in `MODEL_KEYS`.
pub(super) fn device_description(ev: &EventInput) -> Option<String> {
    if let Some(agent) = super::user_agent(ev) {
        return Some(agent.to_owned());
    }
    let parts: Vec<&str> = ["$device_model", "$device_name", "$app_namespace", "$app_version"]
        .iter()
        .filter_map(|k| super::str_prop(ev, k))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" / "))
}

impl Devices {
    /// reset() on an SDK that sends no `$device_id` (posthog-ios, posthog-android, @posthog/core:
    /// they keep a device id but send it only to `/flags`): reset() sends nothing and starts a new
    /// anonymous id, so the new chain is a new lane. It is tied to the old one only when the
    /// anonymous ids say so: the `$identify` just applied on lane `n` moves its user from lane
    /// `left` (whose chain ended on that identified user) to `n`'s fresh anonymous id. Then, with
    /// the same SDK and device description on both and `n` starting after `left` ended, `n` is
    /// linked as `left`'s continuation after reset(). Always inferred: the same user logging in
    /// on a second device of the same model and app version looks the same.
    /// Returns the other lane changed.
    pub(super) fn link_after_reset(&mut self, n: usize, left: &str, ev: &EventInput) -> Option<usize> {
        let o = *self.by_id.get(left)?;
        let (old, new) = (&self.lanes[o], &self.lanes[n]);
        let user = ev.distinct_id.as_str();
        let fresh = matches!(new.lane.segments.as_slice(), [anon, to] if !anon.identified && to.distinct_id == user);
        let ended_on_user = old.lane.segments.last().is_some_and(|h| h.distinct_id == user && h.identified);
        let posthog = new.lane.family == crate::family::Family::PostHog && old.lane.family == new.lane.family;
        let same_device = old.lane.lib == new.lane.lib && old.described.is_some() && old.described == new.described;
        let after = new.lane.segments.first().is_some_and(|s| s.first_timestamp >= old.lane.last_seen);
        if o == n
            || old.keyed
            || new.keyed
            || !fresh
            || !ended_on_user
            || !posthog
            || !same_device
            || !after
            || old.continued_by.is_some()
            || new.lane.linked_from.is_some()
            || self.continues(o, n)
        {
            return None;
        }
        let anon = new.lane.segments[0].distinct_id.clone();
        let lib = new.lane.lib.clone().unwrap_or_default();
        let described = new.described.clone().unwrap_or_default();
        let evidence = format!(
            "Inferred, not certain: this lane's new anonymous id '{anon}' was identified as '{user}', the user \
             the chain '{}' ended on; same SDK ('{lib}') and device ('{described}'); its first event ({}) follows \
             that chain's last ({}). The same user on a second device of this model and app version would look \
             the same.",
            old.lane.device_id,
            time(new.lane.first_seen),
            time(old.lane.last_seen)
        );
        let explanation = format!(
            "reset() after '{user}' on this device: the SDK sends no event and no $device_id, and starts the new \
             anonymous id '{anon}', so this lane continues '{}' ({evidence})",
            old.lane.device_id
        );
        let t = Transition {
            kind: TransitionKind::Reset,
            seq: new.lane.segments[0].first_seq,
            event_uuid: None,
            timestamp: new.lane.segments[0].first_timestamp,
            from: Some(user.to_owned()),
            to: Some(anon),
            inferred: true,
            why: Why::Text(explanation.into()),
            family: new.lane.family,
        };
        let link = LaneLink { lane_id: old.lane.id.clone(), evidence, inferred: true, possible: false };
        self.lanes[o].continued_by = Some(n);
        self.lanes[n].continues = Some(o);
        self.lanes[n].lane.linked_from = Some(link);
        self.lanes[n].push(t);
        Some(o)
    }
}
