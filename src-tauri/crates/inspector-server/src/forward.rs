//! Forward mode (`serve --forward URL`): every accepted capture request is also sent on to the
//! real vendor host, unchanged (method, path, query, body and the headers that say how to read
//! it), so the app keeps reporting to PostHog while the inspector watches.
//!
//! Invariants:
//! - Never slows the SDK's reply: the handler only `try_send`s into a bounded queue after its
//!   own commit; a full queue drops the copy (counted) instead of waiting.
//! - One background task sends the queue in order, one request at a time, so the vendor
//!   receives requests in the order the inspector accepted them.
//! - Failures are shown, not hidden: counted in `GET /api/forward`, logged, and raised as a
//!   notice in `/api/health` (the UI shows notices). Logs and errors never carry the project
//!   token (only the path and status).

use std::sync::atomic::{AtomicU64, Ordering};
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

#[derive(Debug, Default)]
struct Counters {
    forwarded: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    last_error: Mutex<Option<(String, String)>>,
}

pub struct Forwarder {
    target: String,
    queue: mpsc::Sender<Received>,
    counters: Arc<Counters>,
}

#[derive(Debug, Serialize)]
pub struct ForwardStatus {
    pub target: String,
    pub queued: usize,
    pub forwarded: u64,
    pub failed: u64,
    pub dropped: u64,
    /// `{at, error}` of the latest failure.
    pub last_error: Option<Value>,
}

impl Forwarder {
    /// Starts the sending task (inside a Tokio runtime). `target` is the vendor's base URL.
    pub fn start(
        target: &str,
        control: Arc<Control>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<Arc<Forwarder>, ForwardError> {
        let target = target.trim_end_matches('/').to_owned();
        if !(target.starts_with("http://") || target.starts_with("https://")) {
            return Err(ForwardError::NotHttp(target));
        }
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(ForwardError::Client)?;
        let (queue, mut requests) = mpsc::channel::<Received>(QUEUE);
        let counters = Arc::new(Counters::default());
        let forwarder = Arc::new(Forwarder { target: target.clone(), queue, counters: counters.clone() });
        tokio::spawn(async move {
            loop {
                let request = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    next = requests.recv() => match next { Some(r) => r, None => break },
                };
                send(&client, &target, request, &counters, &control).await;
            }
        });
        Ok(forwarder)
    }

    /// Queues a copy of an accepted request without waiting; a full queue drops it (counted,
    /// logged).
    pub fn offer(&self, request: Received) {
        if self.queue.try_send(request).is_err() {
            let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "forward queue full ({QUEUE} requests): dropping copies for {}", self.target);
            }
        }
    }

    pub fn status(&self) -> ForwardStatus {
        let c = &self.counters;
        let last_error = c.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        ForwardStatus {
            target: self.target.clone(),
            queued: QUEUE - self.queue.capacity(),
            forwarded: c.forwarded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            last_error: last_error.map(|(at, error)| json!({"at": at, "error": error})),
        }
    }
}

async fn send(client: &reqwest::Client, target: &str, request: Received, counters: &Counters, control: &Control) {
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
