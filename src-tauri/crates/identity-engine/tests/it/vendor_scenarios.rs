//! Segment and Mixpanel identity rules, scenario by scenario: persons, decisions (rule and
//! sentence) and findings.

use crate::support::vendor_events;

use identity_engine::*;
use serde_json::json;
use vendor_events::*;

fn run(evs: &[EventInput]) -> Model {
    let mut m = Model::new();
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

fn persons<'a>(m: &'a Model, p: &str) -> Vec<(Vec<&'a str>, bool)> {
    m.engine()
        .persons(p)
        .into_iter()
        .map(|p| (p.distinct_ids.iter().map(String::as_str).collect(), p.is_identified))
        .collect()
}

fn rules(m: &Model, p: &str) -> Vec<String> {
    m.findings(Some(p)).iter().map(|f| f.rule.as_str().to_owned()).collect()
}

fn decision(m: &Model, rule: Rule) -> &Decision {
    m.engine().decisions().iter().find(|d| d.rule == rule).unwrap_or_else(|| panic!("no {rule:?} decision"))
}

/// `context.device.id` counts only with `context.device.type` (here `ios`): Segment's
/// "Identity Resolution Settings", ExternalIDs table.
#[test]
fn segment_identify_links_ids_and_later_traits_win() {
    let m = run(&[
        seg("page", None, Some("a1"), json!({})),
        seg("identify", Some("u1"), Some("a1"), json!({"traits": {"plan": "free", "email": "u1@x.io"}})),
        seg(
            "identify",
            Some("u1"),
            Some("a1"),
            json!({"traits": {"plan": "pro"}, "context": {"device": {"id": "dev-1", "type": "ios"}}}),
        ),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["a1", "u1", "u1@x.io", "dev-1"], true)]);
    let p = m.engine().person_for("seg", "dev-1").unwrap();
    assert_eq!((p.properties["plan"].clone(), p.properties["email"].clone()), (json!("pro"), json!("u1@x.io")));
    assert!(p.history.iter().any(|c| c.key == "plan" && c.old == Some(json!("free"))), "property history kept");
    assert_eq!(p.identified_by.as_ref().map(|r| r.seq), Some(m.engine().decisions()[1].seq));
}

#[test]
fn segment_refuses_a_second_user_id_and_flags_the_shared_anonymous_id() {
    let m = run(&[
        seg_web("identify", Some("u1"), "a1", json!({})),
        seg_web("track", Some("u1"), "a1", json!({})),
        seg_web("identify", Some("u2"), "a1", json!({})),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["u1", "a1"], true), (vec!["u2"], true)]);
    let d = decision(&m, Rule::ProfileLimit);
    assert_eq!(d.kind, DecisionKind::Refused);
    // Unify drops the message's lowest-priority identifier (the anonymous id) instead of tying
    // u1 and u2 together: a1 stays with u1, u2 starts its own profile.
    assert!(
        d.message.contains("dropped 'a1'") && d.message.contains("user_id 'u1'") && d.message.contains("limit 1"),
        "{}",
        d.message
    );
    let r = rules(&m, "seg");
    for rule in ["profile_user_id_limit", "anonymous_id_with_many_user_ids", "missing_reset_between_users"] {
        assert!(r.contains(&rule.to_owned()), "{rule} in {r:?}");
    }
    let f = m.findings(Some("seg")).into_iter().find(|f| f.rule.as_str() == "anonymous_id_with_many_user_ids").unwrap();
    assert_eq!(f.distinct_ids, ["u1", "u2"]);
    assert!(!f.fix.is_empty() && f.message.contains("anonymousId 'a1'"));
}

/// A shared mobile device: the second user's email goes with the second user, while the device
/// id and the anonymous id (lower priority) stay on the first user's profile. Unify demotes the
/// lowest-priority identifier first: `ios.id` ranks below `anonymous_id` (alphabetical from 3),
/// Segment's "Identity Resolution Settings", "Priority".
#[test]
fn segment_shared_device_keeps_the_new_users_email_with_the_new_user() {
    let dev = json!({"context": {"device": {"id": "dev-1", "type": "ios"}}});
    let m = run(&[
        seg(
            "identify",
            Some("u1"),
            Some("a1"),
            json!({"traits": {"email": "u1@x.io"}, "context": {"device": {"id": "dev-1", "type": "ios"}}}),
        ),
        seg("track", None, Some("a2"), dev.clone()),
        seg(
            "identify",
            Some("u2"),
            Some("a2"),
            json!({"traits": {"email": "u2@x.io"}, "context": {"device": {"id": "dev-1", "type": "ios"}}}),
        ),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["u1", "u1@x.io", "a1", "dev-1", "a2"], true), (vec!["u2", "u2@x.io"], true)]);
    let dropped: Vec<_> =
        m.engine().decisions().iter().filter(|d| d.rule == Rule::ProfileLimit).map(|d| d.source.clone()).collect();
    assert_eq!(dropped, [Some("dev-1".to_owned()), Some("a2".to_owned())], "ios.id first, then anonymous_id");
}

/// Blocked values are opt-in ("Segment suggests that ... customers opt into automatically
/// blocking the following suggested values", Identity Resolution Settings): turned on here.
#[test]
fn segment_blocked_values_never_link() {
    let on = ProjectSettings { segment_blocked_values: true, ..ProjectSettings::default() };
    let mut m = Model::with_settings([("seg", on)]);
    for e in [
        seg("identify", Some("null"), Some("a1"), json!({})),
        seg("identify", Some("000"), Some("a2"), json!({})),
        seg("track", Some("u9"), Some("anonymous"), json!({})),
    ] {
        m.apply(&e).unwrap();
    }
    assert_eq!(persons(&m, "seg"), [(vec!["a1"], false), (vec!["a2"], false), (vec!["u9"], true)]);
    let blocked: Vec<&Decision> = m.engine().decisions().iter().filter(|d| d.rule == Rule::BlockedIdentifier).collect();
    assert_eq!(blocked.iter().map(|d| d.source.as_deref().unwrap()).collect::<Vec<_>>(), ["null", "000", "anonymous"]);
    assert!(blocked[0].message.contains("blocked value"));
    assert_eq!(rules(&m, "seg"), ["blocked_identifier_value"; 3]);
}

/// "Alias calls can't be used to merge profiles in Unify" (Segment Spec: Alias): an alias
/// links nothing; a self-alias is still flagged.
#[test]
fn segment_alias_links_nothing_and_self_alias_is_flagged() {
    let m = run(&[
        seg("track", None, Some("a1"), json!({})),
        seg("alias", Some("u1"), Some("a1"), json!({"previousId": "a1"})),
        seg("alias", Some("u1"), None, json!({"previousId": "u1"})),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["a1"], false)]);
    let d = decision(&m, Rule::NotInThisMode);
    assert!(d.message.contains("Alias calls can't be used to merge profiles in Unify"), "{}", d.message);
    assert_eq!(decision(&m, Rule::SelfAlias).kind, DecisionKind::Ignored);
    assert_eq!(rules(&m, "seg"), ["self_alias"]);
}

#[test]
fn segment_keeps_at_most_five_anonymous_ids_per_profile() {
    let evs: Vec<EventInput> =
        (1..=6).map(|i| seg("identify", Some("u1"), Some(&format!("a{i}")), json!({}))).collect();
    let m = run(&evs);
    assert_eq!(persons(&m, "seg"), [(vec!["u1", "a1", "a2", "a3", "a4", "a5"], true)]);
    let d = decision(&m, Rule::ProfileLimit);
    assert_eq!(d.source.as_deref(), Some("a6"));
    assert!(d.message.contains("6 anonymous_id identifiers") && d.message.contains("limit 5"), "{}", d.message);
}

#[test]
fn segment_merges_two_anonymous_profiles_but_not_two_users() {
    let m = run(&[
        seg("track", None, Some("a1"), json!({})),
        seg("track", None, Some("a2"), json!({"context": {"device": {"id": "d1", "type": "android"}}})),
        seg("track", None, Some("a1"), json!({"context": {"device": {"id": "d1", "type": "android"}}})),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["a1", "d1", "a2"], false)]);
    assert_eq!(decision(&m, Rule::ProfilesMerged).kind, DecisionKind::Merged);
    let m = run(&[
        seg("identify", Some("u1"), Some("a1"), json!({})),
        seg("identify", Some("u2"), Some("a2"), json!({})),
        seg("alias", Some("u2"), None, json!({"previousId": "u1"})),
        // Merge protection: a shared email never ties two user ids together.
        seg("identify", Some("u2"), Some("a2"), json!({"traits": {"email": "shared@x.io"}})),
        seg("identify", Some("u1"), None, json!({"traits": {"email": "shared@x.io"}})),
    ]);
    assert_eq!(persons(&m, "seg"), [(vec!["u1", "a1"], true), (vec!["u2", "a2", "shared@x.io"], true)]);
    assert_eq!(decision(&m, Rule::NotInThisMode).kind, DecisionKind::Ignored);
    assert_eq!(decision(&m, Rule::ProfileLimit).source.as_deref(), Some("shared@x.io"));
}

#[test]
fn segment_email_user_id_is_flagged() {
    let m = run(&[seg("identify", Some("max@example.com"), Some("a1"), json!({}))]);
    let f = m.findings(Some("seg")).into_iter().find(|f| f.rule.as_str() == "email_as_distinct_id").expect("finding");
    assert!(f.message.contains("Segment") && f.message.contains("profile"), "{}", f.message);
}

#[test]
fn mixpanel_simplified_links_device_and_user_and_refuses_a_second_user() {
    let m = run(&[
        mp_web("viewed", "d1", None),
        mp_web("$identify", "d1", Some("u1")),
        mp_web("Clicked", "d1", Some("u2")),
    ]);
    assert_eq!(persons(&m, "mpt"), [(vec!["d1", "$device:d1", "u1"], true), (vec!["u2"], true)]);
    let d = decision(&m, Rule::ClusterHasUserId);
    assert!(d.message.contains("already has $user_id 'u1'"), "{}", d.message);
    let r = rules(&m, "mpt");
    for rule in ["cluster_already_has_user_id", "anonymous_id_with_many_user_ids", "missing_reset_between_users"] {
        assert!(r.contains(&rule.to_owned()), "{rule} in {r:?}");
    }
    // The lane keys on $device_id; the user switch is what reset() would have prevented.
    let lane = m.device("mpt/d1").unwrap();
    let kinds: Vec<&str> = lane.transitions.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["identify", "switch_without_reset"]);
}

#[test]
fn mixpanel_reset_starts_a_new_lane_possibly_linked_by_timing() {
    let m = run(&[mp_web("a", "d1", None), mp_web("b", "d1", Some("u1")), mp_web("c", "d2", None)]);
    let new = m.device("mpt/d2").unwrap();
    let link = new.linked_from.as_ref().expect("possible reset");
    assert_eq!(link.lane_id, "mpt/d1");
    // mixpanel-browser sends no reset time: timing is the only evidence, so a guess.
    assert!(link.inferred && link.possible && link.evidence.contains("Possible"), "{}", link.evidence);
    assert!(new.transitions.is_empty(), "{:?}", new.transitions);
    assert_eq!(persons(&m, "mpt"), [(vec!["d1", "$device:d1", "u1"], true), (vec!["d2", "$device:d2"], false)]);
}

#[test]
fn mixpanel_engage_sets_set_once_and_unsets_on_the_cluster() {
    let m = run(&[
        mp_web("a", "d1", Some("u1")),
        engage("u1", json!({"$set": {"plan": "free", "tmp": 1}})),
        engage("$device:d1", json!({"$set_once": {"plan": "ignored", "first": "yes"}})),
        engage("u1", json!({"$unset": ["tmp"]})),
        engage("u-new", json!({"$set": {"k": 1}})),
    ]);
    let p = m.engine().person_for("mpt", "d1").unwrap();
    assert_eq!(serde_json::Value::Object(p.properties.clone()), json!({"plan": "free", "first": "yes"}));
    assert_eq!(decision(&m, Rule::ProfileUpdated).target.as_deref(), Some("u-new"));
    assert_eq!(m.engine().person_for("mpt", "u-new").unwrap().properties["k"], 1);
}

#[test]
fn mixpanel_disallowed_ids_never_merge() {
    let m = run(&[mp("x", "anon", json!({"$device_id": "d1", "$user_id": "undefined"}))]);
    assert_eq!(persons(&m, "mpt"), [(vec!["d1", "$device:d1"], false)]);
    let sources: Vec<&str> = m
        .engine()
        .decisions()
        .iter()
        .filter(|d| d.rule == Rule::BlockedIdentifier)
        .map(|d| d.source.as_deref().unwrap())
        .collect();
    // Simplified ID Merge sets the distinct id itself from $user_id/$device_id, so the hand-set
    // 'anon' is not looked at at all (Mixpanel docs "Identifying Users (Simplified)").
    assert_eq!(sources, ["undefined"]);
    assert!(rules(&m, "mpt").iter().all(|r| r == "blocked_identifier_value"));
}

#[test]
fn mixpanel_simplified_ignores_create_alias() {
    let m = run(&[
        mp_web("a", "d1", Some("u1")),
        mp("$create_alias", "u1", json!({"alias": "other", "$device_id": "d1", "$user_id": "u1"})),
    ]);
    assert_eq!(decision(&m, Rule::NotInThisMode).kind, DecisionKind::Ignored);
    assert!(m.engine().person_for("mpt", "other").is_none());
}

#[test]
fn families_come_from_the_source_and_posthog_stays_posthog() {
    let m = run(&[seg("track", None, Some("a1"), json!({})), mp_web("a", "d1", None)]);
    assert_eq!(
        (m.engine().family("seg"), m.engine().family("mpt"), m.engine().family("none")),
        (Family::Segment, Family::Mixpanel, Family::PostHog)
    );
}
