//! The Segment, RudderStack and Mixpanel recordings through `Model` (converted following the
//! shared contract by capture-decode, see `support/traffic.rs`): persons, lanes and findings as the SDK
//! scripts imply (see tests/fixtures/sdk-traffic/README.md).

use crate::support::traffic;

use identity_engine::*;

fn model(file: &str) -> (Model, Vec<EventInput>) {
    let evs = traffic::events(file);
    let mut m = Model::new();
    for e in &evs {
        m.apply(e).unwrap();
    }
    (m, evs)
}

fn persons(m: &Model, project: &str) -> Vec<(Vec<String>, bool)> {
    m.engine().persons(project).into_iter().map(|p| (p.distinct_ids.clone(), p.is_identified)).collect()
}

fn rules(m: &Model, project: &str) -> Vec<String> {
    m.findings(Some(project)).iter().map(|f| f.rule.as_str().to_owned()).collect()
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn segs(m: &Model, lane: &str) -> Vec<(String, bool)> {
    m.device(lane)
        .unwrap_or_else(|| panic!("lane {lane}"))
        .segments
        .iter()
        .map(|s| (s.distinct_id.clone(), s.identified))
        .collect()
}

fn kinds(m: &Model, lane: &str) -> Vec<(&'static str, bool)> {
    m.device(lane).unwrap().transitions.iter().map(|t| (t.kind.as_str(), t.inferred)).collect()
}

const A1: &str = "8e741521-6325-40f4-a62c-829e1fa40b5e";
const A2: &str = "f4662c82-9e1f-440b-9eba-8be868f188ad";

/// analytics-next: page; identify('12345', traits); track 'Account Created'; reset(); track;
/// alias('12346').
#[test]
fn segment_browser_identify_reset_alias() {
    let (m, evs) = model("segment-analytics-next-browser.jsonl");
    assert!(evs.iter().all(|e| e.source == "segment" && e.project == "k"));
    assert_eq!(m.engine().family("k"), Family::Segment);
    assert_eq!(
        persons(&m, "k"),
        // alias('12346') links nothing in Unify (Segment Spec: Alias), so A2 stays anonymous.
        [(ids(&[A1, "12345", "jake.peterson@example.com"]), true), (ids(&[A2]), false)]
    );
    let p = m.engine().person_for("k", "12345").unwrap();
    assert_eq!(p.properties["name"], "Jake Peterson", "identify traits become profile traits");
    assert_eq!(m.engine().id_kind("k", "jake.peterson@example.com"), Some(IdKind::Email));
    // Lanes: one per anonymousId; the second only possibly continues the first after reset():
    // analytics.js sends no reset time, so timing is the only evidence and no marker is drawn.
    let (old, new) = (format!("k/{A1}"), format!("k/{A2}"));
    assert_eq!(segs(&m, &old), [(A1.to_owned(), false), ("12345".to_owned(), true)]);
    assert_eq!(kinds(&m, &old), [("identify", false)]);
    // alias('12346') leaves analytics.js on its anonymousId (it sets no user id), so the lane stays on
    // A2 and shows the alias as a marker.
    assert_eq!(segs(&m, &new), [(A2.to_owned(), false)]);
    assert_eq!(kinds(&m, &new), [("alias", false)]);
    let lane = m.device(&new).unwrap();
    assert_eq!(
        (lane.key_kind.as_str(), lane.family, lane.source.as_str()),
        ("anonymous_id", Family::Segment, "segment")
    );
    let link = lane.linked_from.as_ref().expect("reset() possible");
    assert_eq!(link.lane_id, old);
    assert!(link.possible, "timing-only: {}", link.evidence);
    assert!(link.evidence.contains("analytics.js") && link.evidence.contains("same user agent"), "{}", link.evidence);
    // The script is clean: no finding (and no PostHog billing note).
    assert_eq!(rules(&m, "k"), Vec::<String>::new());
}

/// Server SDKs: identify with anonymousId, track, alias after identify, group, screen.
#[test]
fn segment_and_rudder_server_sdks() {
    let (m, _) = model("segment-analytics-node.jsonl");
    let p = "segment_node_token";
    // group_id <- groupId is one of Unify's default identifiers (Identity Resolution Settings).
    assert_eq!(persons(&m, p), [(ids(&["user-s1", "anon-s1", "acme"]), true), (ids(&["anon-s2"]), false)]);
    let lane = format!("{p}/id:anon-s1");
    assert_eq!(segs(&m, &lane), [("anon-s1".to_owned(), false), ("user-s1".to_owned(), true)]);
    assert_eq!(m.device(&lane).unwrap().event_count, 4, "identify, track, alias and group on one lane");
    assert_eq!(rules(&m, p), ["alias_after_identify"]);
    let f = &m.findings(Some(p))[0];
    // The alias message stays on its previousId (the device's id) and adds its userId.
    assert!(f.message.contains("Segment") && f.distinct_ids == ["anon-s1", "user-s1"], "{f:?}");

    let (m, _) = model("segment-analytics-python.jsonl");
    let p = "segment_python_token";
    // Unify adds a message's identifiers by priority: user_id, email, then the others.
    assert_eq!(persons(&m, p), [(ids(&["user-py1", "jake.peterson@example.com", "anon-py1"]), true)]);
    assert_eq!(rules(&m, p), ["alias_after_identify"]);

    let (m, evs) = model("rudder-sdk-python.jsonl");
    assert_eq!(evs[0].source, "rudderstack");
    let p = "rudder_python_token";
    assert_eq!(m.engine().family(p), Family::RudderStack);
    assert_eq!(persons(&m, p), [(ids(&["user-r1", "anon-r1", "r@example.com"]), true)]);
    assert_eq!(m.engine().person_for(p, "r@example.com").unwrap().id, m.engine().person_for(p, "user-r1").unwrap().id);
}

/// mixpanel-browser: track; identify('mp-user-1'); people.set; track; reset(); track.
#[test]
fn mixpanel_browser_identify_engage_reset() {
    let (m, _) = model("mixpanel-browser.jsonl");
    let p = "mixpanel_token";
    let (d1, d2) = ("df3aa830-0bcb-428d-adac-b28e5a08f0cb", "b6c74add-f253-40ec-9f6c-1e8f98de1fca");
    let (dev1, dev2) = (format!("$device:{d1}"), format!("$device:{d2}"));
    assert_eq!(persons(&m, p), [(ids(&[d1, &dev1, "mp-user-1"]), true), (ids(&[d2, &dev2]), false)]);
    let user = m.engine().person_for(p, "mp-user-1").unwrap();
    assert_eq!(user.properties["$email"], "max@hedgehogmail.com", "/engage $set");
    assert_eq!(user.properties["$initial_referrer"], "$direct", "/engage $set_once");
    assert_eq!(segs(&m, &format!("{p}/{d1}")), [(dev1.clone(), false), ("mp-user-1".to_owned(), true)]);
    assert_eq!(kinds(&m, &format!("{p}/{d1}")), [("identify", false)]);
    let new = m.device(&format!("{p}/{d2}")).unwrap();
    assert_eq!(new.linked_from.as_ref().map(|l| l.lane_id.clone()), Some(format!("{p}/{d1}")));
    assert!(new.linked_from.as_ref().unwrap().evidence.contains("$device:"));
    assert_eq!(rules(&m, p), Vec::<String>::new());
}
