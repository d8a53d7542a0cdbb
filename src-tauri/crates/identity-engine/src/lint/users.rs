//! `distinct_users_merged`: a person (profile, cluster) that owns two or more ids that were each
//! a user id: in PostHog an identify target or the distinct id of an identified event, in Segment
//! and RudderStack a `userId`, in Mixpanel a `$user_id` or identified id, in KISSmetrics a named
//! identity. That is two real users whose events and properties the vendor now mixes.
//!
//! A PostHog alias value is not a user id by itself: `alias()` exists to give one user several
//! distinct ids (an old or back-end id of the same user, PostHog's "alias: assigning multiple
//! distinct IDs to the same user"). It becomes one only once it shows it is a user of its own (it
//! is identified, or identified events are sent as it or name it in `$user_id`); the finding then
//! names the alias, the
//! event that joined the two ids, which is remembered when the alias joins a person that has a
//! user id (`UserIds::aliased`) and looked up when the finding fires.
//!
//! Cost: the user ids of each person are kept incrementally (`UserIds`). An id is declared once;
//! when two persons merge, the smaller set moves into the larger (each id moves O(log n) times
//! over a stream), so no event scans a person's ids. An alias costs one map entry, only when it
//! lands on a person with a user id.

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
    /// PostHog: project -> alias value not (yet) a user id -> the alias event that put it on a
    /// person that had a user id. Removed once the value is declared a user id.
    aliased: HashMap<String, HashMap<String, JoinSite>>,
}

/// The event that joined two ids, and what its device looked like just before it.
#[derive(Debug, Clone)]
struct JoinSite {
    event: String,
    event_uuid: String,
    device: String,
    /// The id the device's latest identified segment before the event was on.
    previous: Option<String>,
    /// The device's latest custom event before this one.
    last_event: Option<String>,
    reset_since: bool,
    /// The key of the `alias_after_identify` finding this alias event fired, if any.
    alias_key: Option<String>,
}

/// Two user ids an event put in one person: one the person had, one that joined it.
struct Join {
    had: String,
    joined: String,
    person: Uuid,
    /// Where they were joined when that was an earlier alias event (else: this event).
    site: Option<JoinSite>,
}

impl UserIds {
    /// `id` was declared a user id of `project` (see the module doc).
    pub(crate) fn is_user_id(&self, project: &str, id: &str) -> bool {
        self.declared.get(project).is_some_and(|d| d.contains_key(id))
    }

    /// Drops what was kept about `project` (see `Lint::forget_project`): `persons` are its
    /// persons, `lanes` renumbers the lanes that stay.
    pub(crate) fn forget_project(
        &mut self,
        project: &str,
        lanes: &crate::devices::LaneRemap,
        persons: &foldhash::HashSet<Uuid>,
    ) {
        self.of_person.retain(|person, _| !persons.contains(person));
        self.declared.remove(project);
        self.aliased.remove(project);
        self.last_custom = std::mem::take(&mut self.last_custom)
            .into_iter()
            .filter_map(|(l, name)| Some((lanes.get(l)?, name)))
            .collect();
    }

    /// Moves the user ids of `from` (a person the event absorbed) into `into`; returns the two
    /// users when both had some.
    fn merge(&mut self, from: Uuid, into: Uuid) -> Option<Join> {
        let moved = self.of_person.remove(&from)?;
        let mut kept = self.of_person.remove(&into).unwrap_or_default();
        let join = (!kept.is_empty() && !moved.is_empty()).then(|| Join {
            had: kept[0].clone(),
            joined: moved[0].clone(),
            person: into,
            site: None,
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
        for id in declared_user_ids(c, self.user_ids.declared.get(p)) {
            if self.user_ids.declared.get(p).and_then(|d| d.get(&id)) == Some(&true) {
                continue;
            }
            let site = self.user_ids.aliased.get_mut(p).and_then(|a| a.remove(&id));
            let declared = self.user_ids.declared.entry(p.to_owned()).or_default();
            let Some(person) = c.engine.person_for(p, &id) else {
                declared.insert(id, false);
                continue;
            };
            declared.insert(id.clone(), true);
            let users = self.user_ids.of_person.entry(person.id).or_default();
            if let Some(had) = users.first() {
                joins.push(Join { had: had.clone(), joined: id.clone(), person: person.id, site });
            }
            users.push(id);
        }
        let last = self.user_ids.last_custom.get(&c.update.lane).cloned();
        if !ev.event.starts_with('$') && last.as_deref() != Some(ev.event.as_str()) {
            self.user_ids.last_custom.insert(c.update.lane, ev.event.clone());
        }
        // 3. An alias value that is not a user id, put on a person that has one: remember where.
        if let Some(value) = alias.filter(|a| c.family == Family::PostHog && !is_illegal_distinct_id(a)) {
            let declared = self.user_ids.declared.get(p).and_then(|d| d.get(value)) == Some(&true);
            let person = c.engine.person_for(p, value).filter(|_| !declared && !c.applied.personless);
            if person.is_some_and(|person| self.user_ids.of_person.get(&person.id).is_some_and(|u| !u.is_empty())) {
                let site = JoinSite {
                    alias_key: Some(format!("alias_after_identify|{p}|{}", c.ev.distinct_id)),
                    ..site_of(c, last.clone())
                };
                self.user_ids.aliased.entry(p.to_owned()).or_default().insert(value.to_owned(), site);
            }
        }
        let Some(join) = joins.into_iter().next() else { return 0 };
        let here = join.site.is_none();
        self.users_joined_by_event = here;
        let site = join.site.unwrap_or_else(|| site_of(c, last));
        // The earlier alias that joined them now joined two users: its finding is an error too.
        if let Some(&i) = site.alias_key.as_ref().and_then(|k| self.by_key.get(k)) {
            self.findings[i].severity = Severity::Error;
        }
        let message = t::users_merged(&t::UsersMerged {
            had: &join.had,
            joined: &join.joined,
            event: &site.event,
            event_uuid: &site.event_uuid,
            device: &site.device,
            previous: site.previous.as_deref(),
            last_event: site.last_event.as_deref(),
            reset_since: site.reset_since,
            shown_by: (!here).then_some((ev.event.as_str(), ev.uuid.as_str())),
            family: c.family,
        });
        let mut f = finding(LintRule::DistinctUsersMerged, Severity::Error, p, message, t::fix_users_merged(c.family));
        f.event_uuids.push(site.event_uuid);
        f.device_ids.push(site.device);
        f.distinct_ids = vec![join.had, join.joined];
        self.report_event(c, format!("distinct_users_merged|{p}|{}", join.person), f)
    }
}

/// The event of `c` as a join site; `last_event` is its lane's latest custom event before it.
/// Walks back over the lane's segments and transitions: only called when a finding fires or an
/// alias lands on a user's person.
fn site_of(c: &Ctx, last_event: Option<String>) -> JoinSite {
    let ev = c.raw;
    let lane = &c.devices.lanes[c.update.lane].lane;
    // What this device was identified as just before the event: the latest identified segment
    // that began before it (walked back from the event's segment).
    let previous = lane.segments[..=c.update.segment].iter().rev().find(|s| s.identified && s.first_seq < ev.seq);
    // A reset() seen on the lane since then (plain reset() in SDKs that keep the anonymous id)
    // means the sentence must not claim one was missing.
    let reset_since = previous.is_some_and(|s| {
        lane.transitions
            .iter()
            .rev()
            .take_while(|t| t.seq > s.first_seq)
            .any(|t| matches!(t.kind, TransitionKind::Reset | TransitionKind::ResetDevice))
    });
    JoinSite {
        event: ev.event.clone(),
        event_uuid: ev.uuid.clone(),
        device: lane.device_id.clone(),
        previous: previous.map(|s| s.distinct_id.clone()),
        last_event,
        reset_since,
        alias_key: None,
    }
}

/// The ids this event names as a user's (see the module doc), at most a few.
/// `known`: the project's ids already declared (a PostHog identified event sent as one of them
/// allocates nothing).
fn declared_user_ids(c: &Ctx, known: Option<&HashMap<String, bool>>) -> Vec<String> {
    let (ev, p) = (c.raw, c.raw.project.as_str());
    match c.family {
        // An `$identify`'s distinct id is the user the SDK was told about; an event the client
        // marks identified (`$is_identified`, posthog-js and the mobile SDKs) is sent as its
        // user's id, and carries in `$user_id` the id identify() was last called with
        // (posthog-js `identify()` registers it as a super property; after `alias(x)` an
        // `identify(x)` keeps the distinct id, so `$user_id` is the only trace of x). Not the
        // lane's inferred flag: an id whose person is identified only because it was aliased to
        // a user says nothing of its own. Illegal ids are never merged.
        Family::PostHog => {
            // Personless events (most of a PostHog project's traffic) return before any property
            // is read.
            if c.applied.personless {
                return Vec::new();
            }
            let identified = c.ev.event == "$identify"
                || c.ev.prop("$is_identified").and_then(serde_json::Value::as_bool) == Some(true);
            if !identified {
                return Vec::new();
            }
            let user_id = c.ev.prop("$user_id").and_then(serde_json::Value::as_str).filter(|u| !u.is_empty());
            let new = |id: &&str| known.and_then(|k| k.get(*id)) != Some(&true) && !is_illegal_distinct_id(id);
            let mut ids: Vec<String> =
                std::iter::once(c.ev.distinct_id.as_str()).filter(new).map(str::to_owned).collect();
            ids.extend(user_id.filter(|u| *u != c.ev.distinct_id).filter(new).map(str::to_owned));
            ids
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
                crate::graph::id_text(ev.prop(field)).filter(|u| !u.is_empty()).into_iter().collect()
            };
            ids.retain(|id| c.engine.id_kind(p, id) == Some(crate::graph::IdKind::UserId));
            ids
        }
    }
}
