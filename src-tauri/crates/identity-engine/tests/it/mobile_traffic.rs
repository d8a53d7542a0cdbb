//! The engine over the mobile SDK requests reconstructed from each SDK's source
//! (tests/fixtures/sdk-traffic-mobile; its README names the file and function behind each
//! field), decoded by capture-decode as the server stores them, in arrival order.
//!
//! None of these SDKs puts `$device_id` on events, so every lane is keyed by the anonymous-id
//! chain (`key_kind = "anonymous_id"`), and reset() starts a new chain.

use crate::support::traffic::events;
use identity_engine::*;

struct Run {
    model: Model,
    project: String,
}

fn run(file: &str) -> Run {
    let evs = events(&format!("../sdk-traffic-mobile/{file}"));
    let project = evs[0].project.clone();
    let mut model = Model::new();
    for ev in &evs {
        model.apply(ev).unwrap();
    }
    assert_eq!(rebuild(evs).unwrap().decisions(), model.engine().decisions(), "{file}: rebuild agrees");
    Run { model, project }
}

impl Run {
    fn lane(&self, key: &str) -> &DeviceLane {
        let id = format!("{}/id:{key}", self.project);
        self.model.device(&id).unwrap_or_else(|| panic!("no lane {id}: {:?}", self.model.devices(None)))
    }
    fn persons(&self) -> Vec<(Vec<String>, bool)> {
        self.model
            .engine()
            .persons(&self.project)
            .into_iter()
            .map(|p| (p.distinct_ids.clone(), p.is_identified))
            .collect()
    }
    fn rules(&self) -> Vec<&'static str> {
        self.model.findings(None).iter().map(|f| f.rule.as_str()).collect()
    }
    fn decisions(&self) -> Vec<(String, Rule)> {
        self.model.engine().decisions().iter().map(|d| (d.event.clone(), d.rule)).collect()
    }
}

fn segments(l: &DeviceLane) -> Vec<(&str, usize, bool)> {
    l.segments.iter().map(|s| (s.distinct_id.as_str(), s.event_count, s.identified)).collect()
}

fn moves(l: &DeviceLane) -> Vec<(&str, Option<&str>, Option<&str>, bool)> {
    l.transitions.iter().map(|t| (t.kind.as_str(), t.from.as_deref(), t.to.as_deref(), t.inferred)).collect()
}

fn strs(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// posthog-ios `PostHogSDK.identify` and posthog-android `PostHog.identify` (and
/// posthog-flutter, which runs the Android SDK): identify('mobile-user-2') while identified
/// sends nothing, so 'Viewed Profile' stays on 'mobile-user-1' and no switch is drawn.
#[test]
fn ios_android_and_flutter_ignore_identify_of_another_user_and_raise_no_missing_reset() {
    for (file, prefix) in [
        ("posthog-ios.jsonl", "01a30001"),
        ("posthog-android.jsonl", "01a30002"),
        ("posthog-flutter-android.jsonl", "01a30004"),
    ] {
        let r = run(file);
        let id = |n: u32| format!("{prefix}-0000-7000-8000-{n:012}");
        let (a, b, c) = (id(1), id(8), id(13));
        let lanes = r.model.devices(None);
        assert_eq!(lanes.len(), 3, "{file}: one lane per anonymous-id chain; each reset() started one");
        let first = r.lane(&a);
        assert_eq!(first.key_kind, LaneKey::AnonymousId, "{file}: no $device_id on mobile events");
        assert_eq!(segments(first), [(a.as_str(), 2, false), ("mobile-user-1", 4, true)], "{file}");
        assert_eq!(
            moves(first),
            [
                ("identify", Some(a.as_str()), Some("mobile-user-1"), false),
                ("alias", Some("mobile-alias-1"), Some("mobile-user-1"), false)
            ],
            "{file}"
        );
        let second = r.lane(&b);
        assert_eq!(segments(second), [(b.as_str(), 2, false), ("mobile-user-3", 2, true)], "{file}");
        assert_eq!(moves(second), [("identify", Some(b.as_str()), Some("mobile-user-3"), false)], "{file}");
        assert!(
            second.linked_from.is_none(),
            "{file}: nothing in the events ties the second chain (another user) to the first"
        );
        assert_reset_link(&r, &b, &c, file);
        assert_eq!(
            r.persons(),
            [(strs(&[&a, "mobile-user-1", "mobile-alias-1"]), true), (strs(&[&b, "mobile-user-3", &c]), true)],
            "{file}"
        );
        assert_eq!(
            r.decisions(),
            [
                ("$identify".into(), Rule::MergeCreatedPerson),
                ("$create_alias".into(), Rule::MergeAttachedSource),
                ("$identify".into(), Rule::MergeCreatedPerson),
                ("$identify".into(), Rule::MergeAttachedSource)
            ],
            "{file}"
        );
        assert!(r.model.engine().warnings().is_empty(), "{file}");
        let rules = r.rules();
        assert!(!rules.contains(&"missing_reset_between_users"), "{file}: {rules:?}");
        assert!(!rules.contains(&"switch_without_reset"), "{file}: {rules:?}");
        // The lane keeps its SDK's name, from the events' $lib.
        let lib = if file.contains("flutter") { "posthog-flutter" } else { file.trim_end_matches(".jsonl") };
        assert_eq!((first.source.as_str(), first.lib.as_deref()), ("posthog", Some(lib)), "{file}");
    }
}

/// @posthog/core `posthog-core.ts` `identify` (posthog-react-native): `$identify` on every id
/// change, naming the first anonymous id; PostHog's merge (`person-merge-service`: only one id
/// has a person -> attach, no identified check) puts 'mobile-user-2' into 'mobile-user-1''s person.
#[test]
fn react_native_identify_while_identified_is_a_switch_that_merges_two_users() {
    let r = run("posthog-react-native.jsonl");
    let (a, b, c) = (
        "01a30003-0000-7000-8000-000000000001",
        "01a30003-0000-7000-8000-000000000009",
        "01a30003-0000-7000-8000-000000000014",
    );
    let first = r.lane(a);
    assert_eq!(
        segments(first),
        [(a, 2, false), ("mobile-user-1", 2, true), ("mobile-user-2", 3, true)],
        "the $identify of user 2 lands on user 2's segment"
    );
    assert_eq!(
        moves(first),
        [
            ("identify", Some(a), Some("mobile-user-1"), false),
            // Not "anonymous a became mobile-user-2": the device was on mobile-user-1.
            ("switch_without_reset", Some("mobile-user-1"), Some("mobile-user-2"), false),
            ("alias", Some("mobile-alias-1"), Some("mobile-user-2"), false),
        ]
    );
    let switch = first.transitions[1].explanation();
    for part in ["@posthog/core", "without reset()", a, "two users, one person", "cannot_merge_already_identified"] {
        assert!(switch.contains(part), "{part}: {switch}");
    }
    let second = r.lane(b);
    assert_eq!(segments(second), [(b, 2, false), ("mobile-user-3", 2, true)]);
    assert_reset_link(&r, b, c, "posthog-react-native.jsonl");
    assert_eq!(
        r.persons(),
        [
            (strs(&[a, "mobile-user-1", "mobile-user-2", "mobile-alias-1"]), true),
            (strs(&[b, "mobile-user-3", c]), true)
        ]
    );
    assert_eq!(
        r.decisions(),
        [
            ("$identify".into(), Rule::MergeCreatedPerson),
            ("$identify".into(), Rule::MergeAttachedTarget),
            ("$create_alias".into(), Rule::MergeAttachedSource),
            ("$identify".into(), Rule::MergeCreatedPerson),
            ("$identify".into(), Rule::MergeAttachedSource),
        ]
    );
    let found: Vec<Finding> = r
        .model
        .findings(None)
        .into_iter()
        .filter(|f| f.rule.as_str() == "missing_reset_between_users")
        .map(|f| f.into_owned())
        .collect();
    assert_eq!(found.len(), 1, "a real missing reset: {found:#?}");
    assert_eq!(found[0].distinct_ids, ["mobile-user-1", "mobile-user-2"]);
    assert_eq!(found[0].device_ids, [a]);
    // Its words are React Native's: a $identify was sent and merged, not "no $identify".
    assert!(found[0].message.contains("@posthog/core"), "{}", found[0].message);
    assert!(!found[0].message.contains("sends no $identify"), "{}", found[0].message);
}

/// The last chain: reset() after 'mobile-user-3', who logs in again on the new anonymous id `c`.
/// No `$device_id` carries over, but the `$identify` ties `c` to the user the chain of `b` ended
/// on, and both lanes have the same SDK and device: linked, inferred.
fn assert_reset_link(r: &Run, b: &str, c: &str, file: &str) {
    let old = r.lane(b);
    let new = r.lane(c);
    assert_eq!(segments(new), [(c, 1, false), ("mobile-user-3", 2, true)], "{file}");
    assert_eq!(
        moves(new),
        [("reset", Some("mobile-user-3"), Some(c), true), ("identify", Some(c), Some("mobile-user-3"), false)],
        "{file}"
    );
    let link = new.linked_from.as_ref().unwrap_or_else(|| panic!("{file}: no link"));
    assert_eq!((link.lane_id.as_str(), link.inferred), (old.id.as_str(), true), "{file}");
    assert!(link.evidence.starts_with("Inferred, not certain"), "{file}: {}", link.evidence);
    assert!(new.transitions[0].explanation().contains("reset()"), "{file}");
    // The old lane keeps its own events: the user's events after the new login are on `c`'s lane.
    assert_eq!(old.event_count, 4, "{file}");
    let rules = r.rules();
    assert!(!rules.contains(&"missing_reset_between_users") || file.contains("react"), "{file}: {rules:?}");
}

/// An iOS-shaped event (posthog-ios `buildProperties`: no `$device_id`, the device model and app
/// in every event) of a device described by `model`, at minute `minute`.
fn ios(event: &str, id: &str, model: &str, minute: i64, extra: serde_json::Value) -> EventInput {
    let mut props = serde_json::json!({
        "$lib": "posthog-ios", "$device_model": model, "$app_namespace": "com.example.hedgehog",
        "$app_version": "2.1.0", "$session_id": format!("s-{id}"),
    });
    props.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    crate::support::at(crate::support::e(event, id, props), minute)
}

fn ios_identify(user: &str, anon: &str, model: &str, minute: i64) -> EventInput {
    ios("$identify", user, model, minute, serde_json::json!({"distinct_id": user, "$anon_distinct_id": anon}))
}

fn model_of(events: Vec<EventInput>) -> Model {
    let mut m = Model::new();
    for ev in crate::support::number(events) {
        m.apply(&ev).unwrap();
    }
    m
}

fn lane_of<'a>(m: &'a Model, key: &str) -> &'a DeviceLane {
    m.device(&format!("{}/id:{key}", crate::support::P)).unwrap()
}

/// The same user logging in on a second iPhone of another model is not a reset of the first:
/// the `$identify` alone says only "same user", the device description tells the devices apart.
#[test]
fn same_user_on_another_device_model_is_not_linked_as_a_reset() {
    let m = model_of(vec![
        ios("Application Opened", "anon-1", "iPhone16,2", 0, serde_json::json!({})),
        ios_identify("user-1", "anon-1", "iPhone16,2", 1),
        ios("Logged In", "user-1", "iPhone16,2", 2, serde_json::json!({})),
        ios("Application Opened", "anon-2", "iPad14,1", 3, serde_json::json!({})),
        ios_identify("user-1", "anon-2", "iPad14,1", 4),
        ios("Logged In", "user-1", "iPad14,1", 5, serde_json::json!({})),
    ]);
    let second = lane_of(&m, "anon-2");
    assert!(second.linked_from.is_none(), "{:?}", second.linked_from);
    assert_eq!(
        segments(second),
        [("anon-2", 1, false), ("user-1", 2, true)],
        "the user's iPad events follow its chain"
    );
    assert_eq!(segments(lane_of(&m, "anon-1")), [("anon-1", 1, false), ("user-1", 2, true)]);
}

/// Two devices of the same model used at the same time by one user: the second chain began
/// before the first one ended, so it cannot be the first device after reset().
#[test]
fn overlapping_chains_of_the_same_model_are_not_linked() {
    let m = model_of(vec![
        ios("Application Opened", "anon-1", "iPhone16,2", 0, serde_json::json!({})),
        ios("Application Opened", "anon-2", "iPhone16,2", 1, serde_json::json!({})),
        ios_identify("user-1", "anon-1", "iPhone16,2", 2),
        ios("Logged In", "user-1", "iPhone16,2", 3, serde_json::json!({})),
        ios_identify("user-1", "anon-2", "iPhone16,2", 4),
    ]);
    assert!(lane_of(&m, "anon-2").linked_from.is_none());
}

/// reset() then the same user on the same iPhone: linked (inferred), and the many-devices count
/// does not take the continuation for a second device.
#[test]
fn reset_then_same_user_on_the_same_device_is_linked() {
    let m = model_of(vec![
        ios("Application Opened", "anon-1", "iPhone16,2", 0, serde_json::json!({})),
        ios_identify("user-1", "anon-1", "iPhone16,2", 1),
        ios("Logged In", "user-1", "iPhone16,2", 2, serde_json::json!({})),
        ios("Application Opened", "anon-2", "iPhone16,2", 3, serde_json::json!({})),
        ios_identify("user-1", "anon-2", "iPhone16,2", 4),
        ios("Logged In", "user-1", "iPhone16,2", 5, serde_json::json!({})),
    ]);
    let new = lane_of(&m, "anon-2");
    let link = new.linked_from.as_ref().expect("linked");
    assert_eq!(link.lane_id, format!("{}/id:anon-1", crate::support::P));
    assert_eq!(moves(new)[0], ("reset", Some("user-1"), Some("anon-2"), true));
    assert_eq!(segments(new), [("anon-2", 1, false), ("user-1", 2, true)]);
    assert_eq!(segments(lane_of(&m, "anon-1")), [("anon-1", 1, false), ("user-1", 2, true)]);
    assert!(m.findings(None).iter().all(|f| f.rule.as_str() != "missing_reset_between_users"));
}

/// `model_properties` keeps every property the lanes read from mobile events (`$lib`, the device
/// description): a model fed only those equals one fed the full properties.
#[test]
fn model_keys_cover_what_mobile_lanes_read() {
    for file in
        ["posthog-ios.jsonl", "posthog-android.jsonl", "posthog-flutter-android.jsonl", "posthog-react-native.jsonl"]
    {
        let full = events(&format!("../sdk-traffic-mobile/{file}"));
        let trimmed: Vec<EventInput> = full
            .iter()
            .map(|e| EventInput {
                properties: model_properties(&serde_json::Value::Object(e.properties.clone()).to_string()),
                ..e.clone()
            })
            .collect();
        let view = |evs: &[EventInput]| {
            let mut m = Model::new();
            evs.iter().for_each(|e| drop(m.apply(e).unwrap()));
            serde_json::to_string(&(m.engine().persons(&evs[0].project), m.devices(None), m.findings(None))).unwrap()
        };
        assert_eq!(view(&trimmed), view(&full), "{file}");
    }
}
