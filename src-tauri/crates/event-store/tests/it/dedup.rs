//! Segment `messageId` / Mixpanel `$insert_id` deduplication by `(project, uuid)` in the writer.

use crate::common::*;
use event_store::{EventFilter, NewEvent, RequestFilter};

fn segment(uuid: &str, project: &str) -> NewEvent {
    NewEvent { source: "segment".into(), ..event(uuid, project, "Account Created", "u1") }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resent_message_is_stored_once_and_the_request_says_so() {
    let (_dir, store) = open();
    let first = write(&store, accepted("/v1/batch"), vec![segment("m1", "wk"), segment("m2", "wk")]).await;
    assert_eq!(first.duplicates, 0);
    // The SDK missed the answer and resends; m3 is new; m3 twice in one request counts once.
    let again =
        write(&store, accepted("/v1/batch"), vec![segment("m1", "wk"), segment("m3", "wk"), segment("m3", "wk")]).await;
    assert_eq!(again.duplicates, 2);
    assert_eq!(again.seqs.map(|(a, b)| b - a), Some(0), "one event stored");

    let events = store.events(&EventFilter { limit: 100, ..Default::default() }).unwrap().items;
    let uuids: Vec<_> = events.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids, ["m3", "m2", "m1"]);
    let requests = store.requests(&RequestFilter { limit: 10, ..Default::default() }).unwrap().items;
    assert_eq!(requests[0].event_count, 1);
    assert!(requests[0].note.as_deref().unwrap().starts_with("2 duplicate events dropped"), "{:?}", requests[0].note);
    assert_eq!(requests[1].note, None);
    let projects = store.projects().unwrap();
    assert_eq!(projects[0].events, 3, "project counters count stored events only");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_id_in_another_project_or_from_posthog_is_kept() {
    let (_dir, store) = open();
    write(&store, accepted("/v1/batch"), vec![segment("m1", "wk")]).await;
    let other = write(&store, accepted("/v1/batch"), vec![segment("m1", "wk_other")]).await;
    assert_eq!(other.duplicates, 0);
    let posthog = event("0190c2a4-0000-7000-8000-000000000001", "phc", "$pageview", "d");
    write(&store, accepted("/batch"), vec![posthog.clone()]).await;
    let again = write(&store, accepted("/batch"), vec![posthog]).await;
    assert_eq!(again.duplicates, 0, "PostHog events keep today's behaviour");
    assert_eq!(store.totals().unwrap().events, 4);
}
