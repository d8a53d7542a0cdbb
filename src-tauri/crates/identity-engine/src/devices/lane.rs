//! One lane: which segment an event joins, and which transition a change of distinct id is.
//!
//! Segments follow the order in which the device used its ids, even when batches arrive out of
//! order (posthog-js flushes `$identify` before earlier queued events, and beacons arrive late):
//! - an id that already has a segment and was anonymous there gets its late events appended to
//!   that segment: posthog-js never returns to an anonymous id once it left it (identify moves
//!   to the user id, reset() makes a fresh one);
//! - an identified id that already has a segment is appended there only when the event is older
//!   (client time) than the start of the current segment; otherwise the device really came back
//!   to that user (a second switch), and a new segment starts.
//!
//! A `$identify` names the anonymous id the device had just before (`$anon_distinct_id`), so it
//! can reveal an id (and a reset before it) whose own events have not arrived yet.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::{str_prop, user_agent, DeviceLane, Segment, SessionSpan, Transition};
use crate::engine::Engine;
use crate::js::js_string;
use crate::model::{Applied, Attribution, EventInput};

#[derive(Debug, Clone)]
pub(crate) struct LaneState {
    pub lane: DeviceLane,
    /// distinct id -> its latest segment.
    seg_of: HashMap<String, usize>,
    /// Parallel to `lane.segments`: identified, or a non-generated-looking user id (used to tell
    /// a switch of users from a reset when the client does not send `$is_identified`).
    user_like: Vec<bool>,
    session_of: HashMap<String, usize>,
    /// `$last_posthog_reset` of the lane's first event: posthog-js records when reset() ran.
    pub reset_marker: Option<String>,
    /// Whether the lane is in `Devices::by_agent` yet.
    pub indexed_agent: bool,
    /// The lane linked as this one's reset(true) continuation (at most one).
    pub continued_by: Option<usize>,
    /// This lane's `linked_from` rests on timing alone (no `$last_posthog_reset`).
    pub linked_by_time: bool,
}

/// How an id comes into use.
enum Entry<'a> {
    /// The event's own distinct id.
    Event,
    /// The `$anon_distinct_id` of an identify: the device was on it just before.
    AnonOf,
    /// The target of an identify from this anonymous id.
    IdentifiedFrom(&'a str),
}

/// SDK-generated anonymous ids are uuids (posthog-js uuidv7, Segment uuidv4, Mixpanel
/// `$device:<uuid>`); database user ids usually are not.
pub(crate) fn looks_generated(id: &str) -> bool {
    Uuid::parse_str(id.strip_prefix("$device:").unwrap_or(id)).is_ok()
}

fn transition(kind: &str, ev: &EventInput, from: Option<&str>, to: &str, inferred: bool, why: String) -> Transition {
    Transition {
        kind: kind.to_owned(),
        seq: ev.seq,
        // The event that made it visible (for inferred ones: the first event on the new id).
        event_uuid: Some(ev.uuid.clone()),
        timestamp: ev.timestamp,
        from: from.map(str::to_owned),
        to: Some(to.to_owned()),
        inferred,
        explanation: why,
    }
}

impl LaneState {
    pub fn new(id: String, ev: &EventInput, key: String, kind: &str) -> LaneState {
        LaneState {
            lane: DeviceLane {
                id,
                project: ev.project.clone(),
                device_id: key,
                key_kind: kind.to_owned(),
                first_seen: ev.timestamp,
                last_seen: ev.timestamp,
                first_seq: ev.seq,
                last_seq: ev.seq,
                event_count: 0,
                user_agent: None,
                segments: Vec::new(),
                transitions: Vec::new(),
                sessions: Vec::new(),
                linked_from: None,
            },
            seg_of: HashMap::new(),
            user_like: Vec::new(),
            session_of: HashMap::new(),
            reset_marker: str_prop(ev, "$last_posthog_reset").map(str::to_owned),
            indexed_agent: false,
            continued_by: None,
            linked_by_time: false,
        }
    }

    /// Adds one event; returns its segment and the transitions it created.
    pub fn apply(&mut self, ev: &EventInput, applied: &Applied, engine: &Engine) -> (usize, Vec<Transition>) {
        let before = self.lane.transitions.len();
        let client_says = ev.properties.get("$is_identified").and_then(Value::as_bool);
        let anon = match ev.event.as_str() {
            "$identify" => ev.properties.get("$anon_distinct_id").map(js_string).filter(|a| *a != ev.distinct_id),
            _ => None,
        };
        let seg = match &anon {
            Some(a) => {
                self.enter(a, ev, Entry::AnonOf, engine, Some(false));
                self.enter(&ev.distinct_id, ev, Entry::IdentifiedFrom(a), engine, client_says)
            }
            None => self.enter(&ev.distinct_id, ev, Entry::Event, engine, client_says),
        };
        self.add_event(seg, ev, applied, client_says);
        if matches!(applied.attribution, Attribution::Dropped) {
            // The client did identify, but PostHog linked nothing: say so where the UI shows it.
            for t in self.lane.transitions.iter_mut().filter(|t| t.seq == ev.seq && t.kind == "identify") {
                t.explanation = format!(
                    "$identify from '{}' to '{}' was sent with $process_person_profile=false: PostHog \
                     dropped it and linked nothing.",
                    t.from.clone().unwrap_or_default(),
                    ev.distinct_id
                );
            }
        }
        match ev.event.as_str() {
            "$create_alias" | "$merge_dangerously" => {
                if let Some(alias) = ev.properties.get("alias").filter(|a| crate::js::js_truthy(a)) {
                    let alias = js_string(alias);
                    let why = format!(
                        "{} called alias('{alias}'): PostHog adds '{alias}' to the person of '{}' unless \
                         '{alias}' already belongs to another identified person.",
                        ev.distinct_id, ev.distinct_id
                    );
                    self.push(transition("alias", ev, Some(&alias), &ev.distinct_id, false, why));
                }
            }
            "$set" => {
                let keys: Vec<String> = ["$set", "$set_once", "$unset"]
                    .iter()
                    .filter_map(|k| ev.properties.get(*k).and_then(Value::as_object))
                    .flat_map(|o| o.keys().cloned())
                    .collect();
                let why = format!("Person properties set on '{}': {}.", ev.distinct_id, keys.join(", "));
                self.push(transition("set", ev, None, &ev.distinct_id, false, why));
            }
            _ => {}
        }
        let new = self.lane.transitions[before..].to_vec();
        (seg, new)
    }

    /// Makes `id` the segment of this event: the current one, its own earlier one (late event),
    /// or a new one after a classified transition.
    fn enter(&mut self, id: &str, ev: &EventInput, how: Entry, engine: &Engine, client_says: Option<bool>) -> usize {
        let head = self.lane.segments.len().checked_sub(1);
        if let Some(&idx) = self.seg_of.get(id) {
            let h = head.expect("a lane with a segment has a head");
            let late = idx == h
                || !self.lane.segments[idx].identified
                || ev.timestamp < self.lane.segments[h].first_timestamp
                || matches!(how, Entry::AnonOf);
            if late {
                if let Entry::IdentifiedFrom(anon) = how {
                    self.confirm_identify(anon, id, ev);
                    self.lane.segments[idx].identified = true;
                    self.user_like[idx] = true;
                }
                return idx;
            }
        }
        let engine_says = engine.person_for(&ev.project, id).is_some_and(|p| p.is_identified);
        let identified = match how {
            Entry::IdentifiedFrom(_) => true,
            Entry::AnonOf => false,
            Entry::Event => client_says.unwrap_or(engine_says),
        };
        let user_like = match how {
            Entry::Event => client_says.unwrap_or(engine_says || !looks_generated(id)),
            _ => identified,
        };
        if let Some(h) = head {
            let from = self.lane.segments[h].distinct_id.clone();
            let t = match how {
                Entry::IdentifiedFrom(anon) => identify_transition(ev, anon, id, false),
                _ => self.classify(h, &from, id, user_like, ev, engine),
            };
            self.push(t);
        }
        let idx = self.lane.segments.len();
        self.lane.segments.push(Segment {
            distinct_id: id.to_owned(),
            person_id: Some(engine.person_id_for(&ev.project, id)),
            identified,
            first_seq: ev.seq,
            last_seq: ev.seq,
            first_timestamp: ev.timestamp,
            last_timestamp: ev.timestamp,
            event_count: 0,
        });
        self.user_like.push(user_like);
        self.seg_of.insert(id.to_owned(), idx);
        idx
    }

    /// A change of id without an identify event linking them.
    fn classify(&self, head: usize, from: &str, to: &str, to_user: bool, ev: &EventInput, engine: &Engine) -> Transition {
        let person = |id| engine.person_for(&ev.project, id).map(|p| p.id);
        if person(from).is_some() && person(from) == person(to) {
            let why = format!(
                "The device now uses '{to}', an id of the same person as '{from}' (linked earlier by an \
                 alias, identify or merge), so this is one user under another id."
            );
            return transition("alias", ev, Some(from), to, true, why);
        }
        let from_user = self.user_like[head];
        match (from_user, to_user) {
            (true, true) => transition(
                "switch_without_reset",
                ev,
                Some(from),
                to,
                false,
                format!(
                    "This device went from user '{from}' straight to user '{to}' with no new anonymous id \
                     between: reset() was not called at logout, so both users share this device's \
                     $device_id and session, and '{to}' was never linked by a $identify."
                ),
            ),
            (true, false) => transition(
                "reset",
                ev,
                Some(from),
                to,
                true,
                format!(
                    "The device was identified as '{from}' and now sends the new anonymous id '{to}': \
                     reset() was called (it sends no event, so this is inferred)."
                ),
            ),
            (false, false) => transition(
                "reset",
                ev,
                Some(from),
                to,
                true,
                format!(
                    "The anonymous id changed from '{from}' to '{to}' without an identify: reset() while \
                     anonymous, or cleared storage (inferred)."
                ),
            ),
            (false, true) => identify_transition(ev, from, to, true),
        }
    }

    /// A `$identify` from `anon` to `id` arrived after the lane already moved to `id`: mark the
    /// inferred identify as seen, or record it.
    fn confirm_identify(&mut self, anon: &str, id: &str, ev: &EventInput) {
        let found = self.lane.transitions.iter_mut().rev().find(|t| {
            t.kind == "identify" && t.inferred && t.from.as_deref() == Some(anon) && t.to.as_deref() == Some(id)
        });
        match found {
            Some(t) => *t = identify_transition(ev, anon, id, false),
            None => self.push(identify_transition(ev, anon, id, false)),
        }
    }

    /// Inserts keeping `transitions` sorted by seq (appending in the common case).
    pub fn push(&mut self, t: Transition) {
        let at = self.lane.transitions.partition_point(|x| x.seq <= t.seq);
        self.lane.transitions.insert(at, t);
    }

    fn add_event(&mut self, idx: usize, ev: &EventInput, applied: &Applied, client_says: Option<bool>) {
        let lane = &mut self.lane;
        if lane.event_count == 0 {
            (lane.first_seen, lane.last_seen, lane.first_seq) = (ev.timestamp, ev.timestamp, ev.seq);
        }
        lane.first_seen = lane.first_seen.min(ev.timestamp);
        lane.last_seen = lane.last_seen.max(ev.timestamp);
        lane.last_seq = ev.seq;
        lane.event_count += 1;
        if lane.user_agent.is_none() {
            lane.user_agent = user_agent(ev).map(str::to_owned);
        }
        let seg = &mut lane.segments[idx];
        if seg.event_count == 0 {
            (seg.first_seq, seg.first_timestamp, seg.last_timestamp) = (ev.seq, ev.timestamp, ev.timestamp);
        }
        seg.last_seq = ev.seq;
        seg.first_timestamp = seg.first_timestamp.min(ev.timestamp);
        seg.last_timestamp = seg.last_timestamp.max(ev.timestamp);
        seg.event_count += 1;
        match applied.attribution {
            Attribution::Person(p) | Attribution::Personless(p) => seg.person_id = Some(p),
            Attribution::Dropped => {}
        }
        // Only the client's own word upgrades a segment later: the person of an anonymous id
        // becomes identified by the merge, but the device was anonymous while on it.
        if client_says == Some(true) {
            seg.identified = true;
            self.user_like[idx] = true;
        }
        if let Some(session) = str_prop(ev, "$session_id") {
            let spans = &mut lane.sessions;
            let i = *self.session_of.entry(session.to_owned()).or_insert_with(|| {
                spans.push(SessionSpan {
                    session_id: session.to_owned(),
                    first_seq: ev.seq,
                    last_seq: ev.seq,
                    first_timestamp: ev.timestamp,
                    last_timestamp: ev.timestamp,
                    event_count: 0,
                });
                spans.len() - 1
            });
            let s = &mut spans[i];
            s.last_seq = ev.seq;
            s.first_timestamp = s.first_timestamp.min(ev.timestamp);
            s.last_timestamp = s.last_timestamp.max(ev.timestamp);
            s.event_count += 1;
        }
    }
}

fn identify_transition(ev: &EventInput, anon: &str, id: &str, inferred: bool) -> Transition {
    let why = if inferred {
        format!(
            "The device moved from the anonymous id '{anon}' to '{id}', but no $identify linking them has \
             arrived (yet): until one does, PostHog keeps them as separate persons."
        )
    } else {
        format!(
            "$identify: '{anon}' (anonymous) became '{id}'. PostHog links the anonymous id to the person \
             of '{id}', so the earlier anonymous events count for that user."
        )
    };
    transition("identify", ev, Some(anon), id, inferred, why)
}
