//! `Model::forget_project` against the model it must equal: one fed the same stream without the
//! forgotten project's events. Random streams of every family (posthog-js browsers, PostHog's
//! edge cases, Segment, RudderStack, Mixpanel) are interleaved under six project keys; a project
//! is forgotten at a random point, and the stream goes on, the forgotten project's later events
//! included (a test suite reusing its key). Checked right after the forget and at the end: every
//! project's persons (with their user ids), decisions, warnings, lanes and findings serialise
//! exactly like the reference's. Going on after the forget is what tests the state a snapshot
//! does not show (lane indices, the lint's memory of ids and lanes): a stale entry changes what
//! later events do.

use crate::model_random;
use crate::random_streams::random_event;
use crate::support::rng::Rng;
use crate::vendor_random::{mixpanel_stream, segment_stream};

use identity_engine::*;

const PROJECTS: [&str; 6] = ["js", "js2", "rnd1", "rnd2", "seg", "rud"];

/// One stream per family, each under its own keys, interleaved at random and numbered anew.
fn mixed(seed: u64, per_stream: usize) -> Vec<EventInput> {
    let mut rng = Rng(seed);
    let rename = |mut e: EventInput, project: &str| {
        e.project = project.to_owned();
        e
    };
    let js: Vec<EventInput> = model_random::stream(seed, per_stream)
        .into_iter()
        .map(|e| {
            let p = if e.project == "p2" { "js2" } else { "js" };
            rename(e, p)
        })
        .collect();
    let rnd: Vec<EventInput> = (0..per_stream as i64)
        .map(|i| {
            let e = random_event(&mut rng, i + 1);
            let p = if e.project == "p1" { "rnd1" } else { "rnd2" };
            rename(e, p)
        })
        .collect();
    let seg: Vec<EventInput> = segment_stream(&mut rng, per_stream).into_iter().map(|e| rename(e, "seg")).collect();
    let rud: Vec<EventInput> = segment_stream(&mut rng, per_stream)
        .into_iter()
        .map(|mut e| {
            e.source = "rudderstack".into();
            rename(e, "rud")
        })
        .collect();
    let mpt: Vec<EventInput> = mixpanel_stream(&mut rng, per_stream).into_iter().map(|e| rename(e, "mpt")).collect();
    let mut queues: Vec<std::collections::VecDeque<EventInput>> =
        [js, rnd, seg, rud, mpt].into_iter().map(Into::into).collect();
    let mut out = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        let q = rng.below(queues.len());
        if let Some(mut e) = queues[q].pop_front() {
            e.seq = out.len() as i64 + 1;
            e.uuid = format!("f{}", e.seq);
            out.push(e);
        }
    }
    out
}

/// Segment's suggested blocked values on for the Segment project, Mixpanel's Original ID Merge
/// for its project: settings are part of what must survive a forget.
fn new_model() -> Model {
    Model::with_settings([
        ("seg", ProjectSettings { segment_blocked_values: true, ..ProjectSettings::default() }),
        ("mpt", ProjectSettings { mixpanel_id_merge: MixpanelIdMerge::Original, ..ProjectSettings::default() }),
    ])
}

/// Everything the model answers with, in a stable text.
fn snapshot(m: &Model) -> String {
    let e = m.engine();
    let persons: Vec<_> = e
        .projects()
        .into_iter()
        .map(|p| {
            let persons: Vec<_> = e.persons(p).into_iter().map(|person| (person, m.user_like_ids(person))).collect();
            (p, e.family(p), e.settings(p), persons)
        })
        .collect();
    serde_json::to_string(&(persons, e.decisions(), e.warnings(), m.devices(None), m.findings(None))).unwrap()
}

#[test]
fn a_forgotten_project_leaves_the_model_as_if_its_events_never_came() {
    let mut forgotten_something = 0;
    for seed in 1..=16u64 {
        let evs = mixed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 120);
        let mut rng = Rng(seed);
        let victim = PROJECTS[rng.below(PROJECTS.len())];
        let at = 1 + rng.below(evs.len() - 1);

        let mut model = new_model();
        evs[..at].iter().for_each(|e| model.push(e).unwrap());
        let before = model.engine().persons(victim).len();
        let gone = model.forget_project(victim);
        assert_eq!(gone.persons, before, "seed {seed}: the count of persons dropped");
        assert!(model.engine().persons(victim).is_empty() && model.devices(Some(victim)).is_empty());
        assert!(model.findings(Some(victim)).is_empty());
        assert!(model.engine().decisions().iter().all(|d| d.project != victim));
        forgotten_something += usize::from(gone.lanes > 0 && gone.decisions > 0);
        // What was pending for the forgotten project is not announced; the rest is.
        let changes = model.take_changes();
        assert!(changes.devices.iter().all(|id| model.device(id).is_some()), "seed {seed}: {changes:?}");

        let mut reference = new_model();
        evs[..at].iter().filter(|e| e.project != victim).for_each(|e| reference.push(e).unwrap());
        reference.take_changes();
        assert_eq!(snapshot(&model), snapshot(&reference), "seed {seed}: right after forgetting {victim} at {at}");

        for e in &evs[at..] {
            model.push(e).unwrap();
            reference.push(e).unwrap();
        }
        assert_eq!(
            model.take_changes().devices,
            reference.take_changes().devices,
            "seed {seed}: the lanes changed since"
        );
        assert_eq!(snapshot(&model), snapshot(&reference), "seed {seed}: {victim} forgotten at {at}, then the rest");
    }
    assert!(forgotten_something >= 8, "the streams must give the forgotten projects lanes and decisions");
}

#[test]
fn forgetting_twice_or_an_unknown_project_is_harmless() {
    let evs = mixed(7, 80);
    let mut model = new_model();
    evs.iter().for_each(|e| model.push(e).unwrap());
    let before = snapshot(&model);
    assert_eq!(model.forget_project("never-seen"), Forgotten::default());
    assert_eq!(snapshot(&model), before);

    model.forget_project("seg");
    let once = snapshot(&model);
    assert_eq!(model.forget_project("seg"), Forgotten::default(), "nothing is left to drop");
    assert_eq!(snapshot(&model), once);
    // The forgotten project keeps its settings: its next events are processed under them.
    assert!(model.engine().settings("seg").segment_blocked_values);
}
