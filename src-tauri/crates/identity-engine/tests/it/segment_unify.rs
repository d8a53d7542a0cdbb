//! Segment Unify's identity rules, one scenario per documented rule. Sources:
//! "Identity Resolution Settings" (<https://segment.com/docs/unify/identity-resolution/identity-resolution-settings/>),
//! "Unify Limits" (<https://segment.com/docs/unify/product-limits/>), "Spec: Alias"
//! (<https://segment.com/docs/connections/spec/alias/>).

use crate::support::vendor_events::*;

use std::collections::BTreeMap;

use identity_engine::*;
use serde_json::{json, Map, Value};

fn run_with(settings: ProjectSettings, evs: &[EventInput]) -> Model {
    let mut m = Model::with_settings([("seg", settings)]);
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

fn run(evs: &[EventInput]) -> Model {
    run_with(ProjectSettings::default(), evs)
}

fn persons(m: &Model) -> Vec<Vec<String>> {
    m.engine().persons("seg").into_iter().map(|p| p.distinct_ids.clone()).collect()
}

fn rules(m: &Model) -> Vec<String> {
    m.findings(Some("seg")).iter().map(|f| f.rule.as_str().to_owned()).collect()
}

fn decisions(m: &Model, rule: Rule) -> Vec<&Decision> {
    m.engine().decisions().iter().filter(|d| d.rule == rule).collect()
}

/// ExternalIDs table: "android.id: context.device.id when context.device.type = 'android'";
/// a device id without a device type is no identifier.
#[test]
fn identity_resolution_settings_device_id_needs_device_type() {
    let m = run(&[
        seg("track", None, Some("a1"), json!({"context": {"device": {"id": "d-none"}}})),
        seg("track", None, Some("a2"), json!({"context": {"device": {"id": "d-and", "type": "android"}}})),
        seg("track", None, Some("a3"), json!({"context": {"device": {"id": "d-ios", "type": "ios"}}})),
    ]);
    // Within a message, identifiers go by priority: android.id < anonymous_id < ios.id.
    assert_eq!(persons(&m), [vec!["a1"], vec!["d-and", "a2"], vec!["a3", "d-ios"]]);
    assert_eq!(m.engine().id_kind("seg", "d-and"), Some(IdKind::DeviceId));
    assert!(m.engine().person_for("seg", "d-none").is_none());
}

/// ExternalIDs table: `ios.idfa` <- advertisingId only with adTrackingEnabled = true;
/// `ios.push_token` <- context.device.token; `ga_client_id`; `group_id` <- groupId; `email` <-
/// context.traits.email on any call.
#[test]
fn identity_resolution_settings_other_default_identifiers() {
    let m = run(&[
        seg(
            "track",
            None,
            Some("a1"),
            json!({"context": {"device": {"id": "d1", "type": "ios", "advertisingId": "idfa-1", "adTrackingEnabled": true,
                "token": "push-1"}, "integrations": {"Google Analytics": {"clientId": "ga-1"}}, "traits": {"email": "e@x.io"}}}),
        ),
        seg(
            "track",
            None,
            Some("a2"),
            json!({"context": {"device": {"id": "d2", "type": "ios", "advertisingId": "idfa-2"}}}),
        ),
        seg("group", Some("u1"), Some("a3"), json!({"groupId": "acme"})),
    ]);
    let ids = persons(&m);
    assert_eq!(ids[0], ["e@x.io", "a1", "ga-1", "d1", "idfa-1", "push-1"], "email first, then alphabetical");
    assert_eq!(ids[1], ["a2", "d2"], "no idfa without adTrackingEnabled");
    assert_eq!(ids[2], ["u1", "a3", "acme"]);
}

/// "Priority" example: a profile holds user_id abc123 and email jane@example1.com; a new event
/// with user_id abc456 and the same email: Unify demotes the email and creates a new profile
/// holding only abc456.
#[test]
fn identity_resolution_settings_priority_docs_example() {
    let m = run(&[
        seg("identify", Some("abc123"), None, json!({"traits": {"email": "jane@example1.com"}})),
        seg("identify", Some("abc456"), None, json!({"traits": {"email": "jane@example1.com"}})),
    ]);
    assert_eq!(persons(&m), [vec!["abc123", "jane@example1.com"], vec!["abc456"]]);
    let d = decisions(&m, Rule::ProfileLimit);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].source.as_deref(), Some("jane@example1.com"));
    assert!(d[0].message.contains("2 user_id identifiers") && d[0].message.contains("limit 1"), "{}", d[0].message);
}

/// "Limit": a project's own limits replace the defaults (here 1 email, 2 user_ids).
#[test]
fn identity_resolution_settings_custom_limits() {
    let limits = BTreeMap::from([("email".to_owned(), 1), ("user_id".to_owned(), 2)]);
    let s = ProjectSettings { segment_identifier_limits: limits, ..ProjectSettings::default() };
    let m = run_with(
        s,
        &[
            seg("identify", Some("u1"), Some("a1"), json!({"traits": {"email": "one@x.io"}})),
            seg("identify", Some("u1"), Some("a1"), json!({"traits": {"email": "two@x.io"}})),
            seg("identify", Some("u2"), Some("a1"), json!({})),
        ],
    );
    assert_eq!(persons(&m), [vec!["u1", "one@x.io", "a1", "u2"]], "the second email demoted; a 2nd user_id allowed");
}

/// "Identity Resolution Settings": a custom identifier added to the space ("Add Identifier"; here
/// through the project's identifier limits) and sent in `context.externalIds` links profiles like a
/// default one, with its own limit; without the setting it links nothing. "Identity Resolution
/// ExternalIDs": `properties.email` is an email identifier.
#[test]
fn identity_resolution_custom_external_ids_and_properties_email() {
    let phone = |anon: &str| {
        seg(
            "track",
            None,
            Some(anon),
            json!({"context": {"externalIds": [{"id": "+1 555 0100", "type": "phone", "collection": "users", "encoding": "none"}]}}),
        )
    };
    let evs = [phone("a1"), phone("a2"), seg("track", None, Some("a3"), json!({"properties": {"email": "p@x.io"}}))];
    assert_eq!(
        persons(&run(&evs)),
        [vec!["a1"], vec!["a2"], vec!["p@x.io", "a3"]],
        "phone is not the space's identifier"
    );
    let limits = BTreeMap::from([("phone".to_owned(), 1)]);
    let s = ProjectSettings { segment_identifier_limits: limits, ..ProjectSettings::default() };
    assert_eq!(persons(&run_with(s, &evs)), [vec!["a1", "+1 555 0100", "a2"], vec!["p@x.io", "a3"]]);
}

/// Blocked values are opt-in; exact matches are case-sensitive; a blocked value stays in the
/// payload but is never an identifier.
#[test]
fn identity_resolution_settings_blocked_values_opt_in_and_case_sensitive() {
    let evs =
        [seg("identify", Some("null"), Some("a1"), json!({})), seg("identify", Some("NULL"), Some("a2"), json!({}))];
    let off = run(&evs);
    assert_eq!(persons(&off), [vec!["null", "a1"], vec!["NULL", "a2"]], "off by default: both are user ids");
    assert!(!rules(&off).contains(&"blocked_identifier_value".to_owned()));
    let on = run_with(ProjectSettings { segment_blocked_values: true, ..ProjectSettings::default() }, &evs);
    assert_eq!(persons(&on), [vec!["a1"], vec!["NULL", "a2"]], "exact match 'null' only");
    // 'null' is blocked (once, not also as a generic id); 'NULL' is a real user id at Segment that
    // looks like a placeholder.
    assert_eq!(rules(&on), ["blocked_identifier_value", "generic_distinct_id"]);
    assert_eq!(on.findings(Some("seg"))[1].distinct_ids, ["NULL"]);
}

/// Merge protection: an anonymousId not reset between two users, or a shared email, never
/// merges two user_ids.
#[test]
fn merge_protection_never_joins_two_user_ids() {
    let m = run(&[
        seg("identify", Some("u1"), Some("a1"), json!({"traits": {"email": "shared@x.io"}})),
        seg("identify", Some("u2"), Some("a1"), json!({})),
        seg("identify", Some("u3"), Some("a9"), json!({"traits": {"email": "shared@x.io"}})),
        seg("track", None, Some("a1"), json!({"context": {"traits": {"email": "shared@x.io"}}})),
    ]);
    // u3's message: Unify demotes its lowest-priority identifier first (a9, though not in
    // conflict), then the shared email, and u3 starts a profile of its own.
    assert_eq!(persons(&m), [vec!["u1", "shared@x.io", "a1"], vec!["u2"], vec!["u3"]]);
    for p in m.engine().persons("seg") {
        let users = p.distinct_ids.iter().filter(|i| m.engine().id_kind("seg", i) == Some(IdKind::UserId)).count();
        assert!(users <= 1, "{:?}", p.distinct_ids);
    }
}

/// Spec: Alias: "Alias calls can't be used to merge profiles in Unify".
#[test]
fn spec_alias_links_nothing_in_unify() {
    let m = run(&[
        seg("identify", Some("u1"), Some("a1"), json!({})),
        seg("identify", Some("u2"), Some("a2"), json!({})),
        seg("alias", Some("u2"), Some("a2"), json!({"previousId": "u1"})),
    ]);
    assert_eq!(persons(&m), [vec!["u1", "a1"], vec!["u2", "a2"]]);
    let d = decisions(&m, Rule::NotInThisMode);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DecisionKind::Ignored);
    assert!(d[0].message.contains("Alias calls can't be used to merge profiles in Unify"));
}

/// Traits: on a merge a trait both profiles hold takes the newest value; `null` removes a
/// trait; `""` is kept.
#[test]
fn traits_newest_wins_on_merge_null_removes_empty_kept() {
    let dev = |id: &str| json!({"context": {"device": {"id": id, "type": "android"}}});
    let mut second = dev("d1");
    second["traits"] = json!({"plan": "pro", "city": ""});
    let m = run(&[
        // The older profile (a1) gets plan=free first, then a2's profile gets plan=pro later.
        seg("identify", None, Some("a1"), json!({"traits": {"plan": "free", "nick": "x"}})),
        seg("identify", None, Some("a2"), second),
        // One message carrying both: the profiles merge into the older one; plan takes "pro".
        seg("track", None, Some("a1"), dev("d1")),
        seg("identify", None, Some("a1"), json!({"traits": {"nick": null}})),
    ]);
    assert_eq!(persons(&m).len(), 1);
    let p = m.engine().person_for("seg", "a1").unwrap();
    assert_eq!(p.properties.get("plan"), Some(&json!("pro")), "newest value wins");
    assert_eq!(p.properties.get("city"), Some(&json!("")), "\"\" is kept");
    assert!(!p.properties.contains_key("nick"), "null removes the trait");
}

/// Unify Limits: identify with 300 or more traits, more than 300 properties, a messageId over
/// 100 characters: dropped (stored, explained, no identity effect).
#[test]
fn unify_limits_dropped_messages() {
    let many = |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!(i))).collect::<Map<String, Value>>());
    let m = run(&[
        seg("identify", Some("u1"), Some("a1"), json!({"traits": many(300)})),
        seg("track", Some("u2"), Some("a2"), json!({"properties": many(301)})),
        seg("track", Some("u3"), Some("a3"), json!({"messageId": "m".repeat(101)})),
        seg("identify", Some("u4"), Some("a4"), json!({"traits": many(299), "messageId": "m".repeat(100)})),
    ]);
    assert_eq!(persons(&m), [vec!["u4", "a4"]]);
    let d = decisions(&m, Rule::MessageDropped);
    assert_eq!(d.len(), 3);
    assert!(d[0].message.contains("300 or more traits"), "{}", d[0].message);
    assert!(d[1].message.contains("more than 300 properties"), "{}", d[1].message);
    assert!(d[2].message.contains("longer than 100 characters"), "{}", d[2].message);
    assert_eq!(m.devices(None).iter().map(|l| l.event_count).sum::<usize>(), 4, "every message stays on a lane");
}

/// Unify Limits, "Identity Merges": up to 100 merges per profile; then no more merges.
#[test]
fn unify_limits_one_hundred_merges_per_profile() {
    let limits = BTreeMap::from([("anonymous_id".to_owned(), 1000)]);
    let s = ProjectSettings { segment_identifier_limits: limits, ..ProjectSettings::default() };
    let mut evs: Vec<EventInput> = (0..102).map(|i| seg("track", None, Some(&format!("a{i}")), json!({}))).collect();
    evs.push(seg("identify", Some("u1"), None, json!({})));
    evs.extend((0..102).map(|i| seg("track", Some("u1"), Some(&format!("a{i}")), json!({}))));
    let m = run_with(s, &evs);
    let p = m.engine().person_for("seg", "u1").unwrap();
    assert_eq!(p.merged_from.len(), 100);
    assert_eq!(persons(&m).len(), 3, "u1's profile and the two it could not merge");
    let refused = decisions(&m, Rule::ProfileLimit);
    assert_eq!(refused.len(), 2);
    assert!(refused[0].message.contains("100 merges"), "{}", refused[0].message);
}

/// Unify Limits, "Identity Mappings": up to 1000 identifiers per profile; then no more are added
/// and the message still resolves to the profile.
#[test]
fn unify_limits_one_thousand_mappings_per_profile() {
    let limits = BTreeMap::from([("anonymous_id".to_owned(), 5000)]);
    let s = ProjectSettings { segment_identifier_limits: limits, ..ProjectSettings::default() };
    let evs: Vec<EventInput> =
        (0..1001).map(|i| seg("track", Some("u1"), Some(&format!("a{i}")), json!({"event": "Clicked"}))).collect();
    let m = run_with(s, &evs);
    assert_eq!(persons(&m).len(), 1);
    assert_eq!(m.engine().person_for("seg", "u1").unwrap().distinct_ids.len(), 1000);
    let refused = decisions(&m, Rule::ProfileLimit);
    assert_eq!(refused.iter().map(|d| d.source.as_deref()).collect::<Vec<_>>(), [Some("a999"), Some("a1000")]);
    assert!(refused[0].message.contains("1000 identifiers"), "{}", refused[0].message);
}
