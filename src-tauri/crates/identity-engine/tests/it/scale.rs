//! Scale: one distinct id identified on very many devices (a QA account, or an app that
//! identifies everyone with a constant) must cost the model linear or n·log n work, and the lens
//! of a person with tens of thousands of ids must stay near-linear. The big runs are `#[ignore]`d
//! and run in release by `tests/run.sh`; the small ones check the same output on every run.

use std::time::{Duration, Instant};

use identity_engine::{EventInput, Model};
use serde_json::json;

use crate::support::browser::*;
use crate::support::*;

/// `devices` browsers, each with an anonymous pageview and then an identify as `user`,
/// seq-numbered.
fn one_user_on_many_devices(devices: usize, user: &str) -> Vec<EventInput> {
    let mut events = Vec::with_capacity(devices * 2);
    for d in 0..devices {
        let dev = format!("dev-{d:06}");
        let anon = format!("01a20b9c-0000-7000-8000-{d:012}");
        events.push(js("$pageview", &anon, &dev, false, json!({})));
        events.push(js_identify(user, &anon, &dev));
    }
    number(events)
}

fn feed(events: &[EventInput]) -> Model {
    let mut m = Model::new();
    for ev in events {
        m.push(ev).expect("in order");
    }
    m.take_changes();
    m
}

fn many_devices_finding(m: &Model, user: &str) -> identity_engine::Finding {
    let found: Vec<_> = rules(m, "generic_distinct_id")
        .into_iter()
        .filter(|f| f.distinct_ids == [user] && f.message.contains("devices"))
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap()
}

#[test]
fn many_devices_small() {
    let m = feed(&one_user_on_many_devices(300, "qa-account-1"));
    let f = many_devices_finding(&m, "qa-account-1");
    assert_eq!(f.device_ids.len(), identity_engine::MAX_REFS);
    assert_eq!(f.device_ids[0], "dev-000000");
    assert_eq!(f.device_ids[99], "dev-000099");
    assert!(f.message.contains("300"), "{}", f.message);
    assert_eq!(m.engine().person_for(P, "qa-account-1").unwrap().distinct_ids.len(), 301);
}

/// 50 000 devices on one id: seconds in release (it was hours: a scan of every lane of the id
/// for every new lane).
#[test]
#[ignore = "release-only scale test, run by tests/run.sh"]
fn many_devices_50k() {
    let n = std::env::var("SCALE_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let events = one_user_on_many_devices(n, "qa-account-1");
    let start = Instant::now();
    let m = feed(&events);
    let took = start.elapsed();
    let f = many_devices_finding(&m, "qa-account-1");
    assert!(f.message.contains(&format!(" {n} ")), "{}", f.message);
    assert!(took < Duration::from_secs(30), "50 000 devices on one id took {took:?}");
    eprintln!("many_devices_50k: {} events in {took:?}", events.len());
}

/// A person of `ids` anonymous ids (each with a pageview, then identified as one user), with
/// an alias of an identified id every tenth id so the vendors disagree on many pairs.
fn mega_person(ids: usize) -> Vec<EventInput> {
    let mut events = Vec::with_capacity(ids * 3);
    for i in 0..ids {
        let anon = format!("anon-{i:06}");
        events.push(e("$pageview", &anon, json!({})));
        events.push(e("$identify", "mega-user", json!({"$anon_distinct_id": anon})));
        if i % 10 == 0 {
            events.push(e("$create_alias", &format!("other-{i}"), json!({"alias": "mega-user"})));
        }
    }
    number(events)
}

fn lens_of_mega_person(ids: usize) -> (identity_engine::Lens, Duration) {
    let events = mega_person(ids);
    let start = Instant::now();
    let lens = identity_engine::vendor_lens(P, &events);
    (lens, start.elapsed())
}

#[test]
fn lens_of_a_person_small() {
    let (lens, _) = lens_of_mega_person(500);
    assert_eq!(lens.vendors[0].clusters.iter().map(|c| c.ids.len()).max(), Some(551));
    assert!(lens.disagreements.len() > 40, "{}", lens.disagreements.len());
}

/// 20 000 ids in one person: about a second in release (it was minutes: each disagreement
/// scanned every decision for its reason).
#[test]
#[ignore = "release-only scale test, run by tests/run.sh"]
fn lens_of_a_person_with_20k_ids() {
    let n = std::env::var("SCALE_IDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let (lens, took) = lens_of_mega_person(n);
    let posthog = &lens.vendors[0];
    let biggest = posthog.clusters.iter().map(|c| c.ids.len()).max().unwrap_or(0);
    assert!(biggest > n, "one person holds every anonymous id: {biggest}");
    eprintln!("lens of a person with {biggest} ids: {took:?}, {} disagreements", lens.disagreements.len());
    assert!(took < Duration::from_secs(20), "lens of {n} ids took {took:?}");
}

/// One constant id on `n` browsers of each non-PostHog vendor, as its SDK sends it: Segment and
/// RudderStack identify the constant user id on each anonymousId, Mixpanel sends `$user_id` with
/// each `$device_id`, and KISSmetrics aliases each anonymous identity to one placeholder (the
/// "squished identities" case). Every vendor's rules, lanes and lint must stay near-linear.
fn constant_id_per_vendor(n: usize) -> Vec<(&'static str, Vec<EventInput>)> {
    use crate::support::vendor_events::{mp, seg_web};
    let web = |i: usize| format!("anon-{i:06}");
    let segment = |source: &str| {
        number(
            (0..n)
                .map(|i| {
                    let mut ev = seg_web("identify", Some("qa-account-1"), &web(i), json!({}));
                    ev.source = source.to_owned();
                    ev
                })
                .collect(),
        )
    };
    let mixpanel = number(
        (0..n)
            .map(|i| mp("Viewed", "qa-account-1", json!({"$user_id": "qa-account-1", "$device_id": web(i)})))
            .collect(),
    );
    let kissmetrics = number(
        (0..n)
            .map(|i| EventInput {
                seq: 0,
                uuid: String::new(),
                project: "km".into(),
                source: "kissmetrics".into(),
                event: "$alias".into(),
                distinct_id: web(i),
                timestamp: t0(),
                properties: json!({"alias": "anonymous"}).as_object().cloned().unwrap(),
            })
            .collect(),
    );
    vec![
        ("segment", segment("segment")),
        ("rudderstack", segment("rudderstack")),
        ("mixpanel", mixpanel),
        ("kissmetrics", kissmetrics),
    ]
}

#[test]
fn constant_id_per_vendor_small() {
    for (vendor, events) in constant_id_per_vendor(200) {
        let m = feed(&events);
        assert!(!m.findings(None).is_empty(), "{vendor}: a constant id on 200 devices is flagged");
    }
}

/// 20 000 browsers per vendor on one id: seconds in release.
#[test]
#[ignore = "release-only scale test, run by tests/run.sh"]
fn constant_id_per_vendor_20k() {
    let n = std::env::var("SCALE_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    for (vendor, events) in constant_id_per_vendor(n) {
        let start = Instant::now();
        let m = feed(&events);
        let took = start.elapsed();
        eprintln!("{vendor}: {} events on one id in {took:?}", events.len());
        assert!(!m.findings(None).is_empty(), "{vendor}");
        assert!(took < Duration::from_secs(20), "{vendor}: {n} devices on one id took {took:?}");
    }
}

/// Deleting one project of many (a test suite giving each test its own key): forgetting it
/// must cost a small fraction of replaying the others, which is what a rebuild does. 20
/// projects of posthog-js-like traffic; the measured numbers are in docs/PERFORMANCE.md.
#[test]
#[ignore = "release-only scale test, run by tests/run.sh"]
fn forgetting_one_project_of_20_costs_far_less_than_a_rebuild() {
    let per_project = std::env::var("SCALE_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let mut events: Vec<EventInput> = (0..20u64)
        .flat_map(|p| {
            crate::model_random::stream(p + 1, per_project).into_iter().map(move |mut e| {
                e.project = format!("phc_{p:02}");
                e
            })
        })
        .collect();
    // Interleaved by client time, as concurrent test runs would send them, then renumbered.
    events.sort_by_key(|e| e.timestamp);
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
    }
    let mut model = feed(&events);
    let start = Instant::now();
    let gone = model.forget_project("phc_07");
    let forget = start.elapsed();
    let start = Instant::now();
    let rebuilt = feed(&events.iter().filter(|e| e.project != "phc_07").cloned().collect::<Vec<_>>());
    let rebuild = start.elapsed();
    assert_eq!(rebuilt.devices(None).len(), model.devices(None).len());
    eprintln!(
        "forget one of 20 projects ({} events in all, {} persons and {} lanes dropped): {forget:?}; \
         rebuilding the other 19: {rebuild:?}",
        events.len(),
        gone.persons,
        gone.lanes
    );
    assert!(forget * 10 < rebuild, "forget {forget:?} vs rebuild {rebuild:?}");
}

/// A step of many events names at most `LISTED_CHANGES` persons and lanes, in first-change
/// order, and says that more changed; a step of a few names all of them and says nothing more.
/// (What `/api/stream` announces per model step: a burst's full lists cost every reader
/// megabytes it never reads.)
#[test]
fn a_big_step_lists_its_first_changes_and_says_more_changed() {
    use identity_engine::LISTED_CHANGES;
    // A user signing in on each of their own devices: one new person and one lane per event.
    let n = LISTED_CHANGES * 2 + 1;
    let sign_in = |d: usize| js_identify(&format!("user-{d}"), &format!("anon-{d}"), &format!("dev-{d:06}"));
    let events = number((0..n).map(sign_in).collect());
    let mut m = Model::new();
    for ev in &events[..2] {
        m.push(ev).unwrap();
    }
    let few = m.take_changes();
    assert_eq!(few.devices.len(), 2, "{few:?}");
    assert_eq!(few.persons.len(), 2, "{few:?}");
    assert!(!few.more_devices && !few.more_persons, "{few:?}");
    for ev in &events[2..n - 1] {
        m.push(ev).unwrap();
    }
    let many = m.take_changes();
    assert_eq!(many.devices.len(), LISTED_CHANGES);
    assert!(many.devices[0].ends_with("dev-000002"), "first change first: {:?}", many.devices);
    assert!(many.more_devices, "{} lanes changed, {LISTED_CHANGES} named", n - 3);
    assert_eq!(many.persons.len(), LISTED_CHANGES);
    assert!(many.more_persons);
    // The next step starts a new list.
    m.push(&events[n - 1]).unwrap();
    let next = m.take_changes();
    assert_eq!(next.devices.len(), 1);
    assert!(next.devices[0].ends_with(&format!("dev-{:06}", n - 1)), "{next:?}");
    assert!(!next.more_devices && !next.more_persons, "{next:?}");
}
