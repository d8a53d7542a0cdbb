//! `/api/stream`: server-sent events announcing commits (`events`, `rejected`, `faulted`,
//! `imported`, `pruned`, `project_deleted`, `settings`), identity model changes (`persons`,
//! `devices`, `warnings`) and fault rule changes (`faults`: `{"active": n, "revision": r}`, at
//! most one per batch). A subscriber that falls behind gets a `lagged` event with the number of
//! announcements it missed (and should reload), never an ever-growing buffer.
//!
//! Invariants:
//! - A live reader costs capture nothing that grows with the commit rate: one task (the
//!   [`Announcer`]) subscribes to the store and the identity model, serialises each
//!   announcement once, and publishes them in batches of shared bytes; readers only copy a
//!   pointer and write it to their socket.
//! - Batches are coalesced: the first announcement after a quiet `WINDOW` goes out at once, the
//!   ones after it wait for the window to end and go out together. So each reader wakes at most
//!   once per window, whatever the number of commits, and an idle server still announces
//!   promptly.
//! - Every announcement reaches every reader in order, or the reader is told how many it
//!   missed (`lagged`): batches are numbered by their first announcement.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream, IntervalStream};
use tokio_util::sync::CancellationToken;

use crate::identity::IdentityChange;
use crate::AppState;

/// The coalescing window: at most one batch per window after the first.
const WINDOW: Duration = Duration::from_millis(250);
/// Batches kept for a reader that is behind before it is told it lagged.
const BATCHES: usize = 64;
/// A comment line sent to every reader this often, so proxies and browsers keep the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Announcements, serialised as SSE text, numbered `first..first + count`.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    first: u64,
    count: u64,
    text: Bytes,
}

/// The one subscriber to the store's and the identity model's changes that every `/api/stream`
/// reader listens to.
pub struct Announcer {
    batches: broadcast::Sender<Batch>,
    /// Batches published (each is one wake-up per reader): what a reader costs, counted.
    published: AtomicU64,
    /// The number of the next announcement to be published.
    next: AtomicU64,
}

impl Announcer {
    /// Starts the coalescing task (inside a Tokio runtime); it ends with `shutdown`.
    pub fn start(
        commits: broadcast::Receiver<event_store::Change>,
        identity: broadcast::Receiver<IdentityChange>,
        faults: Arc<fault_rules::FaultBook>,
        shutdown: CancellationToken,
    ) -> Arc<Announcer> {
        let (batches, _) = broadcast::channel(BATCHES);
        let announcer = Arc::new(Announcer { batches, published: AtomicU64::new(0), next: AtomicU64::new(0) });
        tokio::spawn(coalesce(announcer.clone(), commits, identity, faults, shutdown));
        announcer
    }

    /// Batches published so far (every reader wakes once per batch).
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// A receiver of the batches from now on, and the number of the first announcement it is
    /// due (a batch published in between starts below it, which is not a gap).
    fn subscribe(&self) -> (broadcast::Receiver<Batch>, u64) {
        let batches = self.batches.subscribe();
        (batches, self.next.load(Ordering::Acquire))
    }
}

fn commit_kind(change: &event_store::Change) -> &'static str {
    match change {
        event_store::Change::Events { .. } => "events",
        event_store::Change::Rejected { .. } => "rejected",
        event_store::Change::Faulted { .. } => "faulted",
        event_store::Change::Imported { .. } => "imported",
        event_store::Change::Pruned { .. } => "pruned",
        event_store::Change::ProjectDeleted { .. } => "project_deleted",
        event_store::Change::Settings { .. } => "settings",
    }
}

fn identity_kind(change: &IdentityChange) -> &'static str {
    match change {
        IdentityChange::Persons { .. } => "persons",
        IdentityChange::Devices { .. } => "devices",
        IdentityChange::Warnings { .. } => "warnings",
    }
}

/// One SSE event: `event: <kind>`, `data: <json>`, a blank line.
fn write_event(text: &mut String, kind: &str, data: &str) {
    text.push_str("event: ");
    text.push_str(kind);
    text.push_str("\ndata: ");
    text.push_str(data);
    text.push_str("\n\n");
}

fn write_json<T: Serialize>(text: &mut String, kind: &str, change: &T) {
    match serde_json::to_string(change) {
        Ok(json) => write_event(text, kind, &json),
        Err(_) => text.push_str(": unserialisable\n\n"),
    }
}

/// Announcements not yet published, and where the next batch starts.
#[derive(Default)]
struct Pending {
    text: String,
    count: u64,
    next: u64,
}

impl Pending {
    fn push<T: Serialize>(&mut self, item: Result<T, broadcast::error::RecvError>, kind: fn(&T) -> &'static str) {
        match item {
            Ok(change) => write_json(&mut self.text, kind(&change), &change),
            // The announcer itself fell behind: its readers missed these too.
            Err(broadcast::error::RecvError::Lagged(skipped)) => {
                write_event(&mut self.text, "lagged", &format!("{{\"skipped\":{skipped}}}"))
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
        self.count += 1;
    }

    fn publish(&mut self, announcer: &Announcer) {
        if self.count == 0 {
            return;
        }
        let batch = Batch { first: self.next, count: self.count, text: Bytes::from(std::mem::take(&mut self.text)) };
        self.next += self.count;
        self.count = 0;
        announcer.published.fetch_add(1, Ordering::Relaxed);
        // No reader is no error: the batch is simply not kept.
        let _ = announcer.batches.send(batch);
        announcer.next.store(self.next, Ordering::Release);
    }
}

/// The rule book's state as the `faults` announcement says it.
#[derive(Serialize)]
struct FaultsChanged {
    active: usize,
    revision: u64,
}

async fn coalesce(
    announcer: Arc<Announcer>,
    mut commits: broadcast::Receiver<event_store::Change>,
    mut identity: broadcast::Receiver<IdentityChange>,
    faults: Arc<fault_rules::FaultBook>,
    shutdown: CancellationToken,
) {
    let mut pending = Pending::default();
    // Until then, what arrives waits for the batch at the end of the window.
    let mut quiet_after = Instant::now();
    let (mut commits_open, mut identity_open) = (true, true);
    // Rules fire on every faulted request: a batch says once that they changed, as they are
    // when it goes out.
    let mut fault_revisions = faults.subscribe();
    let mut faults_changed = false;
    let publish = |pending: &mut Pending, faults_changed: &mut bool| {
        if std::mem::take(faults_changed) {
            let state = FaultsChanged { active: faults.active(), revision: faults.revision() };
            write_json(&mut pending.text, "faults", &state);
        }
        pending.publish(&announcer);
    };
    while commits_open || identity_open {
        let flush = tokio::time::sleep_until(quiet_after);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            item = commits.recv(), if commits_open => {
                commits_open = !matches!(item, Err(broadcast::error::RecvError::Closed));
                pending.push(item, commit_kind);
            }
            item = identity.recv(), if identity_open => {
                identity_open = !matches!(item, Err(broadcast::error::RecvError::Closed));
                pending.push(item, identity_kind);
            }
            // The book lives as long as this task (it holds it), so the channel never closes.
            Ok(()) = fault_revisions.changed() => {
                if !faults_changed {
                    faults_changed = true;
                    pending.count += 1;
                }
            }
            _ = flush, if pending.count > 0 => {}
        }
        let now = Instant::now();
        if pending.count > 0 && now >= quiet_after {
            publish(&mut pending, &mut faults_changed);
            quiet_after = now + WINDOW;
        }
    }
    publish(&mut pending, &mut faults_changed);
}

/// A reader's byte stream: batches as they come, a `lagged` event first when some were missed.
fn reader(batches: broadcast::Receiver<Batch>, mut expected: u64) -> impl Stream<Item = Bytes> {
    BroadcastStream::new(batches).filter_map(move |item| {
        let out = match item {
            // The next batch says how many were missed (its number minus the expected one).
            Err(BroadcastStreamRecvError::Lagged(_)) => None,
            Ok(batch) => {
                let skipped = batch.first.saturating_sub(expected);
                expected = expected.max(batch.first + batch.count);
                if skipped == 0 {
                    Some(batch.text)
                } else {
                    let mut text = String::new();
                    write_event(&mut text, "lagged", &format!("{{\"skipped\":{skipped}}}"));
                    let mut bytes = text.into_bytes();
                    bytes.extend_from_slice(&batch.text);
                    Some(Bytes::from(bytes))
                }
            }
        };
        std::future::ready(out)
    })
}

pub async fn stream(State(state): State<AppState>) -> Response {
    let mut hello = String::new();
    write_event(&mut hello, "ready", &format!("{{\"capture_url\":\"{}\"}}", state.capture_url));
    let (batches, expected) = state.announcer.subscribe();
    let keep_alive = IntervalStream::new(tokio::time::interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE))
        .map(|_| Bytes::from_static(b":\n\n"));
    let body = futures_util::stream::once(async move { Bytes::from(hello) })
        .chain(futures_util::stream::select(reader(batches, expected), keep_alive))
        .take_until(state.shutdown.cancelled_owned())
        .map(Ok::<_, Infallible>);
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(body))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u64) -> Batch {
        let mut text = String::new();
        write_event(&mut text, "n", &n.to_string());
        Batch { first: n, count: 1, text: Bytes::from(text) }
    }

    /// A subscriber that fell behind gets one `lagged` event saying how many announcements it
    /// missed, then the newest ones: the channel's capacity bounds what is kept for it.
    #[tokio::test]
    async fn a_lagging_subscriber_is_told_what_it_skipped() {
        let (tx, rx) = broadcast::channel::<Batch>(2);
        for n in 0..5 {
            tx.send(batch(n)).unwrap();
        }
        drop(tx);
        let text: Vec<String> = reader(rx, 0).map(|b| String::from_utf8(b.to_vec()).unwrap()).collect().await;
        let text: Vec<String> = text.join("").split_inclusive("\n\n").map(str::to_owned).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("event: lagged\ndata: {\"skipped\":3}\n"), "{}", text[0]);
        assert!(text[1].contains("event: n\ndata: 3\n"), "{}", text[1]);
        assert!(text[2].contains("event: n\ndata: 4\n"), "{}", text[2]);
    }

    /// A burst of commits costs each reader a handful of wake-ups (one per window), not one per
    /// commit, and every announcement still reaches it, in order.
    #[tokio::test]
    async fn a_burst_of_commits_reaches_readers_in_a_few_batches() {
        let (commits, commits_rx) = broadcast::channel(2_048);
        let (_identity, identity_rx) = broadcast::channel::<IdentityChange>(16);
        let shutdown = CancellationToken::new();
        let announcer =
            Announcer::start(commits_rx, identity_rx, Arc::new(fault_rules::FaultBook::new()), shutdown.clone());
        let (batches, expected) = announcer.subscribe();
        let reading =
            tokio::spawn(reader(batches, expected).take_until(shutdown.clone().cancelled_owned()).collect::<Vec<_>>());
        let started = std::time::Instant::now();
        let burst = 1_000;
        for n in 0..burst {
            let change = event_store::Change::Rejected {
                request_id: n,
                method: "POST".into(),
                path: "/x".into(),
                status: 400,
                error: format!("{n}"),
            };
            commits.send(change).unwrap();
            if n % 10 == 0 {
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(WINDOW * 3).await;
        let elapsed = started.elapsed();
        shutdown.cancel();
        let text: String = reading.await.unwrap().iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
        let numbers: Vec<i64> = text
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                assert!(e.starts_with("event: rejected\ndata: "), "{e}");
                let data: serde_json::Value = serde_json::from_str(e.split_once("data: ").unwrap().1).unwrap();
                data["request_id"].as_i64().unwrap()
            })
            .collect();
        assert_eq!(numbers, (0..burst).collect::<Vec<_>>());
        let windows = (elapsed.as_millis() / WINDOW.as_millis()) as u64 + 2;
        let published = announcer.published();
        assert!(published <= windows, "{published} batches for {burst} commits in {elapsed:?}: not coalesced");
    }
}
