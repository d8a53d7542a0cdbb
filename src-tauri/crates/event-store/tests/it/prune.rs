//! Retention pruning and "clear all data": what goes, what stays, and that the store stays usable.

use crate::common::*;
use event_store::{Change, EventFilter, Removed, RequestFilter, Retention, Store};

const DAY: i64 = 86_400_000_000;

fn seqs(store: &Store) -> Vec<i64> {
    let page = store.events(&EventFilter { limit: 1000, ..Default::default() }).unwrap();
    let mut seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    seqs.sort();
    seqs
}

fn request_ids(store: &Store) -> Vec<i64> {
    let page = store.requests(&RequestFilter { limit: 1000, ..Default::default() }).unwrap();
    let mut ids: Vec<i64> = page.items.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// Runs a blocking store call the way the server does.
async fn blocking<T: Send + 'static>(store: &Store, f: impl FnOnce(&Store) -> T + Send + 'static) -> T {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.unwrap()
}

/// One request with one event, received `days_ago` days before T0.
async fn event_at(store: &Store, label: &str, days_ago: i64) {
    let at = T0 - days_ago * DAY;
    let mut request = accepted("/batch/");
    request.received_at = at;
    let mut e = event(label, "proj", "tick", "someone");
    e.received_at = at;
    write(store, request, vec![e]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn max_events_keeps_the_newest_and_their_requests() {
    let (_dir, store) = open();
    write_many(&store, "e", 10).await;
    let removed =
        blocking(&store, |s| s.prune(Retention { max_events: Some(4), max_age_days: None }, T0)).await.unwrap();
    assert_eq!(removed, Removed { events: 6, requests: 6 });
    assert_eq!(seqs(&store), [7, 8, 9, 10]);
    assert_eq!(request_ids(&store), [7, 8, 9, 10]);
    assert_eq!(store.totals().unwrap().events, 4, "project counters follow");

    // Already within the limit: nothing more goes.
    let again = blocking(&store, |s| s.prune(Retention { max_events: Some(4), max_age_days: None }, T0)).await.unwrap();
    assert!(again.is_empty());
    // New events continue the arrival order, never reusing a pruned number.
    write_many(&store, "f", 1).await;
    assert_eq!(seqs(&store), [7, 8, 9, 10, 11]);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_age_removes_old_events_and_old_rejected_requests_only() {
    let (_dir, store) = open();
    event_at(&store, "old-1", 10).await;
    let mut old_rejected = rejected("/e/", 400, "bad");
    old_rejected.received_at = T0 - 9 * DAY;
    write(&store, old_rejected, vec![]).await;
    event_at(&store, "old-2", 8).await;
    event_at(&store, "new-1", 2).await;
    let mut new_rejected = rejected("/e/", 400, "bad");
    new_rejected.received_at = T0 - DAY;
    write(&store, new_rejected, vec![]).await;
    event_at(&store, "new-2", 0).await;

    let removed =
        blocking(&store, |s| s.prune(Retention { max_events: None, max_age_days: Some(7) }, T0)).await.unwrap();
    assert_eq!(removed, Removed { events: 2, requests: 3 });
    let labels: Vec<String> = store
        .events(&EventFilter { limit: 10, ..Default::default() })
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.uuid)
        .collect();
    assert_eq!(labels, ["new-2", "new-1"]);
    assert_eq!(request_ids(&store), [4, 5, 6], "the young rejected request stays");
    assert_eq!(store.totals().unwrap().rejected, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_old_goes_and_a_policy_of_nothing_keeps_everything() {
    let (_dir, store) = open();
    event_at(&store, "a", 30).await;
    event_at(&store, "b", 20).await;
    let none = blocking(&store, |s| s.prune(Retention::default(), T0)).await.unwrap();
    assert!(none.is_empty());
    let removed =
        blocking(&store, |s| s.prune(Retention { max_events: Some(100), max_age_days: Some(7) }, T0)).await.unwrap();
    assert_eq!(removed, Removed { events: 2, requests: 2 });
    assert!(seqs(&store).is_empty());
    assert_eq!(store.totals().unwrap().events, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn pruning_more_than_one_chunk_removes_exactly_the_excess() {
    let (_dir, store) = open();
    // 45 000 events in 45 requests: more than two deletion chunks of events.
    for r in 0..45 {
        let events = (0..1000).map(|i| event(&format!("r{r}-{i}"), "proj", "tick", "someone")).collect();
        write(&store, accepted("/batch/"), events).await;
    }
    let removed =
        blocking(&store, |s| s.prune(Retention { max_events: Some(1500), max_age_days: None }, T0)).await.unwrap();
    assert_eq!(removed.events, 43_500);
    // The first kept event belongs to request 44, so requests 1..=43 go.
    assert_eq!(removed.requests, 43);
    assert_eq!(store.totals().unwrap().events, 1500);
    assert_eq!(store.last_seq().unwrap(), 45_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_and_clear_are_announced() {
    let (_dir, store) = open();
    write_many(&store, "e", 3).await;
    let mut changes = store.subscribe();
    blocking(&store, |s| s.prune(Retention { max_events: Some(1), max_age_days: None }, T0)).await.unwrap();
    match changes.recv().await.unwrap() {
        Change::Pruned { events, requests, all } => assert_eq!((events, requests, all), (2, 2, false)),
        other => panic!("expected a prune announcement, got {other:?}"),
    }
    blocking(&store, |s| s.clear_all()).await.unwrap();
    match changes.recv().await.unwrap() {
        Change::Pruned { events, requests, all } => assert_eq!((events, requests, all), (1, 1, true)),
        other => panic!("expected a clear announcement, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn clear_all_empties_the_store_which_keeps_working() {
    let (dir, store) = open();
    write_many(&store, "e", 5).await;
    write(&store, rejected("/e/", 400, "bad"), vec![]).await;
    let removed = blocking(&store, |s| s.clear_all()).await.unwrap();
    assert_eq!(removed, Removed { events: 5, requests: 6 });
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected), (0, 0, 0));
    assert!(store.projects().unwrap().is_empty());

    write_many(&store, "after", 2).await;
    assert_eq!(seqs(&store), [1, 2], "numbering starts again after a clear");
    store.close().await;
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.totals().unwrap().events, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn captures_queued_during_a_prune_are_all_committed() {
    let (_dir, store) = open();
    write_many(&store, "old", 200).await;
    let pruning = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.prune(Retention { max_events: Some(150), max_age_days: None }, T0))
    };
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { write_many(&store, &format!("w{i}-"), 5).await })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    pruning.await.unwrap().unwrap();
    let remaining = store.totals().unwrap().events;
    // Whenever the cut was taken (before, among or after the new writes), the newest 150 stay,
    // so none of the 100 new events can be lost.
    assert!((150..=250).contains(&remaining), "{remaining} events remain");
    let new = store.events(&EventFilter { limit: 1000, ..Default::default() }).unwrap();
    assert_eq!(new.items.iter().filter(|e| e.uuid.starts_with('w')).count(), 100);
}
