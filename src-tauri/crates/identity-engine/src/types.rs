//! The engine's vocabulary: what goes in (events), what comes out (persons, decisions, warnings).
//! Everything here is plain data and serialises to JSON for the UI.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::origins::SortedVecMap;

/// One stored event, as the server received it. `seq` is the arrival order: the engine
/// requires it to strictly increase from one `apply` to the next, because PostHog computes
/// persons in arrival order, not in client timestamp order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventInput {
    pub seq: i64,
    pub uuid: String,
    /// The project token; it stands in for PostHog's team id (person uuids, isolation).
    pub project: String,
    /// The stored `events.source`: `posthog`, `segment`, `rudderstack` or `mixpanel`; picks the
    /// identity rules (see `Family`). Missing in older JSON: PostHog.
    #[serde(default = "posthog_source")]
    pub source: String,
    pub event: String,
    pub distinct_id: String,
    /// The corrected (server-side) timestamp; becomes `created_at` of persons it creates.
    pub timestamp: DateTime<Utc>,
    /// Event properties as stored, including `$set`, `$set_once`, `$unset`,
    /// `$anon_distinct_id`, `alias` and `$process_person_profile`.
    pub properties: Map<String, Value>,
}

impl EventInput {
    /// The event property `key`. The rules read a dozen properties of every event, and most of
    /// those lookups miss: a `BTreeMap` search compares the key with its neighbours byte by byte
    /// (`memcmp`, and nearly every key shares the `$` prefix), while an equality test skips
    /// every key of another length without reading it. The maps the model gets are small (only
    /// `input::MODEL_KEYS`), so a scan is cheaper: reading properties this way took a 1M-event
    /// rebuild's model thread from 1.80–1.88 s to 1.65–1.78 s (docs/PERFORMANCE.md).
    pub fn prop(&self, key: &str) -> Option<&Value> {
        prop(&self.properties, key)
    }
}

/// `map[key]`, found by scanning for an equal key (see [`EventInput::prop`]): for the event
/// property maps the vendor rules read directly (a Segment or RudderStack message's fields),
/// which are as small.
pub fn prop<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

fn posthog_source() -> String {
    "posthog".to_owned()
}

/// A pointer back to the event that did something, with enough to explain it in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventRef {
    pub seq: i64,
    pub event_uuid: String,
    pub event: String,
    pub timestamp: DateTime<Utc>,
}

impl EventRef {
    pub fn of(ev: &EventInput) -> EventRef {
        EventRef { seq: ev.seq, event_uuid: ev.uuid.clone(), event: ev.event.clone(), timestamp: ev.timestamp }
    }
}

/// A time as the sentences write it: `2027-01-15 10:00:00 UTC`.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// For every key of a person's properties: the event that set its current value.
pub type PropertyOrigins = SortedVecMap<PropertyOrigin>;

/// How a property value came to be (or stopped being) on a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// `$set` (also the `$set` part of a person's creation).
    Set,
    /// `$set_once` (also the `$set_once` part of a person's creation).
    SetOnce,
    /// `$unset` removed the key.
    Unset,
    /// Merge: the source person's value lost the clash against the target's and was discarded.
    MergeLost,
    /// Merge: the target had no such key, so the source person's value was carried over.
    MergeAdopted,
    /// PostHog skipped the write: the event's only changes were to existing keys PostHog does
    /// not write on their own (`FILTERED_PERSON_UPDATE_PROPERTIES`: `$current_url`, `$browser`,
    /// ...). `new` is the value the event carried; the person keeps `old`.
    FilteredSkipped,
}

/// Which event set the current value of a property, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PropertyOrigin {
    /// Shared: one event sets many keys, and each key's origin and history entry point at it.
    #[cfg_attr(feature = "ts", ts(as = "EventRef"))]
    pub by: Arc<EventRef>,
    pub op: ChangeOp,
}

/// One change in a person's property history. `old`/`new` are `None` when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PropertyChange {
    pub key: String,
    pub op: ChangeOp,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The event that made this change (for merges: the merge event), shared with the other
    /// changes and origins it made.
    #[cfg_attr(feature = "ts", ts(as = "EventRef"))]
    pub by: Arc<EventRef>,
    /// Where the replaced or discarded value had come from, when known.
    pub replaced_origin: Option<PropertyOrigin>,
    /// `FilteredSkipped` only: how many earlier skipped writes of the same key this entry stands
    /// for. Consecutive skipped writes of a key fold into its last entry (the newest value and
    /// event win), so a person's history grows with its real writes, not with every page view
    /// that changed `$current_url`. Always 0 for the other ops.
    #[serde(default)]
    pub folded: u32,
}

impl PropertyChange {
    /// A value the merge `by` discarded: `old` is the value lost, `new` what the key holds after
    /// the merge (`None` when the key is gone), `replaced_origin` where the lost value came from.
    pub(crate) fn merge_lost(
        key: String,
        old: Option<Value>,
        new: Option<Value>,
        by: &Arc<EventRef>,
        replaced_origin: Option<PropertyOrigin>,
    ) -> PropertyChange {
        PropertyChange { key, op: ChangeOp::MergeLost, old, new, by: by.clone(), replaced_origin, folded: 0 }
    }
}

/// A person that was merged into this one and deleted, as it was just before the merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MergedPerson {
    pub id: Uuid,
    pub distinct_ids: Vec<String>,
    pub is_identified: bool,
    pub properties: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    /// Its own property history up to the merge.
    pub history: Vec<PropertyChange>,
    /// The merge event.
    #[cfg_attr(feature = "ts", ts(as = "EventRef"))]
    pub by: Arc<EventRef>,
}

/// A PostHog person as the engine computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Person {
    /// uuidv5 of "<project>:<first distinct id>" (see `person_uuid`); never changes.
    pub id: Uuid,
    pub project: String,
    /// In the order they were added; the first one is the one the uuid was derived from.
    pub distinct_ids: Vec<String>,
    /// Once true, never false again.
    pub is_identified: bool,
    /// The event that first made the person identified.
    #[cfg_attr(feature = "ts", ts(as = "Option<EventRef>"))]
    pub identified_by: Option<Arc<EventRef>>,
    pub properties: Map<String, Value>,
    /// The earliest creation time of this person and every person merged into it.
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "ts", ts(as = "EventRef"))]
    pub created_by: Arc<EventRef>,
    /// For every key of `properties`: the event that set its current value. Serialised as a map
    /// (`SortedVecMap`'s own `Serialize`), so TypeScript sees one.
    #[cfg_attr(feature = "ts", ts(as = "std::collections::BTreeMap<String, PropertyOrigin>"))]
    pub property_origins: PropertyOrigins,
    /// Every property change in processing order, including values overwritten or lost in merges.
    pub history: Vec<PropertyChange>,
    /// Every person merged into this one (directly or through persons merged earlier).
    pub merged_from: Vec<MergedPerson>,
    /// PostHog cookieless: the placeholder the person's first cookieless event sent and what
    /// PostHog turned it into.
    pub cookieless: Option<crate::posthog::Cookieless>,
}

impl Person {
    /// A short label for messages: the first distinct id, plus how many others.
    pub fn label(&self) -> String {
        match self.distinct_ids.len() {
            0 | 1 => self.distinct_ids.first().cloned().unwrap_or_default(),
            n => format!("{} +{} other id{}", self.distinct_ids[0], n - 1, if n == 2 { "" } else { "s" }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Merged,
    Attached,
    Created,
    Refused,
    Ignored,
    Dropped,
}

/// Stable rule ids; the UI keys its explanations on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A personful event for an id without a person created an anonymous person.
    PersonCreated,
    /// Merge where neither id had a person: one identified person owning both.
    MergeCreatedPerson,
    /// Merge where only the target had a person: the source id joined it.
    MergeAttachedSource,
    /// Merge where only the source had a person: the target id joined it.
    MergeAttachedTarget,
    /// Merge of two different persons: the source person moved into the target.
    MergeIntoTarget,
    /// `$merge_dangerously` merged an identified source person (which any other event would refuse).
    MergeDangerouslyIdentifiedSource,
    /// Both ids already on the same person.
    SamePerson,
    SameDistinctId,
    IllegalDistinctId,
    SourceAlreadyIdentified,
    IdentifyWithoutAnonId,
    /// `$create_alias` / `$merge_dangerously` without a truthy `alias` property.
    AliasMissing,
    PersonlessMergeEventDropped,
    PersonlessGroupidentifyDropped,
    /// PostHog: `$groupidentify` with a `$group_key` over 400 characters was dropped.
    GroupKeyTooLong,
    /// PostHog: its cookieless step dropped the event (alias/merge, Stateless `$identify`,
    /// Disabled mode, or no user agent/host to hash).
    CookielessDropped,
    /// Segment/Mixpanel: an identifier of the event joined an existing profile (cluster).
    IdentifierLinked,
    /// Segment/Mixpanel: two profiles (clusters) became one.
    ProfilesMerged,
    /// Segment: the profile already holds a user_id (limit 1) or 5 identifiers of that kind.
    ProfileLimit,
    /// Mixpanel: the cluster already has another `$user_id`.
    ClusterHasUserId,
    /// Segment blocked value / Mixpanel disallowed id: never linked.
    BlockedIdentifier,
    /// `alias` whose previousId equals its userId.
    SelfAlias,
    /// The vendor's rules do not merge on this call: Mixpanel's `$create_alias` / `$merge` in
    /// Simplified ID Merge, `$merge` anywhere but `/import` in Original; Segment Unify's `alias`.
    NotInThisMode,
    /// Mixpanel `/engage` for an id without a cluster made a profile.
    ProfileUpdated,
    /// The vendor drops the whole message (Segment Unify: 300 traits, a messageId over 100
    /// characters...): stored by the inspector, no identity effect.
    MessageDropped,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PersonCreated => "person_created",
            Rule::MergeCreatedPerson => "merge_created_person",
            Rule::MergeAttachedSource => "merge_attached_source",
            Rule::MergeAttachedTarget => "merge_attached_target",
            Rule::MergeIntoTarget => "merge_into_target",
            Rule::MergeDangerouslyIdentifiedSource => "merge_dangerously_identified_source",
            Rule::SamePerson => "same_person",
            Rule::SameDistinctId => "same_distinct_id",
            Rule::IllegalDistinctId => "illegal_distinct_id",
            Rule::SourceAlreadyIdentified => "source_already_identified",
            Rule::IdentifyWithoutAnonId => "identify_without_anon_id",
            Rule::AliasMissing => "alias_missing",
            Rule::PersonlessMergeEventDropped => "personless_merge_event_dropped",
            Rule::PersonlessGroupidentifyDropped => "personless_groupidentify_dropped",
            Rule::GroupKeyTooLong => "group_key_too_long",
            Rule::CookielessDropped => "cookieless_dropped",
            Rule::IdentifierLinked => "identifier_linked",
            Rule::ProfilesMerged => "profiles_merged",
            Rule::ProfileLimit => "profile_limit",
            Rule::ClusterHasUserId => "cluster_has_user_id",
            Rule::BlockedIdentifier => "blocked_identifier",
            Rule::SelfAlias => "self_alias",
            Rule::NotInThisMode => "not_in_this_mode",
            Rule::ProfileUpdated => "profile_updated",
            Rule::MessageDropped => "message_dropped",
        }
    }
}

/// What the engine decided about one event, and why, in a sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Decision {
    pub seq: i64,
    pub event_uuid: String,
    /// The event's (corrected) time, so a decision can be placed on a timeline without the event.
    pub timestamp: DateTime<Utc>,
    pub project: String,
    pub event: String,
    pub kind: DecisionKind,
    pub rule: Rule,
    /// The id being merged away (`$anon_distinct_id` or `alias`), for merge-type events.
    pub source: Option<String>,
    /// The id merged into (the event's distinct id).
    pub target: Option<String>,
    /// The person the event ended on, after the decision (None when dropped).
    pub person_id: Option<Uuid>,
    pub message: String,
}

/// PostHog ingestion warnings the engine reproduces (names as PostHog spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    CannotMergeWithIllegalDistinctId,
    CannotMergeAlreadyIdentified,
    InvalidEventWhenProcessPersonProfileIsFalse,
    InvalidProcessPersonProfile,
    ServerIdentifyWithoutAnonId,
    /// Segment/Mixpanel: a blocked (disallowed) identifier value was sent.
    BlockedIdentifierValue,
    /// Segment: a message would give a profile a second user_id (or a 6th identifier of a kind).
    ProfileUserIdLimit,
    /// Mixpanel: an identify for a cluster that already has another `$user_id`.
    ClusterAlreadyHasUserId,
    /// `alias` with previousId == userId: nothing to link.
    SelfAlias,
    /// PostHog: `$groupidentify` whose `$group_key` is longer than 400 characters (dropped).
    GroupKeyTooLong,
}

impl WarningKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::CannotMergeWithIllegalDistinctId => "cannot_merge_with_illegal_distinct_id",
            WarningKind::CannotMergeAlreadyIdentified => "cannot_merge_already_identified",
            WarningKind::InvalidEventWhenProcessPersonProfileIsFalse => {
                "invalid_event_when_process_person_profile_is_false"
            }
            WarningKind::InvalidProcessPersonProfile => "invalid_process_person_profile",
            WarningKind::ServerIdentifyWithoutAnonId => "server_identify_without_anon_id",
            WarningKind::BlockedIdentifierValue => "blocked_identifier_value",
            WarningKind::ProfileUserIdLimit => "profile_user_id_limit",
            WarningKind::ClusterAlreadyHasUserId => "cluster_already_has_user_id",
            WarningKind::SelfAlias => "self_alias",
            WarningKind::GroupKeyTooLong => "group_key_too_long",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Warning {
    pub kind: WarningKind,
    pub seq: i64,
    pub event_uuid: String,
    pub project: String,
    pub event: String,
    /// The ids involved (the illegal one first for `cannot_merge_with_illegal_distinct_id`).
    pub distinct_ids: Vec<String>,
    pub message: String,
}

/// Which person PostHog writes on the stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "type", content = "person_id")]
pub enum Attribution {
    /// A real person.
    Person(Uuid),
    /// Personless event for an id without a person: PostHog writes the deterministic uuid of
    /// the distinct id, with no person row behind it (until a later merge links it).
    Personless(Uuid),
    /// PostHog drops the event.
    Dropped,
}

/// The result of applying one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Applied {
    pub seq: i64,
    pub event_uuid: String,
    pub attribution: Attribution,
    /// True when `$process_person_profile === false` (whether or not the event was dropped).
    pub personless: bool,
    pub decisions: Vec<Decision>,
    pub warnings: Vec<Warning>,
    /// PostHog cookieless: the event as PostHog's cookieless step rewrote it (what lanes and
    /// lint read instead of the event as sent) and what the placeholder became.
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub rewritten: Option<Box<(EventInput, crate::posthog::Cookieless)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("event seq {seq} arrived after seq {last}: events must be applied in strictly increasing arrival order")]
    OutOfOrder { seq: i64, last: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChangeOp, EventRef};

    fn origin(seq: i64) -> PropertyOrigin {
        let by = EventRef { seq, event_uuid: format!("e{seq}"), event: "$set".into(), timestamp: Default::default() };
        PropertyOrigin { by: Arc::new(by), op: ChangeOp::Set }
    }

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut o = PropertyOrigins::default();
        assert_eq!(o.insert("b".into(), origin(1)), None);
        assert_eq!(o.insert("a".into(), origin(2)), None);
        assert_eq!(o.insert("b".into(), origin(3)), Some(origin(1)));
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o["b"], origin(3));
        assert_eq!(o.remove("a"), Some(origin(2)));
        assert_eq!((o.len(), o.get("a")), (1, None));
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["b"]["by"]["seq"], 3);
        assert_eq!(serde_json::from_value::<PropertyOrigins>(json).unwrap(), o);
    }

    #[test]
    fn prop_finds_what_the_map_holds_and_nothing_else() {
        let properties: Map<String, Value> =
            serde_json::from_str(r#"{"$device_id":"d1","$session_id":"s1","$set":{"email":"a@b.c"},"$lib":"web"}"#)
                .unwrap();
        let ev = EventInput {
            seq: 1,
            uuid: "u".into(),
            project: "p".into(),
            source: "posthog".into(),
            event: "$pageview".into(),
            distinct_id: "d".into(),
            timestamp: DateTime::<Utc>::default(),
            properties: properties.clone(),
        };
        for key in ["$device_id", "$session_id", "$set", "$lib", "$li", "$device_i", "$process_person_profile", ""] {
            assert_eq!(ev.prop(key), properties.get(key), "{key}");
        }
    }
}
