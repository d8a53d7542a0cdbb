//! Device lanes: per device, the distinct ids it used one after the other, and how it
//! moved between them (identify, alias, inferred reset, reset(true), switch without reset).
//!
//! Lane key:
//! - `properties.$device_id` when present (posthog-js, Mixpanel, Segment's mobile
//!   `context.device.id`): `key_kind = "device_id"`, lane id `"<project>/<device id>"`.
//! - otherwise (server SDKs, and PostHog's iOS, Android and React Native SDKs, which send their
//!   device id only to `/flags`) the anonymous id the chain started with: the first distinct id seen,
//!   followed through `$identify` (`$anon_distinct_id` -> distinct id) and `$create_alias`
//!   (alias -> distinct id), so a backend identify stays on the lane of its anonymous id:
//!   `key_kind = "anonymous_id"`, lane id `"<project>/id:<key>"` (the prefix keeps it apart from a
//!   device id that happens to be equal). reset() starts a new chain there; `link.rs` ties it
//!   to the old one when the anonymous ids allow it (`link_after_reset`).
//!
//! Invariants: every event lands in exactly one lane and exactly one segment of it, so
//! `lane.event_count == sum(segment.event_count)`; lanes never merge; all lookups are hash maps,
//! so one event costs amortised O(1) (linking a reset(true) lane scans only the lanes of the same
//! project and user agent, and only when a lane is created; a new id older, in client time, than
//! the lane's current segment is inserted before it at O(segments of the lane), see `lane`).

mod lane;
mod link;
mod why;

use foldhash::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::engine::Engine;
use crate::js::js_string;
use crate::types::{Applied, EventInput};

pub(crate) use lane::LaneState;
pub(crate) use why::Why;

/// One device's timeline.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceLane {
    /// Unique across projects: `"<project>/<device id>"` or `"<project>/id:<anonymous id>"`.
    pub id: String,
    pub project: String,
    /// The key: `$device_id`, else the anonymous id the chain started with.
    pub device_id: String,
    /// What the key is: a `$device_id` or an anonymous id.
    pub key_kind: LaneKey,
    /// Whose rules the lane's project gets, and the stored source of its first event.
    pub family: crate::family::Family,
    pub source: String,
    /// Earliest and latest event timestamp (corrected client time).
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Arrival order of the lane's first and latest event (addition to the agreed interface:
    /// `Model::devices` sorts on `last_seq`).
    pub first_seq: i64,
    pub last_seq: i64,
    pub event_count: usize,
    /// First `$raw_user_agent` (else `$user_agent`) seen on the lane.
    pub user_agent: Option<String>,
    /// In the order the device used the ids (late-arriving events join their own segment; a
    /// late new id is placed by client time).
    pub segments: Vec<Segment>,
    /// Sorted by `seq`.
    pub transitions: Vec<Transition>,
    /// In order of first appearance.
    pub sessions: Vec<SessionSpan>,
    /// The SDK: the first `$lib` seen on the lane (`posthog-ios`, `posthog-react-native`, ...),
    /// whose rules for identify and reset the lane's moves follow.
    pub lib: Option<String>,
    /// Set on a lane inferred to continue another one after `reset(true)`, or, for a lane
    /// without `$device_id`, after `reset()` (see `link.rs`); a timing-only guess has
    /// `possible` set and is not a continuation.
    pub linked_from: Option<LaneLink>,
    /// PostHog cookieless: the placeholder the lane's first cookieless event sent and what
    /// PostHog turned it into.
    pub cookieless: Option<crate::posthog::Cookieless>,
}

/// A stretch of a lane on one distinct id.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Segment {
    pub distinct_id: String,
    /// The person PostHog wrote on the segment's latest event (or, for an empty segment, the
    /// person of the id after the identify that revealed it). Merges made later by other
    /// events do not rewrite it, as PostHog does not rewrite stored events; ask
    /// `Engine::person_for` for the current person.
    pub person_id: Option<Uuid>,
    /// The client said so (`$is_identified`), or the segment began with an identify, or
    /// (without `$is_identified`) the id's person was identified when the segment began.
    pub identified: bool,
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_timestamp: DateTime<Utc>,
    pub last_timestamp: DateTime<Utc>,
    /// 0 for an anonymous id known only from a `$identify`'s `$anon_distinct_id` (its own
    /// events may arrive later); first/last then describe that `$identify`.
    pub event_count: usize,
    /// The person the id belongs to now, which later merges may have changed. Filled only when a
    /// lane is read for display ([`DeviceLane::with_current_persons`]); `None` inside the model,
    /// where keeping it current would mean rewriting lanes on every merge.
    pub current_person_id: Option<Uuid>,
    /// That person's display label (`Engine::display_label`), filled in with `current_person_id`.
    pub current_person_label: Option<String>,
}

impl DeviceLane {
    /// A copy of the lane for display, with each segment's `current_person_id` filled in.
    pub fn with_current_persons(&self, engine: &crate::Engine) -> DeviceLane {
        let mut lane = self.clone();
        for segment in &mut lane.segments {
            let person = engine.person_for(&lane.project, &segment.distinct_id);
            segment.current_person_id = person.map(|p| p.id);
            segment.current_person_label = person.map(|p| engine.display_label(p));
        }
        lane
    }
}

/// What a lane's key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LaneKey {
    /// `properties.$device_id` (posthog-js, Mixpanel, Segment's `context.device.id`).
    DeviceId,
    /// The anonymous id the chain started with (server SDKs; PostHog's mobile SDKs, which put no
    /// `$device_id` on events), or a Segment browser's anonymousId.
    AnonymousId,
}

impl LaneKey {
    pub fn as_str(self) -> &'static str {
        match self {
            LaneKey::DeviceId => "device_id",
            LaneKey::AnonymousId => "anonymous_id",
        }
    }
}

/// How a lane moved from one id to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Identify,
    Alias,
    /// reset() (inferred: it sends no event).
    Reset,
    /// reset(true): a new lane continues this one (inferred).
    ResetDevice,
    SwitchWithoutReset,
    /// A `$set` event on the lane's current id.
    Set,
}

impl TransitionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Identify => "identify",
            TransitionKind::Alias => "alias",
            TransitionKind::Reset => "reset",
            TransitionKind::ResetDevice => "reset_device",
            TransitionKind::SwitchWithoutReset => "switch_without_reset",
            TransitionKind::Set => "set",
        }
    }
}

/// Serialised with an `explanation` sentence (see `why.rs`).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(as = "TransitionJson<'static>"))]
pub struct Transition {
    pub kind: TransitionKind,
    pub seq: i64,
    pub event_uuid: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// True when no event says so directly (reset() sends nothing; an identify seen only
    /// through the ids; reset(true) links).
    pub inferred: bool,
    pub(crate) why: Why,
    /// Whose rules the sentence describes.
    pub(crate) family: crate::family::Family,
}

impl Serialize for Transition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TransitionJson {
            kind: self.kind,
            seq: self.seq,
            event_uuid: self.event_uuid.as_deref(),
            timestamp: self.timestamp,
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            inferred: self.inferred,
            explanation: self.explanation(),
        }
        .serialize(s)
    }
}

/// What a [`Transition`] is sent as: its fields with the sentence written out instead of the
/// reason it is built from. One field list for the JSON and the generated TypeScript.
#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "Transition"))]
struct TransitionJson<'a> {
    kind: TransitionKind,
    seq: i64,
    event_uuid: Option<&'a str>,
    timestamp: DateTime<Utc>,
    from: Option<&'a str>,
    to: Option<&'a str>,
    inferred: bool,
    /// The sentence explaining the move, under the lane's family's rules.
    explanation: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSpan {
    pub session_id: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_timestamp: DateTime<Utc>,
    pub last_timestamp: DateTime<Utc>,
    pub event_count: usize,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LaneLink {
    pub lane_id: String,
    pub evidence: String,
    pub inferred: bool,
    /// Timing alone suggests the link (no `$last_posthog_reset`): the lane is NOT treated as a
    /// continuation (no `reset_device` transition, counted as a device of its own by the lint
    /// rules); the link is kept only so the UI can show it as a guess the user asks for.
    pub possible: bool,
}

/// What one event did to the lanes.
#[derive(Debug, Clone)]
pub(crate) struct LaneUpdate {
    pub lane: usize,
    /// The segment the event landed in.
    pub segment: usize,
    /// Transitions this event created or confirmed on its lane (clones).
    pub transitions: Vec<Transition>,
    /// The event changed earlier transitions of its lane (a late segment was placed before the
    /// head and its successor's entry transition re-derived): findings built from the lane's
    /// transitions must be recomputed from `segments`/`transitions`, not just extended.
    pub reclassified: bool,
    /// Other lanes changed (linked to or from `lane` by reset(true) inference); usually none.
    pub linked: Vec<usize>,
}

/// The lanes of one (project, user agent) that reset(true) links are looked for among.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentLanes {
    /// The latest lanes, oldest first; see `link::RECENT_PEERS`.
    recent: std::collections::VecDeque<usize>,
    /// Those of `recent` that carry `$last_posthog_reset` and have no link yet: they may still
    /// find their old lane when it shows up (it can arrive later).
    waiting: Vec<usize>,
}

/// All lanes of all projects.
#[derive(Debug, Clone, Default)]
pub(crate) struct Devices {
    /// Boxed: growing the list then moves pointers, not 400-byte lanes, and leaves no spare
    /// capacity of whole lanes behind.
    #[allow(clippy::vec_box)]
    pub lanes: Vec<Box<LaneState>>,
    /// lane id -> index in `lanes`.
    by_id: HashMap<String, usize>,
    /// (project, distinct id) -> lane id, for events without `$device_id`.
    fallback: HashMap<(String, String), String>,
    /// (project, user agent) -> candidates for reset(true) links.
    by_agent: HashMap<(String, String), AgentLanes>,
    /// Reused to look up `"<project>/<device id>"` without allocating on every event.
    scratch: String,
    /// Set by `key_of` for a `$identify` of a lane without `$device_id`: the lane its target id
    /// was on before the identify moved it to the identify's own chain (see `link_after_reset`).
    left: Option<String>,
}

pub(crate) fn str_prop<'a>(ev: &'a EventInput, key: &str) -> Option<&'a str> {
    ev.prop(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(crate) fn user_agent(ev: &EventInput) -> Option<&str> {
    str_prop(ev, "$raw_user_agent").or_else(|| str_prop(ev, "$user_agent"))
}

/// Where each lane went when one project's lanes were dropped (`Devices::forget_project`): the
/// new index of every kept lane, `None` for a dropped one. Kept lanes keep their order, so
/// everything sorted by lane index stays sorted.
#[derive(Debug, Clone)]
pub(crate) struct LaneRemap(Vec<Option<usize>>);

impl LaneRemap {
    /// The new index of the lane that was at `old`; `None` when it was dropped.
    pub fn get(&self, old: usize) -> Option<usize> {
        self.0.get(old).copied().flatten()
    }

    /// How many lanes were dropped.
    pub fn dropped(&self) -> usize {
        self.0.iter().filter(|l| l.is_none()).count()
    }
}

impl Devices {
    /// Drops every lane of `project` and everything that points at them. Lanes link only to lanes
    /// of their own project (reset links are looked for among one project's lanes), so no other
    /// lane loses a link; the kept lanes move down to close the gaps, and every index into
    /// `lanes` is renumbered (see [`LaneRemap`]), here and by the caller (the lint's).
    pub(crate) fn forget_project(&mut self, project: &str) -> LaneRemap {
        let mut kept = 0;
        let remap = LaneRemap(
            self.lanes
                .iter()
                .map(|l| {
                    (l.lane.project != project).then(|| {
                        kept += 1;
                        kept - 1
                    })
                })
                .collect(),
        );
        if kept == self.lanes.len() {
            return remap;
        }
        self.lanes.retain(|l| l.lane.project != project);
        for lane in &mut self.lanes {
            lane.continued_by = lane.continued_by.and_then(|i| remap.get(i));
            lane.continues = lane.continues.and_then(|i| remap.get(i));
        }
        self.by_id.retain(|_, i| match remap.get(*i) {
            Some(new) => {
                *i = new;
                true
            }
            None => false,
        });
        self.fallback.retain(|(p, _), _| p != project);
        self.by_agent.retain(|(p, _), _| p != project);
        for agent in self.by_agent.values_mut() {
            agent.recent = agent.recent.iter().filter_map(|&i| remap.get(i)).collect();
            agent.waiting = agent.waiting.iter().filter_map(|&i| remap.get(i)).collect();
        }
        self.left = None;
        remap
    }

    pub fn get(&self, lane_id: &str) -> Option<&LaneState> {
        self.by_id.get(lane_id).map(|&i| &*self.lanes[i])
    }

    /// `ev` is the lane view of the event (see `view.rs`), `family` its project's.
    pub fn apply(
        &mut self,
        ev: &EventInput,
        applied: &Applied,
        engine: &Engine,
        family: crate::family::Family,
    ) -> LaneUpdate {
        let idx = self.lane_index(ev, family);
        let mut linked = Vec::new();
        let (segment, transitions, reclassified) = self.lanes[idx].apply(ev, applied, engine);
        linked.extend(self.check_continuation(idx, ev));
        if let Some(left) = self.left.take() {
            linked.extend(self.link_after_reset(idx, &left, ev));
        }
        if self.lanes[idx].lane.user_agent.is_some() && !self.lanes[idx].indexed_agent {
            for id in self.link_lane(idx) {
                if id != idx && !linked.contains(&id) {
                    linked.push(id);
                }
            }
        }
        LaneUpdate { lane: idx, segment, transitions, reclassified, linked }
    }

    /// The event's lane, created if new.
    fn lane_index(&mut self, ev: &EventInput, family: crate::family::Family) -> usize {
        self.left = None;
        let device = str_prop(ev, "$device_id");
        let keyed = device.is_some();
        let (key, kind, lane_id) = match device {
            Some(device) => {
                self.scratch.clear();
                self.scratch.extend([ev.project.as_str(), "/", device]);
                if let Some(&i) = self.by_id.get(self.scratch.as_str()) {
                    return i;
                }
                // A Segment browser's anonymousId stands in for its device (see `view.rs`).
                let kind = match str_prop(ev, crate::posthog_shape::LANE_KEY_KIND) {
                    Some("anonymous_id") => LaneKey::AnonymousId,
                    _ => LaneKey::DeviceId,
                };
                (device.to_owned(), kind, self.scratch.clone())
            }
            None => self.key_of(ev),
        };
        match self.by_id.get(&lane_id) {
            Some(&i) => i,
            None => {
                let i = self.lanes.len();
                self.lanes.push(Box::new(LaneState::new(lane_id.clone(), ev, key, kind, keyed, family)));
                self.by_id.insert(lane_id, i);
                i
            }
        }
    }

    /// The lane key of an event without `$device_id`; records fallback chains
    /// (`$anon_distinct_id`, `alias`).
    fn key_of(&mut self, ev: &EventInput) -> (String, LaneKey, String) {
        let p = ev.project.clone();
        let linked = match ev.event.as_str() {
            "$identify" => ev.prop("$anon_distinct_id").map(js_string),
            "$create_alias" | "$merge_dangerously" => ev.prop("alias").map(js_string),
            _ => None,
        };
        let own = self.fallback.get(&(p.clone(), ev.distinct_id.clone())).cloned();
        let other = linked.as_ref().and_then(|l| self.fallback.get(&(p.clone(), l.clone())).cloned());
        // An identify continues its anonymous id's lane; an alias keeps the event's own lane.
        let lane_id = match (ev.event.as_str(), own, other.clone()) {
            ("$identify", _, Some(anon_lane)) => anon_lane,
            (_, Some(own_lane), _) => own_lane,
            (_, None, Some(other_lane)) => other_lane,
            ("$identify", None, None) => format!("{p}/id:{}", linked.clone().unwrap_or(ev.distinct_id.clone())),
            _ => format!("{p}/id:{}", ev.distinct_id),
        };
        // A `$identify` moves its target id to the chain of its anonymous id: the device that
        // identified last is where that user's next events come from (after reset() and a new
        // login, the new anonymous chain, not the old one).
        if ev.event == "$identify" && other.as_ref() == Some(&lane_id) {
            let before = self.fallback.insert((p.clone(), ev.distinct_id.clone()), lane_id.clone());
            self.left = before.filter(|b| *b != lane_id);
        }
        for id in std::iter::once(ev.distinct_id.clone()).chain(linked) {
            self.fallback.entry((p.clone(), id)).or_insert_with(|| lane_id.clone());
        }
        let key = lane_id[p.len() + 4..].to_owned();
        (key, LaneKey::AnonymousId, lane_id)
    }
}
