//! RudderStack's identity: the Profiles ID stitcher
//! (<https://www.rudderstack.com/docs/profiles/identity-stitching/>) as a plain union of every id
//! seen together on one message, and the lanes and findings of @rudderstack/analytics-js v3's
//! own behaviour (`packages/analytics-js/src/components/core/Analytics.ts` in
//! <https://github.com/rudderlabs/rudder-sdk-js>: `userId: ""` on anonymous messages, `alias()`
//! keeps the SDK's user id, a plain `reset()` keeps the anonymousId).

use crate::support::vendor_events::*;

use identity_engine::*;
use serde_json::json;

/// A RudderStack message from a browser (same wire shape as Segment's).
fn rs(ty: &str, user: Option<&str>, anon: &str, extra: serde_json::Value) -> EventInput {
    let mut ev = seg_web(ty, user, anon, extra);
    ev.project = "rs".into();
    ev.source = "rudderstack".into();
    ev
}

/// A server-side RudderStack message (no user agent).
fn rs_server(ty: &str, user: Option<&str>, anon: Option<&str>, extra: serde_json::Value) -> EventInput {
    let mut ev = seg(ty, user, anon, extra);
    ev.project = "rs".into();
    ev.source = "rudderstack".into();
    ev
}

fn run(evs: &[EventInput]) -> Model {
    let mut m = Model::new();
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

fn persons(m: &Model) -> Vec<Vec<String>> {
    m.engine().persons("rs").into_iter().map(|p| p.distinct_ids.clone()).collect()
}

fn rules(m: &Model) -> Vec<String> {
    m.findings(Some("rs")).iter().map(|f| f.rule.as_str().to_owned()).collect()
}

/// ID stitcher: every pair of ids on one message is an edge; a rudder_id is a connected
/// component, with no identifier limits and no priorities (two user ids end up together).
#[test]
fn id_stitcher_is_a_plain_union_without_limits() {
    let m = run(&[
        rs_server("identify", Some("u1"), Some("a1"), json!({"traits": {"email": "e@x.io"}})),
        rs_server("identify", Some("u2"), Some("a1"), json!({})),
        rs_server("track", None, Some("a2"), json!({"context": {"device": {"id": "dev-1"}}})),
        rs_server(
            "track",
            None,
            Some("a3"),
            json!({"context": {"device": {"id": "dev-1"}, "traits": {"email": "e@x.io"}}}),
        ),
    ]);
    assert_eq!(persons(&m), [vec!["u1", "a1", "e@x.io", "u2", "a2", "dev-1", "a3"]]);
    assert!(m.engine().decisions().iter().all(|d| d.rule != Rule::ProfileLimit), "no limits");
    let merged = m.engine().decisions().iter().find(|d| d.rule == Rule::ProfilesMerged).expect("a merge");
    assert!(merged.message.contains("Profiles ID stitcher") && merged.message.contains("not in real time"));
}

/// No blocked values in RudderStack's event stream: `null` is an id like any other; an empty
/// userId (analytics-js v3's anonymous messages) is no id and raises nothing.
#[test]
fn no_blocked_values_and_empty_user_id_is_no_id() {
    let m = run(&[
        rs("page", Some(""), "a1", json!({})),
        rs("track", Some(""), "a1", json!({"event": "Clicked"})),
        rs_server("identify", Some("null"), Some("a9"), json!({})),
    ]);
    assert_eq!(persons(&m), [vec!["a1"], vec!["null", "a9"]]);
    let r = rules(&m);
    assert!(!r.contains(&"blocked_identifier_value".to_owned()), "{r:?}");
}

/// analytics-js v3 `alias(to)`: the alias message carries `to` as its userId once and the SDK
/// keeps its user id, so the device never leaves it: no switch of user.
#[test]
fn analytics_js_v3_alias_is_not_a_switch_without_reset() {
    let m = run(&[
        rs("page", Some(""), "a1", json!({})),
        rs("identify", Some("u1"), "a1", json!({"traits": {"email": "u1@x.io"}})),
        rs("alias", Some("u1-new"), "a1", json!({"previousId": "u1"})),
        rs("track", Some("u1"), "a1", json!({"event": "Clicked"})),
    ]);
    let lane = m.device("rs/a1").expect("lane keyed by the anonymousId");
    let kinds: Vec<&str> = lane.transitions.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["identify", "alias"], "the alias is a marker; the device stays on u1");
    let segs: Vec<&str> = lane.segments.iter().map(|s| s.distinct_id.as_str()).collect();
    assert_eq!(segs, ["a1", "u1"]);
    let why = lane.transitions[1].explanation();
    assert!(why.contains("stays on 'u1'") && why.contains("aliases table"), "{why}");
    let r = rules(&m);
    assert!(!r.contains(&"missing_reset_between_users".to_owned()), "{r:?}");
}

/// analytics-js v3 plain `reset()` keeps the anonymousId (only `reset(true)` makes a new one):
/// the next user's identify shares it, the stitcher joins both users, and the findings say so
/// without claiming reset() was not called.
#[test]
fn analytics_js_v3_plain_reset_keeps_the_anonymous_id() {
    let m = run(&[
        rs("identify", Some("u1"), "a1", json!({})),
        rs("track", Some(""), "a1", json!({"event": "after reset"})),
        rs("identify", Some("u2"), "a1", json!({})),
    ]);
    assert_eq!(persons(&m), [vec!["u1", "a1", "u2"]]);
    let fs = m.findings(Some("rs"));
    let mut r: Vec<&str> = fs.iter().map(|f| f.rule.as_str()).collect();
    r.sort_unstable();
    // The stitcher put two user ids in one rudder_id: two users merged.
    assert_eq!(r, ["anonymous_id_with_many_user_ids", "distinct_users_merged", "missing_reset_between_users"]);
    for f in &fs {
        assert!(!f.message.contains("without reset()"), "{}", f.message);
        assert!(f.message.contains("rudder_id"), "{}", f.message);
    }
    let missing = fs.iter().find(|f| f.rule.as_str() == "missing_reset_between_users").unwrap();
    assert!(missing.message.contains("reset(true)") && missing.fix.contains("reset(true)"), "{missing:?}");
}
