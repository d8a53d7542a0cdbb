//! Deleting one project's traffic: its events, the requests that carried them, its refused and
//! event-less requests and its counters go; every other project's rows stay exactly as they
//! were, and the store goes on as if the project had never sent anything.

use crate::common::*;
use event_store::{Change, EventFilter, NewRequest, ProjectSummary, Removed, RequestFilter, Store, StoreError};

/// Runs a blocking store call the way the server does.
async fn blocking<T: Send + 'static>(store: &Store, f: impl FnOnce(&Store) -> T + Send + 'static) -> T {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.unwrap()
}

/// Every stored event and request of `project` (all projects with `None`), as JSON, oldest first.
fn rows(store: &Store, project: Option<&str>) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let events =
        store.events(&EventFilter { project: project.map(str::to_owned), limit: 1000, ..Default::default() }).unwrap();
    let requests = store.requests(&RequestFilter { limit: 1000, ..Default::default() }).unwrap();
    let mut events: Vec<serde_json::Value> =
        events.items.iter().map(|e| serde_json::to_value(e).unwrap()).rev().collect();
    let mut requests: Vec<serde_json::Value> = requests
        .items
        .iter()
        .filter(|r| project.is_none_or(|p| r.project.as_deref() == Some(p)))
        .map(|r| serde_json::to_value(r).unwrap())
        .rev()
        .collect();
    events.sort_by_key(|e| e["seq"].as_i64());
    requests.sort_by_key(|r| r["id"].as_i64());
    (events, requests)
}

fn counters(store: &Store) -> Vec<(String, i64)> {
    let mut all: Vec<(String, i64)> =
        store.projects().unwrap().into_iter().map(|ProjectSummary { project, events, .. }| (project, events)).collect();
    all.sort();
    all
}

fn named(mut request: NewRequest, project: &str) -> NewRequest {
    request.project = Some(project.to_owned());
    request
}

/// Two projects' traffic interleaved: batches of events, refused requests and a flags call
/// (accepted, no events) each.
async fn two_projects(store: &Store) {
    for i in 0..6 {
        for project in ["phc_gone", "phc_kept"] {
            let events = (0..3).map(|j| event(&format!("{project}-{i}-{j}"), project, "tick", "d1")).collect();
            write(store, accepted("/batch/"), events).await;
        }
    }
    for project in ["phc_gone", "phc_kept"] {
        write(store, named(rejected("/batch/", 400, "bad"), project), vec![]).await;
        write(store, named(accepted("/flags/"), project), vec![]).await;
    }
    // A refusal that names no project is nobody's.
    write(store, rejected("/nowhere", 404, "unknown route"), vec![]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_project_removes_its_rows_and_leaves_the_others_identical() {
    let (_dir, store) = open();
    two_projects(&store).await;
    let kept = rows(&store, Some("phc_kept"));
    let mut changes = store.subscribe();

    let deleted = blocking(&store, |s| s.delete_project("phc_gone")).await.unwrap();
    assert_eq!(deleted.removed, Removed { events: 18, requests: 8 }, "6 batches, a refusal and a flags call");
    assert_eq!(deleted.cut.project, "phc_gone");
    assert_eq!(deleted.cut.through_seq, 36, "the newest event when the deletion started");
    assert_eq!(store.project_cuts(), 1);
    assert_eq!(store.project_cuts_after(0), std::slice::from_ref(&deleted.cut));
    assert!(store.project_cut_finished(deleted.cut.id));

    assert_eq!(rows(&store, Some("phc_gone")), (vec![], vec![]), "nothing of the project is left");
    assert_eq!(rows(&store, Some("phc_kept")), kept, "the other project's rows are untouched");
    assert_eq!(counters(&store), [("phc_kept".to_owned(), 18)]);
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected), (18, 9, 2), "the unattributed refusal stays");
    match changes.recv().await.unwrap() {
        Change::ProjectDeleted { project, events, requests } => {
            assert_eq!((project.as_str(), events, requests), ("phc_gone", 18, 8))
        }
        other => panic!("expected project_deleted, got {other:?}"),
    }

    // As if never seen: a Segment message id the project used is new again.
    let mut segment = event("msg-1", "phc_gone", "tick", "d1");
    segment.source = "segment".into();
    write(&store, accepted_segment(), vec![segment.clone()]).await;
    blocking(&store, |s| s.delete_project("phc_gone")).await.unwrap();
    let again = write(&store, accepted_segment(), vec![segment]).await;
    assert_eq!(again.duplicates, 0, "the deleted project's message ids are forgotten too");
}

fn accepted_segment() -> NewRequest {
    event_store::test_support::accepted_request("segment")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_project_removes_nothing_and_announces_nothing() {
    let (_dir, store) = open();
    two_projects(&store).await;
    let before = rows(&store, None);
    let mut changes = store.subscribe();
    let deleted = blocking(&store, |s| s.delete_project("phc_never")).await.unwrap();
    assert!(deleted.removed.is_empty());
    assert_eq!(rows(&store, None), before);
    assert!(changes.try_recv().is_err(), "no announcement for nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_data_sets_project_is_refused() {
    let (_dir, store) = open();
    let err = blocking(&store, |s| s.delete_project("import:bug-1/phc_x")).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidQuery(ref m) if m.contains("removed whole")), "{err}");
    assert_eq!(store.project_cuts(), 0);
}

/// More events than one chunk, in requests of 7 events, so chunks end inside requests: every
/// event and request goes, counted once.
#[tokio::test(flavor = "multi_thread")]
async fn chunks_that_end_inside_a_request_delete_each_request_once() {
    let (_dir, store) = open();
    let mut n = 0;
    for _ in 0..1_500 {
        let events = (0..7)
            .map(|_| {
                n += 1;
                event(&format!("big-{n}"), "phc_big", "tick", "d1")
            })
            .collect();
        write(&store, accepted("/batch/"), events).await;
    }
    write(&store, accepted("/batch/"), vec![event("small-1", "phc_small", "tick", "d1")]).await;
    let deleted = blocking(&store, |s| s.delete_project("phc_big")).await.unwrap();
    assert_eq!(deleted.removed, Removed { events: 10_500, requests: 1_500 });
    assert_eq!(counters(&store), [("phc_small".to_owned(), 1)]);
    assert_eq!(store.totals().unwrap().requests, 1);
}

/// A faulted request (a fault rule answered it) is the project's traffic too: it goes with the
/// events it carried (`faulted_events`), and another project's faulted request stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_projects_faulted_requests_and_their_events_go_too() {
    let (_dir, store) = open();
    for project in ["phc_gone", "phc_kept"] {
        let faulted = NewRequest {
            outcome: event_store::Outcome::Faulted,
            status: 503,
            error: Some("answered 503 by fault rule #1".into()),
            error_code: Some("fault".into()),
            ..accepted("/batch/")
        };
        write(&store, faulted, vec![event(&format!("{project}-lost"), project, "$identify", "u")]).await;
        write(&store, accepted("/batch/"), vec![event(&format!("{project}-kept"), project, "x", "u")]).await;
    }
    let deleted = blocking(&store, |s| s.delete_project("phc_gone")).await.unwrap();
    assert_eq!((deleted.removed.events, deleted.removed.requests), (1, 2), "{deleted:?}");
    let faulted = |store: &Store| {
        let page = store.requests(&RequestFilter { outcome: Some("faulted".into()), limit: 10, ..Default::default() });
        page.unwrap().items.into_iter().filter_map(|r| r.project).collect::<Vec<_>>()
    };
    assert_eq!(faulted(&store), ["phc_kept"]);
    let deliveries = store.deliveries(&event_store::DeliveryFilter { limit: 10, ..Default::default() }).unwrap();
    let uuids: Vec<String> = deliveries.items.iter().map(|d| d.uuid.clone()).collect();
    assert_eq!(uuids, ["phc_kept-lost"], "the deleted project's faulted events are gone");
}
