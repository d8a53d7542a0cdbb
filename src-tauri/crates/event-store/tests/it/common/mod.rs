//! Shared builders for the event-store integration tests.

use event_store::test_support::accepted_request;
pub use event_store::test_support::T0;
use event_store::{Committed, NewEvent, NewRequest, Outcome, Store};

pub fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    (dir, store)
}

/// An accepted PostHog request to `path`.
/// A store whose WAL bounds (`event_store::WAL_RESTART_FRAMES_VAR`) are `frames`, opened in
/// `dir`. The variable is process-wide and read at open, so tests that set it open one at a
/// time: a test removing it while another opens would leave the other with the default bound.
pub fn open_with_wal_bound(dir: &std::path::Path, frames: u64) -> Store {
    static OPENING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = OPENING.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var(event_store::WAL_RESTART_FRAMES_VAR, frames.to_string());
    let store = Store::open(dir).unwrap();
    std::env::remove_var(event_store::WAL_RESTART_FRAMES_VAR);
    store
}

pub fn accepted(path: &str) -> NewRequest {
    NewRequest { path: path.into(), ..accepted_request("posthog") }
}

pub fn rejected(path: &str, status: u16, error: &str) -> NewRequest {
    NewRequest {
        outcome: Outcome::Rejected,
        status,
        error: Some(error.into()),
        error_code: Some("test_error".into()),
        ..accepted(path)
    }
}

pub fn with_body(mut request: NewRequest, body: &[u8]) -> NewRequest {
    request.body = body.to_vec();
    request
}

/// One event; `uuid` doubles as a label that tests look for.
pub fn event(uuid: &str, project: &str, event: &str, distinct_id: &str) -> NewEvent {
    NewEvent {
        uuid: uuid.into(),
        project: project.into(),
        source: "posthog".into(),
        event: event.into(),
        distinct_id: distinct_id.into(),
        device_id: None,
        session_id: None,
        timestamp: T0 - 1_000,
        original_timestamp: None,
        sent_at: None,
        received_at: T0,
        properties: format!(r#"{{"label":"{uuid}"}}"#),
        warnings: Vec::new(),
    }
}

pub fn with_ids(mut e: NewEvent, device: Option<&str>, session: Option<&str>) -> NewEvent {
    e.device_id = device.map(str::to_owned);
    e.session_id = session.map(str::to_owned);
    e
}

pub async fn write(store: &Store, request: NewRequest, events: Vec<NewEvent>) -> Committed {
    store.write(request, events).await.expect("write commits")
}

/// Writes `n` single-event requests labelled `{prefix}{i}`; returns the committed results.
pub async fn write_many(store: &Store, prefix: &str, n: usize) -> Vec<Committed> {
    let mut out = Vec::new();
    for i in 0..n {
        let e = event(&format!("{prefix}{i}"), "proj", "tick", "someone");
        out.push(write(store, accepted("/batch/"), vec![e]).await);
    }
    out
}
