//! Forward mode (`serve --forward URL`): every accepted capture request is also sent on to the
//! real vendor host, unchanged (method, path, query, body and the headers that say how to read
//! it), so the app keeps reporting to PostHog while the inspector watches.
//!
//! Invariants:
//! - Never slows the SDK's reply: the handler only `try_send`s into a bounded queue after its
//!   own commit; a full queue drops the copy (counted) instead of waiting.
//! - The queue is bounded by bytes as well as by count: the copies waiting hold at most
//!   `ForwardLimits::queue_bytes` (or one request, when a single one is larger), whatever their
//!   sizes, so a slow vendor cannot grow the inspector's memory with the bodies it has not sent.
//! - Nothing accepted disappears silently: every copy is forwarded, failed, dropped (queue full)
//!   or left unsent at shutdown, each counted in `GET /api/forward` and logged; at shutdown the
//!   queue gets `ForwardLimits::drain` to empty, then one log line says what was never sent.
//! - One background task sends the queue in order, one request at a time, so the vendor
//!   receives requests in the order the inspector accepted them.
//! - Failures are shown, not hidden: counted in `GET /api/forward`, logged, and raised as a
//!   notice in `/api/health` (the UI shows notices). Logs and errors never carry the project
//!   token (only the path and status).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use capture_decode::Received;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::control::{Control, Notice};
use crate::AppState;

/// Requests waiting to be forwarded before new ones are dropped.
const QUEUE: usize = 2_000;
/// Bytes (bodies, paths and headers) waiting to be forwarded before new copies are dropped.
const QUEUE_BYTES: usize = 64 << 20;
/// How long the queue may keep sending after shutdown began.
const DRAIN: Duration = Duration::from_secs(2);
const TIMEOUT: Duration = Duration::from_secs(15);
/// Headers that tell the vendor how to read the body (or who sent it); others stay local.
const KEPT_HEADERS: [&str; 4] = ["content-type", "content-encoding", "user-agent", "authorization"];
const NOTICE: &str = "forward_failed";

/// Why forward mode could not start.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("--forward must be an http:// or https:// URL, not {0:?}")]
    NotHttp(String),
    #[error("cannot start the forwarding HTTP client: {0}")]
    Client(reqwest::Error),
}

/// How much the forward queue may hold, and how long it may drain at shutdown.
#[derive(Debug, Clone, Copy)]
pub struct ForwardLimits {
    /// Bytes of queued copies (body, path, query and headers) before new ones are dropped.
    pub queue_bytes: usize,
    /// After shutdown began, how long the queue keeps sending before the rest is given up.
    pub drain: Duration,
}

impl Default for ForwardLimits {
    fn default() -> Self {
        ForwardLimits { queue_bytes: QUEUE_BYTES, drain: DRAIN }
    }
}

#[derive(Debug, Default)]
struct Counters {
    forwarded: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    dropped_bytes: AtomicU64,
    unsent_at_shutdown: AtomicU64,
    queued_bytes: AtomicUsize,
    last_error: Mutex<Option<(String, String)>>,
}

pub struct Forwarder {
    target: String,
    queue: mpsc::Sender<Received>,
    counters: Arc<Counters>,
    limits: ForwardLimits,
    /// The sending task; taken by [`Forwarder::finished`].
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForwardStatus {
    pub target: String,
    pub queued: usize,
    /// Bytes the queued copies hold (bounded by `max_queued_bytes`).
    pub queued_bytes: usize,
    pub max_queued_bytes: usize,
    pub forwarded: u64,
    pub failed: u64,
    /// Copies dropped because the queue was full (by count or by bytes).
    pub dropped: u64,
    pub dropped_bytes: u64,
    /// Accepted copies still queued (or arriving) when shutdown ended the forwarder.
    pub unsent_at_shutdown: u64,
    /// `{at, error}` of the latest failure.
    pub last_error: Option<Value>,
}

/// What a queued copy costs in memory, as counted against `ForwardLimits::queue_bytes`.
fn size_of(request: &Received) -> usize {
    let headers: usize = request.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    request.body.len() + request.path.len() + request.query.as_ref().map_or(0, String::len) + headers
}

impl Forwarder {
    /// Starts the sending task (inside a Tokio runtime). `target` is the vendor's base URL.
    pub fn start(
        target: &str,
        control: Arc<Control>,
        shutdown: tokio_util::sync::CancellationToken,
        limits: ForwardLimits,
    ) -> Result<Arc<Forwarder>, ForwardError> {
        let target = target.trim_end_matches('/').to_owned();
        if !(target.starts_with("http://") || target.starts_with("https://")) {
            return Err(ForwardError::NotHttp(target));
        }
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(ForwardError::Client)?;
        let (queue, mut requests) = mpsc::channel::<Received>(QUEUE);
        let counters = Arc::new(Counters::default());
        let task = {
            let counters = counters.clone();
            let target = target.clone();
            tokio::spawn(async move {
                // Fires `drain` after shutdown began: whatever is still unsent then is given up.
                let deadline = async {
                    shutdown.cancelled().await;
                    tokio::time::sleep(limits.drain).await;
                };
                tokio::pin!(deadline);
                let mut unsent = 0u64;
                loop {
                    let request = if shutdown.is_cancelled() {
                        match requests.try_recv() {
                            Ok(r) => r,
                            Err(_) => break,
                        }
                    } else {
                        tokio::select! {
                            _ = shutdown.cancelled() => continue,
                            next = requests.recv() => match next { Some(r) => r, None => break },
                        }
                    };
                    tokio::select! {
                        _ = send(&client, &target, request, &counters, &control) => {},
                        // The copy cut off mid-send is unsent too.
                        _ = &mut deadline => { unsent += 1; break; }
                    }
                }
                requests.close();
                while let Ok(request) = requests.try_recv() {
                    counters.queued_bytes.fetch_sub(size_of(&request), Ordering::Relaxed);
                    unsent += 1;
                }
                let unsent = counters.unsent_at_shutdown.fetch_add(unsent, Ordering::Relaxed) + unsent;
                let forwarded = counters.forwarded.load(Ordering::Relaxed);
                let failed = counters.failed.load(Ordering::Relaxed);
                let dropped = counters.dropped.load(Ordering::Relaxed);
                if unsent + failed + dropped > 0 {
                    tracing::warn!(
                        forwarded,
                        failed,
                        dropped,
                        unsent,
                        "forwarder stopped: {unsent} accepted request(s) never forwarded to {target} (shutdown), \
                         {dropped} dropped (queue full), {failed} failed; {forwarded} forwarded"
                    );
                } else {
                    tracing::info!(forwarded, "forwarder stopped: all {forwarded} accepted request(s) forwarded");
                }
            })
        };
        Ok(Arc::new(Forwarder { target, queue, counters, limits, task: Mutex::new(Some(task)) }))
    }

    /// Waits until the sending task has drained (or given up on) the queue and said what it
    /// left unsent. Call after shutdown began; later calls return at once.
    pub async fn finished(&self) {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Queues a copy of an accepted request without waiting; a full queue drops it (counted,
    /// logged).
    pub fn offer(&self, request: Received) {
        let c = &self.counters;
        let size = size_of(&request);
        // Reserve the bytes first; an empty queue takes one copy of any size.
        let reserved = c
            .queued_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                (queued == 0 || queued + size <= self.limits.queue_bytes).then_some(queued + size)
            })
            .is_ok();
        let sent = if reserved {
            match self.queue.try_send(request) {
                Ok(()) => return,
                Err(e) => {
                    c.queued_bytes.fetch_sub(size, Ordering::Relaxed);
                    e
                }
            }
        } else {
            mpsc::error::TrySendError::Full(request)
        };
        if let mpsc::error::TrySendError::Closed(_) = sent {
            let unsent = c.unsent_at_shutdown.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(
                unsent,
                "forwarder stopped (shutdown): not forwarding an accepted request to {}",
                self.target
            );
            return;
        }
        let dropped = c.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        c.dropped_bytes.fetch_add(size as u64, Ordering::Relaxed);
        if dropped.is_power_of_two() {
            tracing::warn!(
                dropped,
                "forward queue full ({QUEUE} requests or {} bytes): dropping copies for {}",
                self.limits.queue_bytes,
                self.target
            );
        }
    }

    pub fn status(&self) -> ForwardStatus {
        let c = &self.counters;
        let last_error = c.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        ForwardStatus {
            target: self.target.clone(),
            queued: QUEUE - self.queue.capacity(),
            queued_bytes: c.queued_bytes.load(Ordering::Relaxed),
            max_queued_bytes: self.limits.queue_bytes,
            forwarded: c.forwarded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            dropped_bytes: c.dropped_bytes.load(Ordering::Relaxed),
            unsent_at_shutdown: c.unsent_at_shutdown.load(Ordering::Relaxed),
            last_error: last_error.map(|(at, error)| json!({"at": at, "error": error})),
        }
    }
}

async fn send(client: &reqwest::Client, target: &str, request: Received, counters: &Counters, control: &Control) {
    // The bytes leave the queue's account when the copy leaves the queue.
    counters.queued_bytes.fetch_sub(size_of(&request), Ordering::Relaxed);
    let url = match &request.query {
        Some(q) if !q.is_empty() => format!("{target}{}?{q}", request.path),
        _ => format!("{target}{}", request.path),
    };
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = client.request(method, &url).body(request.body);
    for (name, value) in &request.headers {
        if KEPT_HEADERS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    // Said with the path only: the query and body may carry the project token.
    let failure = match builder.send().await {
        Ok(answer) if answer.status().is_success() => None,
        Ok(answer) => Some(format!("{} {} answered {}", request.method, request.path, answer.status())),
        Err(e) => Some(format!("{} {} failed: {}", request.method, request.path, without_url(&e))),
    };
    match failure {
        None => {
            counters.forwarded.fetch_add(1, Ordering::Relaxed);
        }
        Some(error) => {
            let failed = counters.failed.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(failed, "forwarding to {target}: {error}");
            let at = chrono::Utc::now().to_rfc3339();
            *counters.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, error.clone()));
            control.set_notice(Notice::warning(
                NOTICE,
                format!("Forwarding to {target} failed {failed} time(s); latest: {error}. See /api/forward."),
            ));
        }
    }
}

/// reqwest's error text without the URL (whose query may hold a token).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_request() {
        "request error"
    } else {
        "error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}

/// `GET /api/forward`: whether forwarding is on, and how it goes.
pub async fn status(State(state): State<AppState>) -> Json<Value> {
    Json(match &state.forward {
        None => json!({"enabled": false}),
        Some(f) => {
            let mut v = serde_json::to_value(f.status()).unwrap_or_default();
            v["enabled"] = json!(true);
            v
        }
    })
}
