//! `distinct_users_merged` (two real users in one person) and the one display label per person,
//! on the traffic of the UX review: a shared computer and a family PC without reset(), the
//! latter's signup calling alias() (PostHog merges), a Segment profile and a RudderStack
//! rudder_id joining two userIds through one anonymousId, KISSmetrics aliasing two named
//! identities; and the traffic that must stay quiet (one user on several devices).

use crate::support::browser::*;
use crate::support::engine::assert_mentions;
use crate::support::vendor_events::{seg_web, UA};
use crate::support::*;
use identity_engine::{EventInput, Finding, Model, ProjectSettings};
use serde_json::json;

fn merged(m: &Model) -> Vec<Finding> {
    rules(m, "distinct_users_merged")
}

/// The family PC (Edge, Windows): user-a logs in, logs out without reset(), the signup path
/// calls alias('user-b') then identify('user-b') (posthog-js sends no `$identify` for an
/// identified user: the next events just carry 'user-b').
fn family_pc() -> Vec<EventInput> {
    let dev = ANON1;
    vec![
        js("$pageview", ANON1, dev, false, json!({})),
        js_identify("user-a", ANON1, dev),
        js("logged_out", "user-a", dev, true, json!({})),
        js("$pageview", "user-a", dev, true, json!({})),
        js("$create_alias", "user-a", dev, true, json!({"alias": "user-b"})),
        js("signed_up", "user-b", dev, true, json!({})),
    ]
}

#[test]
fn family_pc_alias_merges_two_users_and_names_the_alias_and_the_device_before() {
    let m = model(family_pc());
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    let f = &found[0];
    assert_eq!(f.severity.as_str(), "error");
    assert_eq!(f.distinct_ids, ["user-a", "user-b"]);
    assert_eq!(f.event_uuids, ["ev-5"], "the alias event joined them");
    assert_eq!(f.device_ids, [ANON1]);
    assert_mentions(
        &f.message,
        &[
            "`$create_alias`",
            "ev-5",
            "still identified as 'user-a'",
            "no reset() after `logged_out`",
            "PostHog person",
            "`signed_up` (event ev-6) showed 'user-b' is a user of its own",
        ],
    );
    assert_eq!(f.seq, 6, "it fires when 'user-b' shows it is a user of its own");
    assert_mentions(&f.fix, &["posthog.reset()", "Do not call alias()"]);
    // The alias that joined two users is an error (raised when the finding fired), and its text
    // is PostHog's, not Mixpanel's.
    let alias = rules(&m, "alias_after_identify");
    assert_eq!(alias.len(), 1);
    assert_eq!(alias[0].severity.as_str(), "error");
    assert!(!alias[0].message.contains("Mixpanel") && !alias[0].fix.contains("Mixpanel"), "{:?}", alias[0]);
    // One person, named after the id it was identified as, on the list and on every lane segment.
    let persons = m.engine().persons(P);
    assert_eq!(persons.len(), 1);
    assert_eq!(m.engine().display_label(persons[0]), "user-a");
    assert_eq!(m.user_like_ids(persons[0]), ["user-a", "user-b"]);
    let lane = lane(&m, ANON1).with_current_persons(m.engine());
    let labels: Vec<_> = lane.segments.iter().map(|s| s.current_person_label.as_deref()).collect();
    assert!(labels.iter().all(|l| *l == Some("user-a")), "{labels:?}");
}

/// A legitimate alias: identified user-d links its old back-end id 'legacy-4711' (PostHog:
/// "alias: assigning multiple distinct IDs to the same user",
/// posthog.com/docs/product-analytics/identify#alias-assigning-multiple-distinct-ids-to-the-same-user).
/// The alias value never shows it is a user of its own, so no two users were merged, and the alias
/// after identify stays a hint.
#[test]
fn legacy_alias_of_an_identified_user_is_one_user() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-d", ANON1, ANON1),
        js("$create_alias", "user-d", ANON1, true, json!({"alias": "legacy-4711"})),
        js("$pageview", "user-d", ANON1, true, json!({})),
        // posthog-node from the back end, capturing under the legacy id: no `$is_identified`,
        // so it says nothing about 'legacy-4711' being a user of its own.
        e("invoice_paid", "legacy-4711", json!({})),
    ]);
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
    let alias = rules(&m, "alias_after_identify");
    assert_eq!(alias.len(), 1);
    assert_eq!(alias[0].severity.as_str(), "info");
    assert_eq!(m.engine().persons(P).len(), 1);
    assert_eq!(m.engine().display_label(m.engine().persons(P)[0]), "user-d");
    assert_eq!(m.user_like_ids(m.engine().persons(P)[0]), ["user-d"], "the legacy id is no second user");
}

/// An alias value identified later by an `$identify` (posthog-node style: no `$is_identified`)
/// shows it is a user too; the finding still names the alias that joined the two.
#[test]
fn alias_value_identified_later_names_the_alias() {
    let m = model(vec![
        js_identify("user-a", ANON1, ANON1),
        js("$create_alias", "user-a", ANON1, true, json!({"alias": "user-b"})),
        e("$identify", "user-b", json!({"$set": {"email": "bob@example.com"}})),
    ]);
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["user-a", "user-b"]);
    assert_eq!(found[0].event_uuids, ["ev-2"]);
    assert_eq!(found[0].device_ids, [ANON1], "the alias's device, not the server's");
    assert_eq!(rules(&m, "alias_after_identify")[0].severity.as_str(), "error");
}

/// The family PC as posthog-js 1.449 sends it: `identify('user-b')` right after `alias('user-b')`
/// keeps the distinct id 'user-a' (the alias is remembered as the current user's) and only
/// registers `$user_id: 'user-b'` on later events. That id was identify()'s target, so it is a
/// user of its own and the alias merged two users.
#[test]
fn family_pc_as_posthog_js_sends_it_names_the_alias() {
    let dev = ANON1;
    let as_b = |event: &str| js(event, "user-a", dev, true, json!({"$user_id": "user-b"}));
    let m = model(vec![
        js("$pageview", ANON1, dev, false, json!({})),
        js_identify("user-a", ANON1, dev),
        js("logged_out", "user-a", dev, true, json!({"$user_id": "user-a"})),
        js("$create_alias", "user-a", dev, true, json!({"alias": "user-b", "$user_id": "user-a"})),
        as_b("$set"),
        as_b("signed_up"),
    ]);
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["user-a", "user-b"]);
    assert_eq!(found[0].event_uuids, ["ev-4"], "the alias joined them");
    assert_mentions(&found[0].message, &["`$create_alias`", "no reset() after `logged_out`", "`$set` (event ev-5)"]);
    assert_eq!(rules(&m, "alias_after_identify")[0].severity.as_str(), "error");
}

fn shared_computer(second: EventInput) -> Model {
    let dev = ANON1;
    model(vec![
        js("$pageview", ANON1, dev, false, json!({})),
        js_identify("user-a", ANON1, dev),
        js("logged_out", "user-a", dev, true, json!({})),
        second,
        js("$pageview", "user-b", dev, true, json!({})),
    ])
}

#[test]
fn shared_computer_with_posthog_js_is_a_missing_reset_not_a_merge() {
    // posthog-js: identify('user-b') while identified sends no `$identify`, so nothing links.
    let m = shared_computer(js("$pageview", "user-b", ANON1, true, json!({})));
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
    assert_eq!(rules(&m, "missing_reset_between_users").len(), 1);
    assert_eq!(m.engine().persons(P).len(), 2);
}

#[test]
fn shared_computer_with_an_identify_from_the_previous_user_merges() {
    // An SDK that sends `$identify` for user-b with user-a as `$anon_distinct_id`: user-b has no
    // person yet, so PostHog adds it to user-a's (the identified check applies only when both
    // ids have persons).
    let m = shared_computer(js_identify("user-b", "user-a", ANON1));
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].event_uuids, ["ev-4"]);
    assert_mentions(&found[0].message, &["`$identify`", "still identified as 'user-a'", "after `logged_out`"]);
}

#[test]
fn merge_of_two_identified_persons_joins_their_user_sets() {
    // user-b is its own identified person first; $merge_dangerously then merges it into user-a.
    let m = model(vec![
        js_identify("user-a", ANON1, ANON1),
        js_identify("user-b", ANON2, ANON2),
        js("$merge_dangerously", "user-a", ANON1, true, json!({"alias": "user-b"})),
    ]);
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["user-a", "user-b"]);
    assert_eq!(found[0].event_uuids, ["ev-3"]);
}

#[test]
fn one_user_on_several_devices_and_anonymous_merges_stay_quiet() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-a", ANON1, ANON1),
        js("$pageview", ANON2, ANON2, false, json!({})),
        js_identify("user-a", ANON2, ANON2),
        js_identify("user-a", ANON3, ANON3),
        js("$pageview", "user-a", ANON3, true, json!({})),
    ]);
    assert_eq!(m.engine().persons(P).len(), 1);
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
    assert_eq!(m.engine().display_label(m.engine().persons(P)[0]), "user-a");
}

fn segment_model(settings: ProjectSettings, evs: &[EventInput]) -> Model {
    let mut m = Model::with_settings([("seg", settings)]);
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

#[test]
fn segment_profile_with_two_user_ids_joined_by_an_anonymous_id() {
    let kiosk = "kiosk-anon";
    let evs = [
        seg_web("identify", Some("user-a"), kiosk, json!({})),
        seg_web("track", Some("user-a"), kiosk, json!({"event": "Logged Out"})),
        seg_web("identify", Some("user-b"), kiosk, json!({})),
    ];
    let limits = [("user_id".to_owned(), 2)].into_iter().collect();
    let m = segment_model(ProjectSettings { segment_identifier_limits: limits, ..Default::default() }, &evs);
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    let f = &found[0];
    assert_eq!((f.severity.as_str(), f.distinct_ids.clone()), ("error", vec!["user-a".into(), "user-b".into()]));
    assert_eq!(f.event_uuids, [evs[2].uuid.clone()]);
    assert_mentions(&f.message, &["Segment", "userId", "still identified as 'user-a'", "`Logged Out`"]);
    assert_mentions(&f.fix, &["analytics.reset()"]);
    let person = m.engine().person_for("seg", "user-b").unwrap();
    assert_eq!(m.engine().display_label(person), "user-a");
    // The anonymousId is no user's, though nothing in its text says so: the engine's kinds decide.
    assert_eq!(m.user_like_ids(person), ["user-a", "user-b"]);

    // Unify's default limit (one user_id per profile) refuses user-b: two profiles, no merge.
    let m = segment_model(ProjectSettings::default(), &evs);
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
    assert_eq!(rules(&m, "anonymous_id_with_many_user_ids").len(), 1);
    let label = |id| m.engine().display_label(m.engine().person_for("seg", id).unwrap());
    assert_eq!((label("user-a"), label("user-b")), ("user-a".into(), "user-b".into()));
}

#[test]
fn segment_user_on_two_anonymous_ids_is_one_user() {
    let evs = [
        seg_web("identify", Some("user-a"), "anon-1", json!({})),
        seg_web("identify", Some("user-a"), "anon-2", json!({})),
        seg_web("track", None, "anon-2", json!({})),
    ];
    let m = segment_model(ProjectSettings::default(), &evs);
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
}

/// A Segment profile's email and group id are identifiers of one user, not more users: the
/// list's "user-a + …" names only `userId`s.
#[test]
fn segment_user_ids_are_user_ids_only() {
    let evs = [
        seg_web("identify", Some("user-a"), "anon-1", json!({"traits": {"email": "a@x.io"}})),
        seg_web("group", Some("user-a"), "anon-1", json!({"groupId": "acme"})),
    ];
    let m = segment_model(ProjectSettings::default(), &evs);
    let person = m.engine().person_for("seg", "user-a").unwrap();
    assert!(person.distinct_ids.iter().any(|i| i == "a@x.io"), "{:?}", person.distinct_ids);
    assert_eq!(m.user_like_ids(person), ["user-a"]);
}

#[test]
fn rudderstack_stitches_two_user_ids() {
    let rs = |user: Option<&str>, event: &str| {
        let mut ev = seg_web("track", user, "shared-anon", json!({"event": event}));
        ev.project = "rs".into();
        ev.source = "rudderstack".into();
        ev
    };
    let evs = [rs(Some("user-a"), "Viewed"), rs(Some("user-b"), "Viewed")];
    let mut m = Model::new();
    evs.iter().for_each(|e| drop(m.apply(e).unwrap()));
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_mentions(&found[0].message, &["RudderStack", "'user-a'", "'user-b'"]);
}

fn km(seq: i64, event: &str, person: &str, props: serde_json::Value) -> EventInput {
    let mut ev = e(event, person, props);
    (ev.seq, ev.uuid, ev.project, ev.source) = (seq, format!("km-{seq}"), "km".into(), "kissmetrics".into());
    ev.properties.insert("$raw_user_agent".into(), json!(UA));
    ev
}

#[test]
fn kissmetrics_alias_of_two_named_identities() {
    let anon = "aBcDeFgHiJkLmNoPqRsTuVwXyZ0=";
    let mut m = Model::new();
    for ev in [
        km(1, "Visited", anon, json!({})),
        km(2, "$alias", anon, json!({"alias": "alice@example.com"})),
        km(3, "$alias", "alice@example.com", json!({"alias": "bob@example.com"})),
    ] {
        m.apply(&ev).unwrap();
    }
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["alice@example.com", "bob@example.com"]);
    assert_eq!(found[0].event_uuids, ["km-3"]);
}

#[test]
fn label_falls_back_to_a_user_like_id_then_the_first_id() {
    // A backend that captures under an email, never identifying: the email names the person.
    let m = model(vec![e("$pageview", "carol@example.com", json!({}))]);
    assert_eq!(m.engine().display_label(m.engine().persons(P)[0]), "carol@example.com");
    // Only an anonymous id: it is the label.
    let m = model(vec![e("$pageview", ANON1, json!({}))]);
    assert_eq!(m.engine().display_label(m.engine().persons(P)[0]), ANON1);
    // An alias onto an identified user does not rename it: the identify target wins.
    let m = model(vec![
        js_identify("user-d", ANON1, ANON1),
        js("$create_alias", "user-d", ANON1, true, json!({"alias": "legacy-4711"})),
    ]);
    assert_eq!(m.engine().display_label(m.engine().persons(P)[0]), "user-d");
}

#[test]
fn mixpanel_original_alias_of_a_second_user_into_an_identified_cluster() {
    use crate::support::vendor_events::{mixpanel_model, mp};
    let anon = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    let evs = [
        mp("$identify", "user-a", json!({"$identified_id": "user-a", "$anon_id": anon})),
        mp("Logged Out", "user-a", json!({})),
        mp("$create_alias", "user-a", json!({"alias": "user-b"})),
    ];
    let m = mixpanel_model(identity_engine::MixpanelIdMerge::Original, &evs);
    let found = merged(&m);
    assert_eq!(found.len(), 1, "{:#?}", m.findings(None));
    assert_eq!(found[0].distinct_ids, ["user-a", "user-b"]);
    assert_mentions(&found[0].message, &["Mixpanel cluster", "$user_id"]);
    assert_mentions(&found[0].fix, &["mixpanel.reset()"]);
    // Simplified ID Merge: $create_alias links nothing, so nothing is merged.
    let m = mixpanel_model(identity_engine::MixpanelIdMerge::Simplified, &evs);
    assert!(merged(&m).is_empty(), "{:#?}", m.findings(None));
}
