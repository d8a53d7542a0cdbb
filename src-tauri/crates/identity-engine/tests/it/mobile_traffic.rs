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
        let (a, b) = (format!("{prefix}-0000-7000-8000-000000000001"), format!("{prefix}-0000-7000-8000-000000000008"));
        let lanes = r.model.devices(None);
        assert_eq!(lanes.len(), 2, "{file}: one lane per anonymous-id chain; reset() started the second");
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
        assert!(second.linked_from.is_none(), "{file}: nothing in the events ties the new chain to the old one");
        assert_eq!(
            r.persons(),
            [(strs(&[&a, "mobile-user-1", "mobile-alias-1"]), true), (strs(&[&b, "mobile-user-3"]), true)],
            "{file}"
        );
        assert_eq!(
            r.decisions(),
            [
                ("$identify".into(), Rule::MergeCreatedPerson),
                ("$create_alias".into(), Rule::MergeAttachedSource),
                ("$identify".into(), Rule::MergeCreatedPerson)
            ],
            "{file}"
        );
        assert!(r.model.engine().warnings().is_empty(), "{file}");
        let rules = r.rules();
        assert!(!rules.contains(&"missing_reset_between_users"), "{file}: {rules:?}");
        assert!(!rules.contains(&"switch_without_reset"), "{file}: {rules:?}");
        // The lane keeps its SDK's name, from the events' $lib.
        assert_eq!(first.source, "posthog", "{file}");
    }
}

/// @posthog/core `posthog-core.ts` `identify` (posthog-react-native): `$identify` on every id
/// change, naming the first anonymous id; PostHog's merge (`person-merge-service`: only one id
/// has a person -> attach, no identified check) puts 'mobile-user-2' into 'mobile-user-1''s person.
#[test]
fn react_native_identify_while_identified_is_a_switch_that_merges_two_users() {
    let r = run("posthog-react-native.jsonl");
    let (a, b) = ("01a30003-0000-7000-8000-000000000001", "01a30003-0000-7000-8000-000000000009");
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
    assert_eq!(
        r.persons(),
        [(strs(&[a, "mobile-user-1", "mobile-user-2", "mobile-alias-1"]), true), (strs(&[b, "mobile-user-3"]), true)]
    );
    assert_eq!(
        r.decisions(),
        [
            ("$identify".into(), Rule::MergeCreatedPerson),
            ("$identify".into(), Rule::MergeAttachedTarget),
            ("$create_alias".into(), Rule::MergeAttachedSource),
            ("$identify".into(), Rule::MergeCreatedPerson),
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
}
