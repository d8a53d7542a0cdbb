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
//! - a new id is placed by client time: after the last segment that started no later than its
//!   event (so at the end in the common case), never before the lane's first segment and, for
//!   the target of a `$identify`, right after its `$anon_distinct_id` at the earliest. A late
//!   segment placed before the head re-derives the entry transition of the segment that now
//!   follows it (an inferred reset, identify, alias or switch without reset can turn into
//!   another kind); a confirmed `$identify` is evidence and stays as it is.
//!
//! A `$identify` names the anonymous id the device had just before (`$anon_distinct_id`), so it
//! can reveal an id (and a reset before it) whose own events have not arrived yet.

use foldhash::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::{str_prop, user_agent, DeviceLane, LaneKey, Segment, SessionSpan, Transition, TransitionKind, Why};
use crate::engine::{vendor, Engine};
use crate::graph::IdKind;
use crate::js::js_string;
use crate::origins::reserve_small;
use crate::types::{Applied, Attribution, EventInput};

#[derive(Debug, Clone)]
pub(crate) struct LaneState {
    pub lane: DeviceLane,
    /// Parallel to `lane.segments`.
    meta: Vec<SegmentMeta>,
    /// Segments created so far (numbers `SegmentMeta::created`).
    created: u32,
    /// distinct id -> its latest-created segment, once the lane has more than `SCAN_LIMIT`
    /// segments; below that a scan finds it (see `seg_of`).
    seg_map: Option<Box<HashMap<String, usize>>>,
    /// session id -> index in `lane.sessions`, once there are more than `SCAN_LIMIT`.
    session_map: Option<Box<HashMap<String, usize>>>,
    /// `$last_posthog_reset` of the lane's first event: posthog-js records when reset() ran.
    pub reset_marker: Option<String>,
    /// Whether the lane is in `Devices::by_agent` yet.
    pub indexed_agent: bool,
    /// The lane linked as this one's reset(true) continuation (at most one).
    pub continued_by: Option<usize>,
    /// The lane this one continues (the index behind `lane.linked_from`).
    pub continues: Option<usize>,
    /// Keyed by a device property (`$device_id`, or a Segment browser's anonymousId), not by a
    /// server-side anonymous-id chain: only such lanes take part in reset inference.
    pub keyed: bool,
    /// This lane's `linked_from` rests on timing alone (no `$last_posthog_reset`).
    pub linked_by_time: bool,
    /// The event being applied changed an earlier transition (see `reclassify`).
    reclassified: bool,
    /// What the lane's events say of the device, for lanes without `$device_id` (see
    /// `link::device_description`).
    pub described: Option<String>,
}

/// Nearly every lane has a handful of segments and sessions: scanning them beats a hash map per
/// lane in time and memory (a rebuild holds 100 000 lanes); longer lanes get a map.
const SCAN_LIMIT: usize = 16;

/// What a lane remembers about one segment besides what it shows.
#[derive(Debug, Clone)]
struct SegmentMeta {
    /// Identified, or a non-generated-looking user id (used to tell a switch of users from a
    /// reset when the client does not send `$is_identified`).
    user_like: bool,
    /// The transition into the segment (None for the first one).
    entry: Option<EntryRef>,
    /// Creation order: an id used twice maps to its latest-created segment.
    created: u32,
}

/// Finds a segment's entry transition in `lane.transitions` (sorted by seq): its seq, then
/// what tells apart the few transitions one event creates (the `to` is the segment's id).
#[derive(Debug, Clone, PartialEq)]
struct EntryRef {
    seq: i64,
    kind: TransitionKind,
    from: Option<String>,
    inferred: bool,
}

impl EntryRef {
    fn of(t: &Transition) -> EntryRef {
        EntryRef { seq: t.seq, kind: t.kind, from: t.from.clone(), inferred: t.inferred }
    }
}

/// How an id comes into use.
enum Entry<'a> {
    /// The event's own distinct id.
    Event,
    /// The `$anon_distinct_id` of an identify: the device was on it just before.
    AnonOf,
    /// The target of an identify from this anonymous id.
    IdentifiedFrom(&'a str),
    /// The target of an identify sent while the device was on another identified user, naming
    /// an anonymous id the device had left before (see `apply`).
    SwitchedBy(&'a str),
}

/// SDK-generated anonymous ids are uuids (posthog-js uuidv7, Segment uuidv4, Mixpanel
/// `$device:<uuid>`); database user ids usually are not.
pub(crate) fn looks_generated(id: &str) -> bool {
    Uuid::parse_str(id.strip_prefix("$device:").unwrap_or(id)).is_ok()
}

fn transition(
    kind: TransitionKind,
    ev: &EventInput,
    from: Option<&str>,
    to: &str,
    inferred: bool,
    why: Why,
) -> Transition {
    Transition {
        kind,
        seq: ev.seq,
        // The event that made it visible (for inferred ones: the first event on the new id).
        event_uuid: Some(ev.uuid.clone()),
        timestamp: ev.timestamp,
        from: from.map(str::to_owned),
        to: Some(to.to_owned()),
        inferred,
        why,
        family: crate::family::Family::of_source(&ev.source),
    }
}

impl LaneState {
    pub fn new(
        id: String,
        ev: &EventInput,
        key: String,
        kind: LaneKey,
        keyed: bool,
        family: crate::family::Family,
    ) -> LaneState {
        LaneState {
            lane: DeviceLane {
                id,
                project: ev.project.clone(),
                device_id: key,
                key_kind: kind,
                family,
                source: ev.source.clone(),
                first_seen: ev.timestamp,
                last_seen: ev.timestamp,
                first_seq: ev.seq,
                last_seq: ev.seq,
                event_count: 0,
                user_agent: None,
                segments: Vec::new(),
                transitions: Vec::new(),
                sessions: Vec::new(),
                lib: None,
                linked_from: None,
                cookieless: None,
            },
            meta: Vec::new(),
            created: 0,
            seg_map: None,
            session_map: None,
            reset_marker: str_prop(ev, "$last_posthog_reset").map(str::to_owned),
            indexed_agent: false,
            continued_by: None,
            continues: None,
            keyed,
            linked_by_time: false,
            reclassified: false,
            described: None,
        }
    }

    /// Adds one event; returns its segment, the transitions it created, and whether it changed
    /// earlier transitions of the lane (a late segment re-derived its successor's entry).
    pub fn apply(&mut self, ev: &EventInput, applied: &Applied, engine: &Engine) -> (usize, Vec<Transition>, bool) {
        self.reclassified = false;
        let client_says = ev.prop("$is_identified").and_then(Value::as_bool);
        let anon = match ev.event.as_str() {
            "$identify" => ev.prop("$anon_distinct_id").map(js_string).filter(|a| *a != ev.distinct_id),
            _ => None,
        };
        // Segment and Mixpanel send the anonymous id on every identify, also one for a second
        // user on a device already identified: only an identify that leaves the anonymous id
        // the device is on (or one not seen yet) is an anonymous -> user move; otherwise the
        // change of user is classified like any other (a switch without reset).
        let anon = anon.filter(|a| {
            !vendor(self.lane.family).links_event_ids
                || self.lane.segments.last().is_none_or(|h| h.distinct_id == *a)
                || self.seg_of(a).is_none()
        });
        // @posthog/core (posthog-react-native) sends `$identify` on every change of id, also
        // while identified, naming the anonymous id it kept since its first identify
        // (`posthog-core.ts` `identify`: `$anon_distinct_id` is read before the previous id is
        // stored as the anonymous id). The device is then on another identified user, not on
        // that anonymous id: the move is a change of user without reset(), not anonymous -> user.
        // Only for an identify newer (client time) than the user the device is on: an older one
        // is a late `$identify` of an earlier move (posthog-js flushes them out of order).
        let switched = anon.as_deref().filter(|a| {
            self.lane.segments.last().is_some_and(|h| {
                h.identified
                    && h.distinct_id != *a
                    && h.distinct_id != ev.distinct_id
                    && ev.timestamp >= h.first_timestamp
            }) && self.seg_of(a).is_some()
        });
        let seg = match (&anon, switched) {
            (Some(_), Some(a)) => self.enter(&ev.distinct_id, ev, Entry::SwitchedBy(a), engine, client_says),
            (Some(a), None) => {
                self.enter(a, ev, Entry::AnonOf, engine, Some(false));
                self.enter(&ev.distinct_id, ev, Entry::IdentifiedFrom(a), engine, client_says)
            }
            (None, _) => self.enter(&ev.distinct_id, ev, Entry::Event, engine, client_says),
        };
        self.add_event(seg, ev, applied, client_says);
        if matches!(applied.attribution, Attribution::Dropped) {
            // The client did identify, but PostHog linked nothing: say so where the UI shows it.
            for t in self.lane.transitions.iter_mut().filter(|t| t.seq == ev.seq && t.kind == TransitionKind::Identify)
            {
                t.why = Why::IdentifyDropped;
            }
        }
        match ev.event.as_str() {
            "$create_alias" | "$merge_dangerously" => {
                if let Some(alias) = ev.prop("alias").filter(|a| crate::js::js_truthy(a)) {
                    let alias = js_string(alias);
                    // A Segment alias moves the device to the userId: the change of id this
                    // event just made is the alias itself.
                    let same = |t: &Transition| {
                        t.seq == ev.seq
                            && t.from.as_deref() == Some(alias.as_str())
                            && t.to.as_deref() == Some(ev.distinct_id.as_str())
                    };
                    let links_event_ids = vendor(self.lane.family).links_event_ids;
                    if let Some(t) = self.lane.transitions.iter_mut().rev().find(|t| links_event_ids && same(t)) {
                        (t.kind, t.inferred, t.why) = (TransitionKind::Alias, false, Why::Alias);
                    } else {
                        self.push(transition(
                            TransitionKind::Alias,
                            ev,
                            Some(&alias),
                            &ev.distinct_id,
                            false,
                            Why::Alias,
                        ));
                    }
                }
            }
            "$set" => {
                let keys: Box<[String]> = ["$set", "$set_once", "$unset"]
                    .iter()
                    .filter_map(|k| ev.prop(k).and_then(Value::as_object))
                    .flat_map(|o| o.keys().cloned())
                    .collect();
                self.push(transition(TransitionKind::Set, ev, None, &ev.distinct_id, false, Why::Set(keys)));
            }
            _ => {}
        }
        // Transitions stay sorted by seq, and this event's seq is the highest, so its new
        // transitions are the tail (a recomputed one keeps the seq of the one it replaces).
        let mut new: Vec<Transition> =
            self.lane.transitions.iter().rev().take_while(|t| t.seq == ev.seq).cloned().collect();
        new.reverse();
        (seg, new, self.reclassified)
    }

    /// Makes `id` the segment of this event: the current one, its own earlier one (late event),
    /// or a new one after a classified transition.
    fn enter(&mut self, id: &str, ev: &EventInput, how: Entry, engine: &Engine, client_says: Option<bool>) -> usize {
        let head = self.lane.segments.len().checked_sub(1);
        if let Some(idx) = self.seg_of(id) {
            let h = head.expect("a lane with a segment has a head");
            let late = idx == h
                || !self.lane.segments[idx].identified
                || ev.timestamp < self.lane.segments[h].first_timestamp
                || matches!(how, Entry::AnonOf);
            if late {
                if let Entry::IdentifiedFrom(anon) = how {
                    self.confirm_identify(anon, id, ev);
                    self.lane.segments[idx].identified = true;
                    self.meta[idx].user_like = true;
                }
                return idx;
            }
        }
        let engine_says = engine.person_for(&ev.project, id).is_some_and(|p| p.is_identified);
        let identified = match how {
            Entry::IdentifiedFrom(_) | Entry::SwitchedBy(_) => true,
            Entry::AnonOf => false,
            Entry::Event => client_says.unwrap_or(engine_says),
        };
        let user_like = match how {
            Entry::Event => client_says.unwrap_or(engine_says || !looks_generated(id)),
            _ => identified,
        };
        let at = self.place(ev, &how);
        let entry = (at > 0).then(|| {
            let prev = at - 1;
            let from = self.lane.segments[prev].distinct_id.clone();
            let t = match how {
                Entry::IdentifiedFrom(anon) => identify_transition(ev, anon, id, false),
                Entry::SwitchedBy(anon) if self.meta[prev].user_like => transition(
                    TransitionKind::SwitchWithoutReset,
                    ev,
                    Some(&from),
                    id,
                    false,
                    Why::IdentifyWhileIdentified(anon.into()),
                ),
                _ => self.classify(prev, &from, id, user_like, ev, engine),
            };
            let r = EntryRef::of(&t);
            self.push(t);
            r
        });
        reserve_small(&mut self.lane.segments);
        reserve_small(&mut self.meta);
        self.lane.segments.insert(
            at,
            Segment {
                distinct_id: id.to_owned(),
                person_id: Some(engine.person_id_for(&ev.project, id)),
                identified,
                first_seq: ev.seq,
                last_seq: ev.seq,
                first_timestamp: ev.timestamp,
                last_timestamp: ev.timestamp,
                event_count: 0,
                current_person_id: None,
                current_person_label: None,
            },
        );
        self.created += 1;
        self.meta.insert(at, SegmentMeta { user_like, entry, created: self.created });
        self.index_segment(id, at);
        if at + 1 < self.lane.segments.len() {
            self.reclassify(at + 1, ev, engine);
        }
        at
    }

    /// The latest-created segment of `id`.
    fn seg_of(&self, id: &str) -> Option<usize> {
        match &self.seg_map {
            Some(map) => map.get(id).copied(),
            None => (0..self.lane.segments.len())
                .filter(|&i| self.lane.segments[i].distinct_id == id)
                .max_by_key(|&i| self.meta[i].created),
        }
    }

    /// Keeps `seg_map` right after segment `at` (of `id`) was inserted.
    fn index_segment(&mut self, id: &str, at: usize) {
        if let Some(map) = &mut self.seg_map {
            map.values_mut().filter(|i| **i >= at).for_each(|i| *i += 1);
            map.insert(id.to_owned(), at);
        } else if self.lane.segments.len() > SCAN_LIMIT {
            let mut order: Vec<usize> = (0..self.lane.segments.len()).collect();
            order.sort_by_key(|&i| self.meta[i].created);
            let map = order.into_iter().map(|i| (self.lane.segments[i].distinct_id.clone(), i)).collect();
            self.seg_map = Some(Box::new(map));
        }
    }

    /// Where a new segment for `ev` goes: after the last segment that started no later than
    /// `ev` (client time), scanning back from the head, so the end unless the event is older
    /// than the head's start. Never before the first segment (it keys the lane and its
    /// reset(true) link), nor before the anonymous id a `$identify` comes from.
    fn place(&self, ev: &EventInput, how: &Entry) -> usize {
        let floor = match how {
            Entry::IdentifiedFrom(anon) => self.seg_of(anon).map_or(1, |a| a + 1),
            _ => 1,
        };
        let mut at = self.lane.segments.len();
        while at > floor && self.lane.segments[at - 1].first_timestamp > ev.timestamp {
            at -= 1;
        }
        at
    }

    /// Segment `j` got a new predecessor (a late segment was placed before it): re-derives its
    /// entry transition, keeping the seq, event and time of the event that revealed it. A
    /// confirmed `$identify` names its own anonymous id and is kept.
    fn reclassify(&mut self, j: usize, ev: &EventInput, engine: &Engine) {
        let to = self.lane.segments[j].distinct_id.clone();
        let old = self.meta[j].entry.as_ref().and_then(|r| self.find_entry(r, &to));
        if old.is_some_and(|i| {
            self.lane.transitions[i].kind == TransitionKind::Identify && !self.lane.transitions[i].inferred
        }) {
            return;
        }
        let from = self.lane.segments[j - 1].distinct_id.clone();
        let mut t = self.classify(j - 1, &from, &to, self.meta[j].user_like, ev, engine);
        match old {
            Some(i) => {
                let o = &self.lane.transitions[i];
                (t.seq, t.event_uuid, t.timestamp) = (o.seq, o.event_uuid.clone(), o.timestamp);
                if (&o.kind, &o.from, o.inferred) != (&t.kind, &t.from, t.inferred) {
                    self.reclassified = true;
                }
                self.meta[j].entry = Some(EntryRef::of(&t));
                self.lane.transitions[i] = t;
            }
            None => {
                self.reclassified = true;
                self.meta[j].entry = Some(EntryRef::of(&t));
                self.push(t);
            }
        }
    }

    /// The index in `lane.transitions` of the entry transition `r` of the segment of `to`.
    fn find_entry(&self, r: &EntryRef, to: &str) -> Option<usize> {
        let lo = self.lane.transitions.partition_point(|t| t.seq < r.seq);
        self.lane.transitions[lo..]
            .iter()
            .take_while(|t| t.seq == r.seq)
            .position(|t| EntryRef::of(t) == *r && t.to.as_deref() == Some(to))
            .map(|k| lo + k)
    }

    /// A change of id without an identify event linking them.
    fn classify(
        &self,
        head: usize,
        from: &str,
        to: &str,
        to_user: bool,
        ev: &EventInput,
        engine: &Engine,
    ) -> Transition {
        let person = |id| engine.person_for(&ev.project, id).map(|p| p.id);
        let from_user = self.meta[head].user_like;
        if vendor(self.lane.family).links_event_ids
            && person(from).is_some()
            && person(from) == person(to)
            && !from_user
            && to_user
        {
            // Segment/Mixpanel link the ids an event carries: the move to the user id is the
            // identify itself, seen on the event, not an inference.
            return transition(TransitionKind::Identify, ev, Some(from), to, false, Why::LinkedTogether);
        }
        // Two user ids on one person happen only under a plain union (RudderStack's ID stitcher):
        // that is two users joined through a shared id, not one user under another id.
        let two_users = [from, to].iter().all(|id| engine.id_kind(&ev.project, id) == Some(IdKind::UserId));
        if person(from).is_some() && person(from) == person(to) && !(from_user && to_user && two_users) {
            return transition(TransitionKind::Alias, ev, Some(from), to, true, Why::SamePerson);
        }
        match (from_user, to_user) {
            (true, true) => {
                transition(TransitionKind::SwitchWithoutReset, ev, Some(from), to, false, Why::SwitchWithoutReset)
            }
            (true, false) => transition(TransitionKind::Reset, ev, Some(from), to, true, Why::ResetAfterUser),
            (false, false) => transition(TransitionKind::Reset, ev, Some(from), to, true, Why::ResetWhileAnonymous),
            (false, true) => identify_transition(ev, from, to, true),
        }
    }

    /// A `$identify` from `anon` to `id` arrived after the lane already moved to `id`: mark the
    /// inferred identify as seen, or record it.
    fn confirm_identify(&mut self, anon: &str, id: &str, ev: &EventInput) {
        // Segment/Mixpanel: an identify already shown (the ids arrived together on an earlier
        // event) is not repeated.
        let shown = |t: &Transition| {
            t.kind == TransitionKind::Identify && t.from.as_deref() == Some(anon) && t.to.as_deref() == Some(id)
        };
        if vendor(self.lane.family).links_event_ids && self.lane.transitions.iter().any(shown) {
            return;
        }
        let found = self.lane.transitions.iter().rposition(|t| {
            t.kind == TransitionKind::Identify
                && t.inferred
                && t.from.as_deref() == Some(anon)
                && t.to.as_deref() == Some(id)
        });
        let t = identify_transition(ev, anon, id, false);
        if let Some(i) = found {
            // It now carries the identify's seq: re-inserted to keep the order, and whichever
            // segment it led into keeps finding it.
            let old = Some(EntryRef::of(&self.lane.transitions.remove(i)));
            let new = Some(EntryRef::of(&t));
            self.meta.iter_mut().filter(|m| m.entry == old).for_each(|m| m.entry = new.clone());
        }
        self.push(t);
    }

    /// Inserts keeping `transitions` sorted by seq (appending in the common case).
    pub fn push(&mut self, t: Transition) {
        reserve_small(&mut self.lane.transitions);
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
        if lane.lib.is_none() {
            lane.lib = str_prop(ev, "$lib").map(str::to_owned);
        }
        if self.described.is_none() {
            self.described = super::link::device_description(ev);
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
            self.meta[idx].user_like = true;
        }
        if let Some(session) = str_prop(ev, "$session_id") {
            let i = self.session_index(session, ev);
            let s = &mut self.lane.sessions[i];
            s.last_seq = ev.seq;
            s.first_timestamp = s.first_timestamp.min(ev.timestamp);
            s.last_timestamp = s.last_timestamp.max(ev.timestamp);
            s.event_count += 1;
        }
    }
}

impl LaneState {
    /// The index of `session` in `lane.sessions`, appending it when new.
    fn session_index(&mut self, session: &str, ev: &EventInput) -> usize {
        let spans = &mut self.lane.sessions;
        let found = match &self.session_map {
            Some(map) => map.get(session).copied(),
            // The latest session first: consecutive events nearly always share one.
            None => spans.iter().rposition(|s| s.session_id == session),
        };
        if let Some(i) = found {
            return i;
        }
        reserve_small(spans);
        spans.push(SessionSpan {
            session_id: session.to_owned(),
            first_seq: ev.seq,
            last_seq: ev.seq,
            first_timestamp: ev.timestamp,
            last_timestamp: ev.timestamp,
            event_count: 0,
        });
        let i = spans.len() - 1;
        if let Some(map) = &mut self.session_map {
            map.insert(session.to_owned(), i);
        } else if spans.len() > SCAN_LIMIT {
            let map = spans.iter().enumerate().map(|(i, s)| (s.session_id.clone(), i)).collect();
            self.session_map = Some(Box::new(map));
        }
        i
    }
}

fn identify_transition(ev: &EventInput, anon: &str, id: &str, inferred: bool) -> Transition {
    let why = if inferred { Why::IdentifyInferred } else { Why::Identify };
    transition(TransitionKind::Identify, ev, Some(anon), id, inferred, why)
}
