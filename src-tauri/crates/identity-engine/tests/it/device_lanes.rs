//! Device lanes for the posthog-js flows: identify, reset(), reset(true), switching users.

use crate::support::browser;

use crate::support::*;
use browser::*;
use identity_engine::{DeviceLane, EventInput, Model};
use serde_json::json;

#[test]
fn logout_without_reset_is_one_lane_with_a_switch() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-42", ANON1, ANON1),
        js("$pageview", "user-42", ANON1, true, json!({})),
        // identify('user-43') while identified: posthog-js sends no $identify.
        js("$pageview", "user-43", ANON1, true, json!({})),
        js("clicked", "user-43", ANON1, true, json!({})),
    ]);
    assert_eq!(m.devices(None).len(), 1);
    let l = lane(&m, ANON1);
    assert_eq!((l.key_kind.as_str(), l.event_count, l.user_agent.as_deref()), ("device_id", 5, Some(UA)));
    assert_eq!(seg_ids(l), [ANON1, "user-42", "user-43"]);
    assert_eq!(l.segments.iter().map(|s| s.event_count).collect::<Vec<_>>(), [1, 2, 2]);
    assert_eq!(l.segments.iter().map(|s| s.identified).collect::<Vec<_>>(), [false, true, true]);
    assert_eq!(kinds(l), [("identify", false), ("switch_without_reset", false)]);
    let switch = &l.transitions[1];
    assert_eq!((switch.seq, switch.from.as_deref(), switch.to.as_deref()), (4, Some("user-42"), Some("user-43")));
    assert_eq!(switch.event_uuid.as_deref(), Some("ev-4"));
    let person42 = m.engine().person_for(P, "user-42").unwrap().id;
    assert_eq!(l.segments[1].person_id, Some(person42));

    let found = rules(&m, "missing_reset_between_users");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].distinct_ids, ["user-42", "user-43"]);
    assert_eq!((found[0].severity.as_str(), found[0].seq), ("error", 4));
    assert_eq!(found[0].device_ids, [ANON1]);
    assert!(found[0].fix.contains("reset()"), "{}", found[0].fix);
}

#[test]
fn switch_is_recognised_without_is_identified_from_the_id_shape() {
    // A client that sends no $is_identified: a non-uuid id after an identified one is a user.
    let strip = |ev| without(ev, "$is_identified");
    let m = model(vec![
        strip(js("$pageview", ANON1, ANON1, false, json!({}))),
        strip(js_identify("user-42", ANON1, ANON1)),
        strip(js("$pageview", "user-43", ANON1, true, json!({}))),
        strip(js("$pageview", ANON2, ANON1, false, json!({}))),
    ]);
    let l = lane(&m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-42", "user-43", ANON2]);
    assert_eq!(kinds(l), [("identify", false), ("switch_without_reset", false), ("reset", true)]);
}

#[test]
fn reset_between_users_infers_a_reset_and_no_finding() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-42", ANON1, ANON1),
        js("$pageview", "user-42", ANON1, true, json!({})),
        // reset(): new anonymous id, same $device_id, new session.
        with(js("$pageview", ANON2, ANON1, false, json!({})), "$session_id", json!("s2")),
        with(js_identify("user-43", ANON2, ANON1), "$session_id", json!("s2")),
    ]);
    let l = lane(&m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-42", ANON2, "user-43"]);
    assert_eq!(kinds(l), [("identify", false), ("reset", true), ("identify", false)]);
    assert_eq!(l.transitions[1].from.as_deref(), Some("user-42"));
    assert_eq!(l.transitions[1].to.as_deref(), Some(ANON2));
    assert!(l.transitions[1].explanation().contains("reset()"));
    assert!(rules(&m, "missing_reset_between_users").is_empty());
    // Sessions: s1 holds the first three events, s2 the last two.
    let spans: Vec<_> =
        l.sessions.iter().map(|s| (s.session_id.as_str(), s.first_seq, s.last_seq, s.event_count)).collect();
    assert_eq!(spans, [("s1", 1, 3, 3), ("s2", 4, 5, 2)]);
}

#[test]
fn identify_arriving_first_reveals_the_anonymous_segment_and_keeps_both_orders() {
    // posthog-js flushes $identify before the queued anonymous pageview.
    let m = model(vec![
        at(js_identify("user-42", ANON1, ANON1), 10),
        at(js("$pageview", ANON1, ANON1, false, json!({})), 5),
        at(js("$pageview", "user-42", ANON1, true, json!({})), 11),
    ]);
    let l = lane(&m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-42"]);
    let anon = &l.segments[0];
    // Arrival order says 2, client time says it came first; both are kept.
    assert_eq!((anon.first_seq, anon.last_seq, anon.event_count), (2, 2, 1));
    assert_eq!(anon.first_timestamp, t0() + chrono::Duration::minutes(5));
    assert!(anon.first_timestamp < l.segments[1].first_timestamp && anon.first_seq > l.segments[1].first_seq);
    assert_eq!(
        (l.first_seen, l.last_seen),
        (t0() + chrono::Duration::minutes(5), t0() + chrono::Duration::minutes(11))
    );
    assert_eq!(kinds(l), [("identify", false)]);
}

#[test]
fn user_events_before_their_identify_get_an_inferred_identify_that_the_identify_confirms() {
    let evs = vec![
        at(js("$pageview", ANON1, ANON1, false, json!({})), 1),
        at(js("$pageview", "user-42", ANON1, true, json!({})), 3),
    ];
    let m = model(evs.clone());
    assert_eq!(kinds(lane(&m, ANON1)), [("identify", true)]);
    let mut all = evs;
    all.push(at(js_identify("user-42", ANON1, ANON1), 2));
    let m = model(all);
    let l = lane(&m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-42"]);
    assert_eq!(kinds(l), [("identify", false)]);
    assert_eq!(l.transitions[0].event_uuid.as_deref(), Some("ev-3"));
    assert_eq!(l.segments[1].event_count, 2);
}

#[test]
fn late_event_of_an_earlier_user_joins_its_segment_but_a_real_return_is_a_second_switch() {
    let base = vec![
        at(js("$pageview", ANON1, ANON1, false, json!({})), 1),
        at(js_identify("user-42", ANON1, ANON1), 2),
        at(js("$pageview", "user-43", ANON1, true, json!({})), 10),
    ];
    let mut late = base.clone();
    late.push(at(js("Account Created", "user-42", ANON1, true, json!({})), 3));
    let m = model(late);
    assert_eq!(seg_ids(lane(&m, ANON1)), [ANON1, "user-42", "user-43"]);
    assert_eq!(lane(&m, ANON1).segments[1].event_count, 2);

    let mut back = base;
    back.push(at(js("$pageview", "user-42", ANON1, true, json!({})), 20));
    let m = model(back);
    let l = lane(&m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-42", "user-43", "user-42"]);
    assert_eq!(kinds(l), [("identify", false), ("switch_without_reset", false), ("switch_without_reset", false)]);
    let f = rules(&m, "missing_reset_between_users");
    assert_eq!(f.len(), 1, "one finding per device, updated");
    assert_eq!(f[0].event_uuids, ["ev-3", "ev-4"]);
}

#[test]
fn reset_true_makes_a_new_lane_linked_to_the_old_one() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-42", ANON1, ANON1),
        js("$pageview", "user-42", ANON1, true, json!({})),
        // reset(true): new distinct id == new $device_id; posthog-js records the reset time.
        with(js("$pageview", ANON2, ANON2, false, json!({})), "$last_posthog_reset", json!("2026-11-24T12:03:30Z")),
    ]);
    assert_eq!(m.devices(None).len(), 2);
    assert_eq!(m.devices(None)[0].device_id, ANON2, "newest activity first");
    let new = lane(&m, ANON2);
    let link = new.linked_from.as_ref().expect("linked");
    assert_eq!(link.lane_id, format!("{P}/{ANON1}"));
    assert!(link.inferred);
    assert!(link.evidence.contains(UA) && link.evidence.contains("$last_posthog_reset"), "{}", link.evidence);
    assert!(!link.possible, "$last_posthog_reset is evidence, not a guess");
    assert_eq!(kinds(new), [("reset_device", true)]);
    assert_eq!(new.transitions[0].from.as_deref(), Some(ANON1));
    assert!(lane(&m, ANON1).linked_from.is_none());
}

#[test]
fn reset_true_link_by_timing_or_not_at_all() {
    let old = || vec![js("$pageview", ANON1, ANON1, false, json!({})), js_identify("user-42", ANON1, ANON1)];
    // No $last_posthog_reset: linked because it starts 1 minute after the old lane's last event.
    let mut evs = old();
    evs.push(js("$pageview", ANON2, ANON2, false, json!({})));
    let m = model(evs);
    let link = lane(&m, ANON2).linked_from.as_ref().expect("a possible link by timing");
    assert!(link.evidence.contains("60 s after"), "{}", link.evidence);
    // Timing alone is only a guess: no continuation transition, flagged as possible.
    assert!(link.possible && link.evidence.starts_with("Possible, not linked"), "{}", link.evidence);
    assert!(lane(&m, ANON2).transitions.is_empty(), "a possible link draws no reset marker");

    // Another user agent, or an hour later: not linked.
    let mut evs = old();
    evs.push(with(js("$pageview", ANON2, ANON2, false, json!({})), "$raw_user_agent", json!("Safari/17")));
    assert!(lane(&model(evs), ANON2).linked_from.is_none());
    let mut evs = old();
    evs.push(at(js("$pageview", ANON2, ANON2, false, json!({})), 70));
    assert!(lane(&model(evs), ANON2).linked_from.is_none());

    // The old device keeps sending after the new one started: two devices side by side, so the
    // timing-only link is dropped again (a $last_posthog_reset link would stay).
    let mut evs = old();
    evs.push(js("$pageview", ANON2, ANON2, false, json!({})));
    evs.push(js("$pageview", "user-42", ANON1, true, json!({})));
    let m = model(evs);
    assert!(lane(&m, ANON2).linked_from.is_none());
    assert!(lane(&m, ANON2).transitions.is_empty());
}

#[test]
fn reset_true_lane_arriving_before_the_old_lane_is_linked_when_the_old_one_appears() {
    let mark = "2026-11-24T12:05:00Z";
    let m = model(vec![
        at(with(js("after reset true", ANON2, ANON2, false, json!({})), "$last_posthog_reset", json!(mark)), 6),
        at(js_identify("user-42", ANON1, ANON1), 4),
        at(js("$pageview", ANON1, ANON1, false, json!({})), 3),
    ]);
    assert_eq!(lane(&m, ANON2).linked_from.as_ref().map(|l| l.lane_id.clone()), Some(format!("{P}/{ANON1}")));
    assert!(lane(&m, ANON1).linked_from.is_none(), "never the other way round");
    assert_eq!(seg_ids(lane(&m, ANON1)), [ANON1, "user-42"]);
}

#[test]
fn model_changes_name_the_lanes_persons_and_new_findings() {
    let evs = number(vec![
        at(with(js("x", ANON2, ANON2, false, json!({})), "$last_posthog_reset", json!("m")), 6),
        js_identify("user-42", ANON1, ANON1),
        js("$pageview", "user-43", ANON1, true, json!({})),
    ]);
    let mut m = Model::new();
    let c1 = m.apply(&evs[0]).unwrap();
    assert_eq!((c1.devices.clone(), c1.persons.len(), c1.new_findings), (vec![format!("{P}/{ANON2}")], 0, 1));
    let c2 = m.apply(&evs[1]).unwrap();
    assert_eq!(c2.devices, [format!("{P}/{ANON1}"), format!("{P}/{ANON2}")]);
    assert_eq!(c2.persons, [m.engine().person_for(P, "user-42").unwrap().id]);
    let c3 = m.apply(&evs[2]).unwrap();
    assert_eq!(c3.new_findings, 1, "missing_reset_between_users");
    assert!(m.apply(&evs[2]).is_err(), "out of order is refused");
}

#[test]
fn server_events_without_device_id_follow_the_anonymous_chain() {
    let m = model(vec![
        e("signed up", "anon-n1", json!({})),
        e("$identify", "user-n1", json!({"$anon_distinct_id": "anon-n1"})),
        e("$create_alias", "user-n1", json!({"alias": "legacy-n1"})),
        e("purchase", "legacy-n1", json!({})),
        e("other", "user-9", json!({})),
    ]);
    let l = m.device(&format!("{P}/id:anon-n1")).expect("lane keyed by the anonymous id");
    assert_eq!((l.key_kind.as_str(), l.device_id.as_str(), l.event_count), ("anonymous_id", "anon-n1", 4));
    assert_eq!(seg_ids(l), ["anon-n1", "user-n1", "legacy-n1"]);
    assert_eq!(l.transitions.iter().map(|t| t.kind.as_str()).collect::<Vec<_>>(), ["identify", "alias", "alias"]);
    assert!(l.transitions[2].inferred);
    assert_eq!(m.devices(None).len(), 2);
    assert_eq!(m.devices(Some("other-project")).len(), 0);
}

/// Flow (b) of the e2e suite: anon1 → identify user-a2 → reset() → anon2 → identify user-b2, in
/// client time (minutes 0..5); sessions s1 before the reset, s2 after.
fn flow_b() -> [EventInput; 6] {
    let s2 = |ev| with(ev, "$session_id", json!("s2"));
    [
        at(js("$pageview", ANON1, ANON1, false, json!({})), 0),
        at(js_identify("user-a2", ANON1, ANON1), 1),
        at(js("a2 did something", "user-a2", ANON1, true, json!({})), 2),
        at(s2(js("anonymous again", ANON2, ANON1, false, json!({}))), 3),
        at(s2(js_identify("user-b2", ANON2, ANON1)), 4),
        at(s2(js("b2 did something", "user-b2", ANON1, true, json!({}))), 5),
    ]
}

fn moves(l: &DeviceLane) -> Vec<(&str, Option<&str>, Option<&str>, bool)> {
    let mut v: Vec<_> =
        l.transitions.iter().map(|t| (t.kind.as_str(), t.from.as_deref(), t.to.as_deref(), t.inferred)).collect();
    v.sort();
    v
}

fn assert_flow_b_with_reset(m: &Model) {
    let l = lane(m, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-a2", ANON2, "user-b2"]);
    assert_eq!(l.segments.iter().map(|s| s.event_count).collect::<Vec<_>>(), [1, 2, 1, 2]);
    assert_eq!(l.segments.iter().map(|s| s.identified).collect::<Vec<_>>(), [false, true, false, true]);
    assert_eq!(
        moves(l),
        [
            ("identify", Some(ANON1), Some("user-a2"), false),
            ("identify", Some(ANON2), Some("user-b2"), false),
            ("reset", Some("user-a2"), Some(ANON2), true),
        ]
    );
    assert!(l.transitions.windows(2).all(|w| w[0].seq <= w[1].seq));
    assert!(rules(m, "missing_reset_between_users").is_empty(), "{:#?}", rules(m, "missing_reset_between_users"));
    assert!(rules(m, "identified_before_identify").is_empty());
}

#[test]
fn identifies_arriving_in_reverse_order_keep_the_reset_between_users() {
    // posthog-js sends each $identify at once in its own request: user-b2's can arrive before
    // user-a2's, and the batched events after both.
    let [pageview, identify_a2, a2, anon_again, identify_b2, b2] = flow_b();
    let m = model(vec![pageview, identify_b2, identify_a2, a2, anon_again, b2]);
    assert_flow_b_with_reset(&m);
    let l = lane(&m, ANON1);
    // The reset keeps the event that revealed it (user-b2's $identify named anon2).
    let reset = l.transitions.iter().find(|t| t.kind.as_str() == "reset").unwrap();
    assert_eq!((reset.seq, reset.event_uuid.as_deref()), (2, Some("ev-2")));
    assert!(
        reset.explanation().contains("user-a2") && reset.explanation().contains("reset()"),
        "{}",
        reset.explanation()
    );

    // Same result in client order.
    assert_flow_b_with_reset(&model(flow_b().to_vec()));
}

#[test]
fn a_switch_withdrawn_by_a_late_anonymous_event_withdraws_its_finding() {
    // user-b2's event arrives before the anonymous one between the users: it looks like a
    // switch without reset until the late anonymous event shows the reset.
    let [pageview, identify_a2, a2, anon_again, identify_b2, b2] = flow_b();
    let m = model(vec![pageview.clone(), identify_a2.clone(), a2.clone(), b2.clone()]);
    assert_eq!(seg_ids(lane(&m, ANON1)), [ANON1, "user-a2", "user-b2"]);
    assert_eq!(kinds(lane(&m, ANON1)), [("identify", false), ("switch_without_reset", false)]);
    assert_eq!(rules(&m, "missing_reset_between_users").len(), 1);

    let mut evs = number(vec![pageview, identify_a2, a2, b2, anon_again, identify_b2]);
    let mut inc = Model::new();
    let mut withdrawn_by = None;
    for ev in &evs {
        inc.apply(ev).unwrap();
        if withdrawn_by.is_none() && ev.seq > 4 && rules(&inc, "missing_reset_between_users").is_empty() {
            withdrawn_by = Some(ev.seq);
        }
    }
    assert_eq!(withdrawn_by, Some(5), "the late anonymous event withdraws the finding");
    assert_flow_b_with_reset(&inc);
    let l = lane(&inc, ANON1);
    assert_eq!(seg_ids(l), [ANON1, "user-a2", ANON2, "user-b2"]);
    // Rebuilt in one go: the same model.
    let rebuilt = model(std::mem::take(&mut evs));
    assert_eq!(
        serde_json::to_string(&(inc.devices(None), inc.findings(None))).unwrap(),
        serde_json::to_string(&(rebuilt.devices(None), rebuilt.findings(None))).unwrap()
    );
}

#[test]
fn a_real_switch_without_reset_is_kept_in_order_and_out_of_order() {
    // identified user-a2, then user-b2 on the same anonymous history: no reset, no new anonymous id.
    let evs = || {
        vec![
            at(js("$pageview", ANON1, ANON1, false, json!({})), 0),
            at(js_identify("user-a2", ANON1, ANON1), 1),
            at(js("a2 did something", "user-a2", ANON1, true, json!({})), 2),
            at(js("b2 did something", "user-b2", ANON1, true, json!({})), 5),
        ]
    };
    let check = |m: &Model, switch_seq: i64| {
        let l = lane(m, ANON1);
        assert_eq!(seg_ids(l), [ANON1, "user-a2", "user-b2"]);
        assert_eq!(
            moves(l),
            [
                ("identify", Some(ANON1), Some("user-a2"), false),
                ("switch_without_reset", Some("user-a2"), Some("user-b2"), false)
            ]
        );
        let found = rules(m, "missing_reset_between_users");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].distinct_ids, ["user-a2", "user-b2"]);
        let switch = l.transitions.iter().find(|t| t.kind.as_str() == "switch_without_reset").unwrap();
        assert_eq!(switch.seq, switch_seq);
        assert_eq!(found[0].event_uuids, [format!("ev-{switch_seq}")]);
    };
    check(&model(evs()), 4);

    // user-b2's event arrives first (anon1 → user-b2 looks like an identify not seen yet); the
    // late $identify of user-a2 goes before it by client time and reveals the switch.
    let [pageview, identify_a2, a2, b2]: [EventInput; 4] = evs().try_into().unwrap();
    let m = model(vec![pageview, b2, identify_a2, a2]);
    check(&m, 2);
    assert_eq!(rules(&m, "missing_reset_between_users")[0].seq, 3, "fired by the $identify that revealed it");
}

/// reset(true) without `$last_posthog_reset`: timing links the new lane only when one lane of
/// that user agent fits; with two visitors on the same browser version it says nothing.
#[test]
fn reset_true_by_timing_alone_links_only_an_unambiguous_old_lane() {
    const OTHER: &str = "01a20b9c-0000-7000-8000-000000000003";
    let one =
        model(vec![js("$pageview", ANON1, ANON1, false, json!({})), js("$pageview", ANON2, ANON2, false, json!({}))]);
    assert_eq!(lane(&one, ANON2).linked_from.as_ref().map(|l| l.lane_id.clone()), Some(format!("{P}/{ANON1}")));

    // A second visitor with the same browser (a device id of its own, so not itself a reset(true)
    // continuation) was active too: two lanes fit, and timing alone cannot tell which.
    let two = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js("$pageview", OTHER, "device-of-another-visitor", false, json!({})),
        js("$pageview", ANON2, ANON2, false, json!({})),
    ]);
    assert_eq!(two.devices(None).len(), 3);
    assert!(two.devices(None).iter().all(|l| l.linked_from.is_none()), "no link by timing when two lanes fit");
}
