//! `distinct_users_merged`: a person (profile, cluster) that owns two or more ids that were each
//! a user id: an identify or alias target in PostHog, a `userId` in Segment and RudderStack, a
//! `$user_id` or identified id in Mixpanel, a named identity in KISSmetrics. That is two real
//! users whose events and properties the vendor now mixes.
//!
//! Cost: the user ids of each person are kept incrementally (`UserIds`). An id is declared once;
//! when two persons merge, the smaller set moves into the larger (each id moves O(log n) times
//! over a stream), so no event scans a person's ids.

use foldhash::HashMap;
use uuid::Uuid;

use super::rules::{is_kissmetrics_placeholder, looks_kissmetrics_anonymous, Ctx};
use super::text as t;
use super::{finding, Lint, LintRule, Severity};
use crate::devices::TransitionKind;
use crate::family::Family;
use crate::posthog::is_illegal_distinct_id;
use crate::types::DecisionKind;

/// The user ids each person owns, as the lint has seen them declared.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserIds {
    /// person -> its user ids, in the order they reached it.
    of_person: HashMap<Uuid, Vec<String>>,
    /// project -> id declared a user id -> counted in `of_person` (false: it had no person yet).
    declared: HashMap<String, HashMap<String, bool>>,
    /// lane -> the name of its latest event whose name does not start with `$` (what the user
    /// did last on that device, quoted by the finding).
    last_custom: HashMap<usize, String>,
}

/// Two user ids an event put in one person: one the person had, one that joined it.
struct Join {
    had: String,
    joined: String,
    person: Uuid,
}

impl UserIds {
    /// Moves the user ids of `from` (a person the event absorbed) into `into`; returns the two
    /// users when both had some.
    fn merge(&mut self, from: Uuid, into: Uuid) -> Option<Join> {
        let moved = self.of_person.remove(&from)?;
        let mut kept = self.of_person.remove(&into).unwrap_or_default();
        let join = (!kept.is_empty() && !moved.is_empty()).then(|| Join {
            had: kept[0].clone(),
            joined: moved[0].clone(),
            person: into,
        });
        let (mut big, small) =
            if kept.len() >= moved.len() { (kept, moved) } else { (moved, std::mem::take(&mut kept)) };
        big.extend(small);
        self.of_person.insert(into, big);
        join
    }
}

impl Lint {
    /// `distinct_users_merged`, run before `alias_after_identify` (which it raises to an error
    /// when an alias joined two users). Returns how many findings it created.
    pub(crate) fn distinct_users_merged(&mut self, c: &Ctx, alias: Option<&str>) -> usize {
        self.users_joined_by_event = false;
        let (ev, p) = (c.raw, c.raw.project.as_str());
        let mut joins: Vec<Join> = Vec::new();
        // 1. Persons this event absorbed bring their user ids to the person that absorbed them
        //    (every absorbed person is in its absorber's `merged_from` with this event as `by`).
        for d in c.applied.decisions.iter().filter(|d| d.kind == DecisionKind::Merged) {
            let Some(target) = d.person_id.and_then(|id| c.engine.person_in(p, id)) else { continue };
            for m in target.merged_from.iter().filter(|m| m.by.seq == ev.seq) {
                joins.extend(self.user_ids.merge(m.id, target.id));
            }
        }
        // 2. User ids this event declares join the person they are on now.
        for id in declared_user_ids(c, alias) {
            if self.user_ids.declared.get(p).and_then(|d| d.get(&id)) == Some(&true) {
                continue;
            }
            let declared = self.user_ids.declared.entry(p.to_owned()).or_default();
            let Some(person) = c.engine.person_for(p, &id) else {
                declared.insert(id, false);
                continue;
            };
            declared.insert(id.clone(), true);
            let users = self.user_ids.of_person.entry(person.id).or_default();
            if let Some(had) = users.first() {
                joins.push(Join { had: had.clone(), joined: id.clone(), person: person.id });
            }
            users.push(id);
        }
        let lane = &c.devices.lanes[c.update.lane].lane;
        let last = self.user_ids.last_custom.get(&c.update.lane);
        let before = if joins.is_empty() { None } else { last.cloned() };
        if !ev.event.starts_with('$') && last.map(String::as_str) != Some(ev.event.as_str()) {
            self.user_ids.last_custom.insert(c.update.lane, ev.event.clone());
        }
        let Some(join) = joins.into_iter().next() else { return 0 };
        self.users_joined_by_event = true;
        // What this device was identified as just before the event: the latest identified segment
        // that began before it (walked back from the event's segment; only when the rule fires).
        let previous = lane.segments[..=c.update.segment].iter().rev().find(|s| s.identified && s.first_seq < ev.seq);
        // A reset() seen on the lane since then (plain reset() in SDKs that keep the anonymous
        // id) means the sentence must not claim one was missing.
        let reset_since = previous.is_some_and(|s| {
            lane.transitions
                .iter()
                .rev()
                .take_while(|t| t.seq > s.first_seq)
                .any(|t| matches!(t.kind, TransitionKind::Reset | TransitionKind::ResetDevice))
        });
        let previous = previous.map(|s| s.distinct_id.clone());
        let message = t::users_merged(&t::UsersMerged {
            had: &join.had,
            joined: &join.joined,
            event: &ev.event,
            event_uuid: &ev.uuid,
            device: &lane.device_id,
            previous: previous.as_deref(),
            last_event: before.as_deref(),
            reset_since,
            family: c.family,
        });
        let mut f = finding(LintRule::DistinctUsersMerged, Severity::Error, p, message, t::fix_users_merged(c.family));
        f.event_uuids.push(ev.uuid.clone());
        f.distinct_ids = vec![join.had, join.joined];
        self.report_event(c, format!("distinct_users_merged|{p}|{}", join.person), f)
    }
}

/// The ids this event names as a user's (see the module doc), at most a few.
fn declared_user_ids(c: &Ctx, alias: Option<&str>) -> Vec<String> {
    let (ev, p) = (c.raw, c.raw.project.as_str());
    match c.family {
        // An `$identify`'s distinct id is the user the SDK was told about; an alias's `alias` the
        // id the caller says is the same user. Illegal ids are never merged by PostHog.
        Family::PostHog => {
            if c.applied.personless {
                return Vec::new();
            }
            let identify = (c.ev.event == "$identify").then_some(c.ev.distinct_id.as_str());
            identify.into_iter().chain(alias).filter(|id| !is_illegal_distinct_id(id)).map(str::to_owned).collect()
        }
        Family::KissMetrics => {
            let other = (ev.event == crate::kissmetrics::ALIAS_EVENT)
                .then(|| crate::kissmetrics::alias_other(&ev.properties))
                .flatten();
            std::iter::once(ev.distinct_id.clone())
                .chain(other)
                .filter(|id| !looks_kissmetrics_anonymous(id) && !is_kissmetrics_placeholder(id))
                .collect()
        }
        // The engine's own kinds decide: an id first seen as an anonymous id stays one. Plain
        // messages are read for their one user id field without building the event's steps.
        Family::Segment | Family::RudderStack | Family::Mixpanel => {
            let field = if c.family == Family::Mixpanel { "$user_id" } else { "userId" };
            let mut ids = if c.family == Family::Mixpanel && ev.event.starts_with('$') {
                crate::lens::steps::user_ids_of(ev, c.family)
            } else {
                crate::graph::id_text(ev.properties.get(field)).filter(|u| !u.is_empty()).into_iter().collect()
            };
            ids.retain(|id| c.engine.id_kind(p, id) == Some(crate::graph::IdKind::UserId));
            ids
        }
    }
}
