//! Faulted requests (a fault rule answered them): their events are kept apart from stored
//! events, and every uuid's delivery attempts are told from both.

use crate::common::*;
use event_store::{
    Change, DeliveryFilter, DeliveryState, EventFilter, NewRequest, Outcome, RequestFilter, Retention, Store,
};

const DAY: i64 = 86_400_000_000;

fn faulted(path: &str, status: u16) -> NewRequest {
    NewRequest {
        outcome: Outcome::Faulted,
        status,
        error: Some(format!("answered {status} by fault rule #1 (source=posthog,status={status})")),
        error_code: Some("fault".into()),
        ..accepted(path)
    }
}

fn stored_uuids(store: &Store) -> Vec<String> {
    store.events(&EventFilter { limit: 100, ..Default::default() }).unwrap().items.into_iter().map(|e| e.uuid).collect()
}

fn all(store: &Store) -> Vec<event_store::Delivery> {
    store.deliveries(&DeliveryFilter { limit: 100, ..Default::default() }).unwrap().items
}

#[tokio::test(flavor = "multi_thread")]
async fn a_faulted_request_keeps_its_events_apart_and_says_so() {
    let (_dir, store) = open();
    let mut changes = store.subscribe();
    write(&store, accepted("/batch/"), vec![event("before", "phc", "$pageview", "anon")]).await;
    let committed = write(
        &store,
        faulted("/batch/", 503),
        vec![event("a", "phc", "$pageview", "anon"), event("b", "phc", "x", "anon")],
    )
    .await;
    assert_eq!(committed.seqs, None, "a faulted request stores no event");
    assert_eq!(stored_uuids(&store), ["before"]);
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected, totals.faulted), (1, 2, 0, 1));
    assert_eq!(store.projects().unwrap()[0].events, 1, "project counts are of stored events");

    let page = store.requests(&RequestFilter { outcome: Some("faulted".into()), limit: 10, ..Default::default() });
    let request = &page.unwrap().items[0];
    assert_eq!((request.outcome.as_str(), request.status, request.event_count), ("faulted", 503, 2));
    assert_eq!(request.project.as_deref(), Some("phc"), "kept with its events' project");
    let detail = store.request(committed.request_id).unwrap().expect("stored");
    assert_eq!(detail.event_uuids, ["a", "b"], "the events it carried");

    let _ = changes.recv().await.unwrap();
    match changes.recv().await.unwrap() {
        Change::Faulted { request_id, status, events, error, .. } => {
            assert_eq!((request_id, status, events), (committed.request_id, 503, 2));
            assert!(error.contains("fault rule #1"), "{error}");
        }
        other => panic!("expected a faulted announcement, got {other:?}"),
    }
    let bad = store.requests(&RequestFilter { outcome: Some("lost".into()), limit: 1, ..Default::default() });
    assert!(bad.unwrap_err().to_string().contains("`accepted`, `rejected` or `faulted`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_of_one_uuid_are_one_delivery() {
    let (_dir, store) = open();
    // "a" fails twice and gets through; "b" fails once and is never sent again.
    write(&store, faulted("/batch/", 503), vec![event("a", "phc", "$identify", "u1"), event("b", "phc", "x", "u1")])
        .await;
    write(&store, faulted("/batch/", 429), vec![event("a", "phc", "$identify", "u1")]).await;
    let stored = write(&store, accepted("/batch/"), vec![event("a", "phc", "$identify", "u1")]).await;
    // "c" is stored twice after a fault (PostHog keeps both copies of a uuid).
    write(&store, faulted("/batch/", 500), vec![event("c", "phc", "y", "u1")]).await;
    write(&store, accepted("/batch/"), vec![event("c", "phc", "y", "u1")]).await;
    write(&store, accepted("/batch/"), vec![event("c", "phc", "y", "u1")]).await;
    // Never faulted: no delivery to tell.
    write(&store, accepted("/batch/"), vec![event("d", "phc", "z", "u1")]).await;

    let deliveries = all(&store);
    let by_uuid = |u: &str| deliveries.iter().find(|d| d.uuid == u).unwrap_or_else(|| panic!("{u} listed"));
    assert_eq!(deliveries.len(), 3, "only uuids a fault touched");
    let a = by_uuid("a");
    assert_eq!(
        (a.sent, a.stored, a.state, a.summary.as_str()),
        (3, 1, DeliveryState::Delivered, "sent 3 times, stored once")
    );
    let outcomes: Vec<(&str, u16)> = a.attempts.iter().map(|t| (t.outcome.as_str(), t.status)).collect();
    assert_eq!(outcomes, [("faulted", 503), ("faulted", 429), ("accepted", 200)]);
    assert_eq!(a.attempts[2].seq, stored.seqs.map(|s| s.0));
    assert!(a.attempts[0].fault.as_deref().is_some_and(|f| f.contains("fault rule #1")));
    assert_eq!((a.event.as_str(), a.distinct_id.as_str()), ("$identify", "u1"));
    let b = by_uuid("b");
    assert_eq!((b.state, b.summary.as_str()), (DeliveryState::Lost, "lost: never retried"));
    let c = by_uuid("c");
    assert_eq!((c.state, c.summary.as_str()), (DeliveryState::Duplicated, "sent 3 times, stored twice"));
    assert_eq!(stored_uuids(&store).iter().filter(|u| *u == "c").count(), 2, "nothing deduplicated");

    let lost = store.deliveries(&DeliveryFilter { state: Some(DeliveryState::Lost), limit: 10, ..Default::default() });
    assert_eq!(lost.unwrap().items.iter().map(|d| d.uuid.as_str()).collect::<Vec<_>>(), ["b"]);
    let of = store.deliveries_of("phc", &["d".into(), "a".into(), "a".into()]).unwrap();
    assert_eq!(of.iter().map(|d| d.uuid.as_str()).collect::<Vec<_>>(), ["a"], "d was never faulted");
    assert!(store.deliveries_of("other", &["a".into()]).unwrap().is_empty(), "uuids are per project");

    let undelivered = store.undelivered(100).unwrap();
    assert_eq!(undelivered.len(), 1);
    assert_eq!((undelivered[0].event.uuid.as_str(), undelivered[0].attempts), ("b", 1));
    assert_eq!(undelivered[0].event.seq, 0, "faulted before any event was stored");
    assert_eq!(store.faults_mark().unwrap(), 4, "four faulted events so far");
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_page_newest_fault_first() {
    let (_dir, store) = open();
    for i in 0..5 {
        write(&store, faulted("/batch/", 503), vec![event(&format!("u{i}"), "phc", "x", "d")]).await;
    }
    let first = store.deliveries(&DeliveryFilter { limit: 2, ..Default::default() }).unwrap();
    assert_eq!(first.items.iter().map(|d| d.uuid.as_str()).collect::<Vec<_>>(), ["u4", "u3"]);
    let next = store.deliveries(&DeliveryFilter { limit: 2, before: first.next_cursor, ..Default::default() }).unwrap();
    assert_eq!(next.items.iter().map(|d| d.uuid.as_str()).collect::<Vec<_>>(), ["u2", "u1"]);
    let project = store.deliveries(&DeliveryFilter { project: Some("nope".into()), limit: 2, ..Default::default() });
    assert!(project.unwrap().items.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn faulted_events_go_with_their_requests() {
    let (_dir, store) = open();
    let mut old = faulted("/batch/", 503);
    old.received_at = T0 - 30 * DAY;
    let mut e = event("old", "phc", "x", "d");
    e.received_at = old.received_at;
    write(&store, old, vec![e]).await;
    write(&store, faulted("/batch/", 503), vec![event("new", "phc", "x", "d")]).await;
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.prune(Retention { max_events: None, max_age_days: Some(7) }, T0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(all(&store).iter().map(|d| d.uuid.as_str()).collect::<Vec<_>>(), ["new"], "pruned with the request");
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.clear_all()).await.unwrap().unwrap();
    assert!(all(&store).is_empty());
    assert_eq!(store.faults_mark().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_uuid_the_sdk_did_not_send_is_unmatched_and_never_undelivered() {
    let (_dir, store) = open();
    let request = faulted("/batch/", 503);
    let events = vec![event("made-up", "phc", "$identify", "u"), event("sent", "phc", "$identify", "u")];
    store.write_faulted(request, events, vec![false, true]).await.expect("written");
    let deliveries = all(&store);
    let state = |u: &str| deliveries.iter().find(|d| d.uuid == u).map(|d| d.state);
    assert_eq!(state("made-up"), Some(DeliveryState::Unmatched));
    assert_eq!(state("sent"), Some(DeliveryState::Lost));
    let undelivered: Vec<String> = store.undelivered(10).unwrap().into_iter().map(|u| u.event.uuid).collect();
    assert_eq!(undelivered, ["sent"]);
    let lost = store.deliveries(&DeliveryFilter { state: Some(DeliveryState::Lost), limit: 10, ..Default::default() });
    assert_eq!(lost.unwrap().items.len(), 1);
    let unmatched =
        store.deliveries(&DeliveryFilter { state: Some(DeliveryState::Unmatched), limit: 10, ..Default::default() });
    assert_eq!(unmatched.unwrap().items[0].uuid, "made-up");
}
