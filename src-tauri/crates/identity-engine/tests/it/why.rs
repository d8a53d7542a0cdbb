//! `Model::why`: the shortest chain of decisions that joined two ids, the refusals that keep two
//! ids apart, and the root cause the lanes and findings show, for every vendor family.

use std::collections::BTreeMap;

use identity_engine::*;
use serde_json::json;

use crate::support::browser::{js, js_identify, model, ANON1, ANON2};
use crate::support::engine::{alias, identify, pageview};
use crate::support::vendor_events::{mixpanel_model, mp, mp_web, seg, seg_web};
use crate::support::P;

fn why(m: &Model, project: &str, a: &str, b: &str) -> WhyAnswer {
    m.why(project, a, b).unwrap_or_else(|e| panic!("why({a}, {b}): {e}"))
}

/// (event name, from, to) of every step.
fn steps(chain: &[WhyStep]) -> Vec<(&str, &str, &str)> {
    chain.iter().map(|s| (s.event.event.as_str(), s.from.as_str(), s.to.as_str())).collect()
}

/// The review's shared computer: posthog-js identified as user-a, `logged_out` without reset(),
/// then signup calls `alias('user-b')` and `identify('user-b')` (posthog-js, already
/// identified, switches to user-b without a `$identify`). PostHog adds an alias to the person of
/// the id that sends it (`$create_alias`: alias -> distinct id), so user-b joins user-a's person.
#[test]
fn posthog_shared_computer_names_the_alias_and_the_missing_reset() {
    let m = model(vec![
        js("$pageview", ANON1, "dev-1", false, json!({})),
        js_identify("user-a", ANON1, "dev-1"),
        js("logged_out", "user-a", "dev-1", true, json!({})),
        js("$create_alias", "user-a", "dev-1", true, json!({"alias": "user-b"})),
        js("$pageview", "user-b", "dev-1", true, json!({})),
    ]);
    let w = why(&m, P, "user-a", "user-b");
    assert!(w.together, "{w:?}");
    assert_eq!(steps(&w.chain), [("$create_alias", "user-a", "user-b")], "one event joined them: the alias");
    let step = &w.chain[0];
    assert_eq!((step.event.seq, step.event.event_uuid.as_str()), (4, "ev-4"));
    assert_eq!(step.lane_id.as_deref(), Some(format!("{P}/dev-1").as_str()));
    let decision = m.engine().decisions().iter().find(|d| d.seq == 4).unwrap();
    assert_eq!((step.rule, &step.sentence), (decision.rule, &decision.message), "the decision's own rule and words");
    let cause = w.root_cause.expect("the alias after identify on a device still identified as user-a");
    for part in
        ["still identified as 'user-a'", "no reset()", "`alias('user-b')` joined the two users", "alias_after_identify"]
    {
        assert!(cause.contains(part), "{part:?} missing from {cause:?}");
    }
    assert_eq!((w.a.person_id, w.a.person_ids), (w.b.person_id, 3));
    // With the event names the server reads from its store, the cause quotes the last one.
    let named = m
        .why_with(P, "user-b", "user-a", &|id, seq| (id == "user-a" && seq == 4).then(|| "logged_out".to_owned()))
        .unwrap();
    let cause = named.root_cause.unwrap();
    assert!(cause.contains("no reset() after `logged_out`, then `alias('user-b')`"), "{cause}");
    assert_eq!(steps(&named.chain), [("$create_alias", "user-b", "user-a")], "path order follows the question");
}

/// The same device and calls, but the alias names a second id of the same user (signup keeping a
/// legacy id) that no lane is ever identified as: one user, no root cause to report.
#[test]
fn posthog_alias_of_a_second_id_has_no_root_cause() {
    let m = model(vec![
        js("$pageview", ANON1, "dev-1", false, json!({})),
        js_identify("user-a", ANON1, "dev-1"),
        js("clicked", "user-a", "dev-1", true, json!({})),
        js("$create_alias", "user-a", "dev-1", true, json!({"alias": "legacy-4711"})),
        js("$pageview", "user-a", "dev-1", true, json!({})),
    ]);
    let w = why(&m, P, "user-a", "legacy-4711");
    assert_eq!(steps(&w.chain), [("$create_alias", "user-a", "legacy-4711")]);
    assert_eq!(w.root_cause, None, "{w:?}");
}

/// Four anonymous ids identified as one user: from one anonymous id to another is two steps
/// through the user id, not the person's whole history of four merges.
#[test]
fn posthog_two_anonymous_ids_are_two_steps_apart() {
    let mut events = vec![pageview("anon-1"), identify("user-1", "anon-1")];
    for anon in ["anon-3", "anon-4", "anon-2"] {
        events.push(pageview(anon));
        events.push(identify("user-1", anon));
    }
    events.push(alias("user-1", "anon-9"));
    let m = model(events);
    let w = why(&m, P, "anon-1", "anon-2");
    assert!(w.together);
    assert_eq!(steps(&w.chain), [("$identify", "anon-1", "user-1"), ("$identify", "user-1", "anon-2")]);
    assert_eq!(w.chain.iter().map(|s| s.event.seq).collect::<Vec<_>>(), [2, 8]);
    assert_eq!(w.root_cause, None, "nothing went wrong");
    assert!(w.summary.contains("2 events joined them"), "{}", w.summary);
}

/// PostHog refuses to merge an id whose person is already identified into another
/// (`cannot_merge_already_identified`, `merge.rs`): the answer is that refusal.
#[test]
fn posthog_apart_by_cannot_merge_already_identified() {
    let m = model(vec![
        pageview("anon-1"),
        identify("user-a", "anon-1"),
        pageview("user-b"),
        identify("user-b", "anon-1"),
        pageview("anon-7"),
    ]);
    let w = why(&m, P, "user-a", "user-b");
    assert!(!w.together && w.chain.is_empty());
    assert_eq!(steps(&w.refusals), [("$identify", "anon-1", "user-b")]);
    assert_eq!((w.refusals[0].rule, w.refusals_total), (Rule::SourceAlreadyIdentified, 1));
    assert!(w.summary.contains("refused to link them"), "{}", w.summary);
    // An id nothing ever linked to either.
    let none = why(&m, P, "user-a", "anon-7");
    assert!(!none.together && none.refusals.is_empty());
    assert!(none.summary.contains("no event ever linked 'user-a' and 'anon-7'"), "{}", none.summary);
    assert!(none.a.person_id.is_some() && none.b.person_id.is_some() && none.a.person_id != none.b.person_id);
}

/// PostHog never merges with an illegal distinct id such as 'null' (`isDistinctIdIllegal` in the
/// ingestion code of <https://github.com/PostHog/posthog>): the refusal names both ids.
#[test]
fn posthog_apart_by_an_illegal_id() {
    let m = model(vec![pageview("anon-1"), identify("null", "anon-1")]);
    let w = why(&m, P, "anon-1", "null");
    assert!(!w.together, "{w:?}");
    assert_eq!(w.refusals.iter().map(|r| r.rule).collect::<Vec<_>>(), [Rule::IllegalDistinctId], "{w:?}");
}

fn segment_model(limits: &[(&str, u32)], evs: &[EventInput]) -> Model {
    let limits: BTreeMap<String, u32> = limits.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    let settings = ProjectSettings { segment_identifier_limits: limits, ..ProjectSettings::default() };
    let mut m = Model::with_settings([("seg", settings)]);
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

fn kiosk() -> Vec<EventInput> {
    vec![
        seg("track", None, Some("kiosk"), json!({})),
        seg("identify", Some("user-a"), Some("kiosk"), json!({})),
        seg("identify", Some("user-b"), Some("kiosk"), json!({})),
    ]
}

/// Segment Unify with 2 user_ids allowed ("Identity Resolution Settings", "Limit"): a shared
/// anonymousId joins both users, and the chain goes through it.
#[test]
fn segment_two_user_ids_joined_by_a_shared_anonymous_id() {
    let m = segment_model(&[("user_id", 2)], &kiosk());
    let w = why(&m, "seg", "user-a", "user-b");
    assert!(w.together, "{w:?}");
    assert_eq!(steps(&w.chain), [("identify", "user-a", "kiosk"), ("identify", "kiosk", "user-b")]);
    assert!(w.chain.iter().all(|s| s.rule == Rule::IdentifierLinked));
}

/// The same kiosk in a browser (lanes keyed on the anonymousId): the lane switched from user-a to
/// user-b without reset(), and the lint's `missing_reset_between_users` on that lane is the root
/// cause of the join.
#[test]
fn segment_shared_browser_root_cause_is_the_missing_reset() {
    let evs = [
        seg_web("track", None, "kiosk", json!({})),
        seg_web("identify", Some("user-a"), "kiosk", json!({})),
        seg_web("track", Some("user-a"), "kiosk", json!({"event": "Logged Out"})),
        seg_web("identify", Some("user-b"), "kiosk", json!({})),
    ];
    let m = segment_model(&[("user_id", 2)], &evs);
    let w = why(&m, "seg", "user-a", "user-b");
    assert_eq!(steps(&w.chain), [("identify", "user-a", "kiosk"), ("identify", "kiosk", "user-b")]);
    assert!(w.chain.iter().all(|s| s.lane_id.as_deref() == Some("seg/kiosk")), "{w:?}");
    let cause = w.root_cause.expect("a missing reset on the kiosk lane");
    for part in ["still identified as 'user-a'", "`identify('user-b')`", "missing_reset_between_users"] {
        assert!(cause.contains(part), "{part:?} missing from {cause:?}");
    }
}

/// With the default limit of one user_id ("Unify Limits"), Unify drops the shared anonymousId
/// from the second message: the refusal names it, and the warning names both users.
#[test]
fn segment_apart_by_the_user_id_limit() {
    let m = segment_model(&[], &kiosk());
    let w = why(&m, "seg", "user-b", "user-a");
    assert!(!w.together);
    assert_eq!(w.refusals.len(), 1, "{w:?}");
    assert_eq!(w.refusals[0].rule, Rule::ProfileLimit);
    assert_eq!((w.refusals[0].from.as_str(), w.refusals[0].to.as_str()), ("user-b", "kiosk"));
}

/// Mixpanel Simplified ID Merge: the `$identify` mixpanel-browser sends carries `$device_id`
/// and `$user_id`, which puts the device's ids in the user's cluster.
#[test]
fn mixpanel_simplified_identify_chain() {
    let evs = [mp_web("$pageview", "d1", None), mp_web("$identify", "d1", Some("u1")), mp_web("x", "d1", Some("u2"))];
    let m = mixpanel_model(MixpanelIdMerge::Simplified, &evs);
    let w = why(&m, "mpt", "$device:d1", "u1");
    assert!(w.together, "{w:?}");
    assert!(
        !w.chain.is_empty() && w.chain.iter().all(|s| s.event.event == "$pageview" || s.event.event == "$identify")
    );
    assert_eq!(w.chain.first().unwrap().from, "$device:d1");
    assert_eq!(w.chain.last().unwrap().to, "u1");
    assert!(w.chain.iter().any(|s| s.event.event == "$identify"), "the identify joined u1: {w:?}");
    let apart = why(&m, "mpt", "u1", "u2");
    assert!(!apart.together);
    assert_eq!(apart.refusals.iter().map(|r| r.rule).collect::<Vec<_>>(), [Rule::ClusterHasUserId]);
}

/// Mixpanel Original ID Merge ("Identifying Users (Original)", Create Identity): `$identify`
/// merges the `$anon_id` into the `$identified_id`; an anon id already merged to another
/// identified id stays there, which is what keeps the second user apart.
#[test]
fn mixpanel_original_identify_and_its_refusal() {
    const A1: &str = "3f1a2b4c-5d6e-4f70-8a91-b2c3d4e5f601";
    let identify = |user: &str| mp("$identify", user, json!({"$identified_id": user, "$anon_id": A1}));
    let evs = [mp("viewed", A1, json!({})), identify("u1"), identify("u2")];
    let m = mixpanel_model(MixpanelIdMerge::Original, &evs);
    let w = why(&m, "mpt", A1, "u1");
    assert_eq!(steps(&w.chain), [("$identify", A1, "u1")], "{w:?}");
    assert_eq!(w.chain[0].rule, Rule::ProfilesMerged);
    let apart = why(&m, "mpt", "u2", "u1");
    assert_eq!(apart.refusals.iter().map(|r| r.rule).collect::<Vec<_>>(), [Rule::SourceAlreadyIdentified]);
    assert_eq!((apart.refusals[0].from.as_str(), apart.refusals[0].to.as_str()), ("u2", A1));
}

/// RudderStack's Profiles ID stitcher joins every pair of ids seen on one message (no limits):
/// two users on one anonymousId are one rudder_id, two steps apart, and the lane's switch
/// without reset() is the root cause.
#[test]
fn rudderstack_two_users_stitched_through_the_anonymous_id() {
    let rs = |ty: &str, user: Option<&str>| {
        let mut ev = seg_web(ty, user, "anon-rs", json!({}));
        ev.project = "rs".into();
        ev.source = "rudderstack".into();
        ev
    };
    let mut m = Model::new();
    for e in [rs("track", None), rs("identify", Some("user-a")), rs("identify", Some("user-b"))] {
        m.apply(&e).unwrap();
    }
    let w = why(&m, "rs", "user-a", "user-b");
    assert_eq!(steps(&w.chain), [("identify", "user-a", "anon-rs"), ("identify", "anon-rs", "user-b")], "{w:?}");
    let cause = w.root_cause.expect("the switch without reset on the anon-rs lane");
    assert!(cause.contains("missing_reset_between_users") && cause.contains("'user-a' and 'user-b'"), "{cause}");
}

/// KISSmetrics: alias joins two identities with no refusal ("Identities"). Its decisions name
/// the person an identity joined by its first identity, so `User 1` reaches `bob@x.io` through
/// `anon-km` in two aliases, and `anon-km` reaches it in one (the second alias joined bob to the
/// person that already held anon-km).
#[test]
fn kissmetrics_alias_chain() {
    let ev = |seq: i64, event: &str, person: &str, props: serde_json::Value| EventInput {
        seq,
        uuid: format!("km-{seq}"),
        project: "km".into(),
        source: "kissmetrics".into(),
        event: event.into(),
        distinct_id: person.into(),
        timestamp: crate::support::t0() + chrono::Duration::seconds(seq),
        properties: props.as_object().cloned().unwrap_or_default(),
    };
    let mut m = Model::new();
    for e in [
        ev(1, "Viewed", "anon-km", json!({})),
        ev(2, "$alias", "anon-km", json!({"alias": "User 1"})),
        ev(3, "$alias", "User 1", json!({"alias": "bob@x.io"})),
    ] {
        m.apply(&e).unwrap();
    }
    let w = why(&m, "km", "User 1", "bob@x.io");
    assert!(w.together, "{w:?}");
    assert_eq!(steps(&w.chain), [("$alias", "User 1", "anon-km"), ("$alias", "anon-km", "bob@x.io")]);
    assert_eq!(w.chain.iter().map(|s| s.event.seq).collect::<Vec<_>>(), [2, 3]);
    assert!(w.chain[1].sentence.contains("'bob@x.io'"), "{}", w.chain[1].sentence);
    let one = why(&m, "km", "anon-km", "bob@x.io");
    assert_eq!(one.chain.iter().map(|s| s.event.seq).collect::<Vec<_>>(), [3]);
}

/// Recorded posthog-js traffic (tests/fixtures/sdk-traffic): identify('user-42'), reset(),
/// identify('user-43'), alias('alias-43'). The alias joined alias-43 in one step, the anonymous
/// id before the first identify is one `$identify` from user-42, and the two users, with a
/// reset() between them, were never linked.
#[test]
fn recorded_posthog_js_traffic() {
    let events = crate::support::traffic::events("posthog-js-browser.jsonl");
    let project = events[0].project.clone();
    let mut m = Model::new();
    for ev in &events {
        m.apply(ev).unwrap();
    }
    let alias = why(&m, &project, "user-43", "alias-43");
    assert_eq!(steps(&alias.chain), [("$create_alias", "user-43", "alias-43")], "{alias:?}");
    assert!(alias.chain[0].lane_id.is_some(), "posthog-js sends $device_id: {alias:?}");
    assert_eq!(alias.root_cause, None, "alias-43 is a second id of user-43, not another user");

    let person = m.engine().person_for(&project, "user-42").unwrap();
    let anon = person.distinct_ids.iter().find(|id| *id != "user-42").expect("the anonymous id");
    let identify = why(&m, &project, anon, "user-42");
    assert_eq!(steps(&identify.chain), [("$identify", anon.as_str(), "user-42")], "{identify:?}");

    let apart = why(&m, &project, "user-42", "user-43");
    assert!(!apart.together && apart.refusals.is_empty(), "{apart:?}");
    assert!(apart.summary.contains("no event ever linked"), "{}", apart.summary);
}

#[test]
fn unknown_ids_are_named() {
    let m = model(vec![pageview("anon-1")]);
    let err = m.why(P, "nobody", "anon-1").unwrap_err();
    assert_eq!(err, WhyError::UnknownId { which: WhichId::A, project: P.into(), id: "nobody".into() });
    assert!(matches!(m.why(P, "anon-1", "ghost"), Err(WhyError::UnknownId { which: WhichId::B, .. })));
    assert!(matches!(m.why("other-project", "anon-1", "anon-1"), Err(WhyError::UnknownId { .. })));
}

/// A person of 10 001 ids joined one alias after the other: the chain from the first id to the
/// last is every alias, found by one breadth-first walk (quadratic work would take minutes in a
/// debug build).
#[test]
fn a_ten_thousand_id_chain_is_fast() {
    const N: usize = 10_000;
    let mut events = vec![pageview(ANON2), identify("u-0", ANON2)];
    events.extend((0..N).map(|i| alias(&format!("u-{i}"), &format!("u-{}", i + 1))));
    let m = model(events);
    let start = std::time::Instant::now();
    let w = why(&m, P, ANON2, &format!("u-{N}"));
    let took = start.elapsed();
    assert!(w.together);
    assert_eq!(w.a.person_ids, N + 2);
    assert_eq!(w.chain.len(), N + 1, "the identify, then every alias");
    assert!(took < std::time::Duration::from_secs(2), "why took {took:?}");
}
