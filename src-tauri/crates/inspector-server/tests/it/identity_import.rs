//! The identity model and an import that commits in chunks: while the import runs the model
//! moves past its rows without them (no person of a half-imported file), and once it completes
//! the model applies the whole data set at once and equals a rebuild from the store.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::accepted_request;
use event_store::{DatasetInfo, ImportRow, NewEvent, RowError, Store};
use identity_engine::Model;
use inspector_server::Identity;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const LIVE: &str = "phc_live";
const IMPORTED: &str = "import:chunks/phc_file";

fn event(i: usize, project: &str) -> NewEvent {
    let device = i % 40;
    let (name, distinct_id, props) = if i.is_multiple_of(3) {
        ("$identify", format!("user-{}", device % 10), json!({"$anon_distinct_id": format!("anon-{device}")}))
    } else {
        ("$pageview", format!("anon-{device}"), json!({"$device_id": format!("d{device}")}))
    };
    crate::common::stored_event(i, (project, "posthog"), name, &distinct_id, Some(format!("d{device}")), props)
}

fn view(model: &Model) -> String {
    serde_json::to_string(&(model.engine().persons(LIVE), model.engine().persons(IMPORTED))).unwrap()
}

/// `held` rows at once, then waits for the test before the rest (`total` in all).
fn rows(held: usize, total: usize, go: mpsc::Receiver<()>) -> impl Iterator<Item = Result<ImportRow, RowError>> + Send {
    let mut go = Some(go);
    (0..total).map(move |i| {
        if i == held {
            if let Some(go) = go.take() {
                let _ = go.recv();
            }
        }
        Ok((accepted_request("posthog"), vec![event(100_000 + i, "phc_file")]))
    })
}

async fn wait_applied(identity: &Identity, store: &Store) {
    let last = store.last_seq().unwrap();
    let started = Instant::now();
    while identity.applied_seq() < last {
        assert!(started.elapsed() < Duration::from_secs(30), "model stuck at {} of {last}", identity.applied_seq());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Live events arrive while the import runs: the model is rebuilt once the import completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_takes_an_import_run_beside_live_traffic_once_it_is_complete() {
    import_beside(true).await;
}

/// Nothing else arrives while the import runs: the model goes back to where it left the import
/// out and applies it from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_takes_an_import_run_alone_once_it_is_complete() {
    import_beside(false).await;
}

async fn import_beside(live_during: bool) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let shutdown = CancellationToken::new();
    let identity = Identity::start(store.clone(), shutdown.clone(), true);
    for i in 0..50 {
        store.write(accepted_request("posthog"), vec![event(i, LIVE)]).await.unwrap();
    }

    let (go, wait) = mpsc::channel();
    let importer = store.clone();
    let info = DatasetInfo { name: "import:chunks".into(), format: "ndjson".into(), source: None, meta: None };
    let import = std::thread::spawn(move || importer.import(info, rows(4_000, 7_000, wait)));
    let started = Instant::now();
    // At least one chunk of 2 000 rows is in.
    while store.incomplete_datasets().unwrap().is_empty() || store.last_seq().unwrap() < 2_050 {
        assert!(started.elapsed() < Duration::from_secs(30), "the import's first chunks did not commit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if live_during {
        for i in 50..60 {
            store.write(accepted_request("posthog"), vec![event(i, LIVE)]).await.unwrap();
        }
    }
    // The model reaches the newest seq, past the import's committed chunks, without them.
    wait_applied(&identity, &store).await;
    assert!(identity.read(|m| m.engine().persons(IMPORTED).is_empty()), "no person of a half-imported file");
    assert!(identity.read(|m| !m.engine().persons(LIVE).is_empty()));

    go.send(()).unwrap();
    let summary = tokio::task::spawn_blocking(move || import.join().unwrap()).await.unwrap().unwrap();
    assert_eq!(summary.events, 7_000);
    for i in 60..70 {
        store.write(accepted_request("posthog"), vec![event(i, LIVE)]).await.unwrap();
    }
    wait_applied(&identity, &store).await;
    let rebuilt = ingest::rebuild_model(&store).unwrap();
    assert!(!rebuilt.engine().persons(IMPORTED).is_empty());
    // Compared as text: a difference prints both models whole.
    assert!(identity.read(view) == view(&rebuilt), "the live model equals a rebuild from the store");
    shutdown.cancel();
}
