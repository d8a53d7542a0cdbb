//! The accept loop: HTTP/1 connections, each bounded in time while it says nothing and in number
//! while many are open, so idle or slow clients cannot hold the server's memory or its file
//! descriptors and capture always gets a connection.
//!
//! Invariants:
//! - A connection that has not sent a complete request head within `header_timeout` is closed:
//!   both a fresh one sending its header slowly and a keep-alive one sitting idle between
//!   requests (hyper restarts the header timer whenever it waits for the next request).
//! - A request body must keep coming while a handler reads it: no byte for `body_timeout`, or
//!   slower than 1 KiB/s after that grace, fails the read (see `body_deadline`); capture answers
//!   408 and keeps the request as rejected.
//! - At most `max_connections` connections are open, a number below the process's descriptor
//!   limit: accepting one more asks the longest-idle one to close (idle: no request or response
//!   body in progress; when none is idle, the oldest, which finishes its current response, or
//!   after `EVICT_GRACE` if it never ends, like a live stream), so a new SDK request is always
//!   accepted rather than left in the kernel's backlog, and live streams outlast idle sockets.
//! - A response marked `DropConnection` (a fault rule's `drop`) is never written: its connection
//!   is closed instead.
//! - Shutdown stops accepting, asks every connection to finish its current response and waits
//!   for them (live streams end on their own when the server's shutdown token is cancelled).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::body_deadline::DeadlineBody;

/// Descriptors kept free for everything that is not a client connection (SQLite files and
/// their WAL, import and export temporaries, the forwarder's sockets, the listener).
const FD_RESERVE: u64 = 256;
/// The most connections the default limits allow, whatever the descriptor limit.
const MAX_CONNECTIONS: u64 = 16_384;
/// How long a connection asked to close because of the cap may finish its current response.
const EVICT_GRACE: Duration = Duration::from_secs(5);
/// Pause after an accept error such as "too many open files", so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// How long a connection may stay silent and how many may be open at once.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time to send a complete request head, counted from the connection's start or the end of
    /// its previous response: closes slow senders and idle keep-alive connections alike.
    pub header_timeout: Duration,
    /// Longest wait for the next bytes of a request body, and the grace before it must come at
    /// 1 KiB/s or faster (see `body_deadline`).
    pub body_timeout: Duration,
    /// Open connections before the oldest is asked to close for a new one.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// A 10 s header/idle timeout, a 10 s body timeout and a cap `FD_RESERVE` below the soft descriptor limit
    /// (read after [`raise_fd_limit`]), between 16 and 16 384.
    pub fn for_this_process() -> ConnectionLimits {
        let soft = fd_limit().unwrap_or(1_024);
        let max = soft.saturating_sub(FD_RESERVE).clamp(16, MAX_CONNECTIONS);
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: max as usize,
        }
    }
}

/// The soft `RLIMIT_NOFILE` (open descriptors) of this process.
// `rlim_t` is u64 on 64-bit Linux and macOS but narrower on some 32-bit targets.
#[allow(clippy::unnecessary_cast)]
pub fn fd_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit.rlim_cur as u64)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (many systems start processes at 1 024
/// while allowing far more), so the connection cap can be high. Returns the soft limit now in
/// force; on failure it is left as it was.
pub fn raise_fd_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let mut wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // macOS refuses an unlimited soft limit for descriptors; its kernel maximum is OPEN_MAX.
        if cfg!(target_os = "macos") && wanted.rlim_cur == libc::RLIM_INFINITY {
            wanted.rlim_cur = 10_240;
        }
        // SAFETY: setrlimit reads one rlimit we own; raising the soft limit up to the hard one
        // needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0 {
            tracing::debug!("cannot raise the open-file limit: {}", std::io::Error::last_os_error());
        }
    }
    fd_limit()
}

/// The open connections, oldest first (ids grow with each accept), each with the token that
/// asks it to close and what it is doing.
#[derive(Default)]
struct Open {
    next_id: u64,
    connections: BTreeMap<u64, (CancellationToken, Arc<Activity>)>,
}

impl Open {
    /// Asks the longest-idle connection to close (the oldest when all are busy).
    fn evict(&mut self) {
        let idle = self
            .connections
            .iter()
            .filter(|(_, (_, a))| a.busy.load(Ordering::Relaxed) == 0)
            .min_by_key(|(_, (_, a))| a.last.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        let Some(id) = idle.or_else(|| self.connections.keys().next().copied()) else { return };
        if let Some((close, _)) = self.connections.remove(&id) {
            close.cancel();
        }
    }
}

/// What one connection is doing: requests whose handling or response body is in progress, and
/// when it last finished one (milliseconds since the server started).
#[derive(Default)]
struct Activity {
    busy: AtomicUsize,
    last: AtomicU64,
}

/// Held from a request's arrival until its response body is dropped.
struct Busy {
    activity: Arc<Activity>,
    epoch: Instant,
}

impl Busy {
    fn new(activity: &Arc<Activity>, epoch: Instant) -> Busy {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Busy { activity: activity.clone(), epoch }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.last.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.activity.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then waits for open connections.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let open = Arc::new(Mutex::new(Open::default()));
    let tasks = TaskTracker::new();
    let epoch = Instant::now();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors (or a connection reset before accept): free one and retry.
                if !is_per_connection(&e) {
                    tracing::warn!("accept error: {e}; closing the longest-idle connection");
                    open.lock().unwrap_or_else(|p| p.into_inner()).evict();
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
                continue;
            }
        };
        let close = shutdown.child_token();
        let activity = Arc::new(Activity::default());
        activity.last.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        let id = {
            let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
            while !open.connections.is_empty() && open.connections.len() >= limits.max_connections {
                open.evict();
            }
            let id = open.next_id;
            open.next_id += 1;
            open.connections.insert(id, (close.clone(), activity.clone()));
            id
        };
        let inner = TowerToHyperService::new(app.clone());
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::new(&activity, epoch);
            let request = request.map(|body| DeadlineBody::new(body, body_timeout));
            let response = hyper::service::Service::call(&inner, request);
            async move {
                let response = match response.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                // A `drop` fault: an error from the service makes hyper close the connection
                // without writing a response, so the SDK sees it drop as on a failing network.
                if response.extensions().get::<crate::handlers::capture::DropConnection>().is_some() {
                    return Err(DroppedByFault);
                }
                // Busy until the body is done (or dropped): a live stream is never idle.
                Ok::<_, DroppedByFault>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &busy;
                        frame
                    }))
                }))
            }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let open = open.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {},
                _ = close.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    if shutdown.is_cancelled() {
                        let _ = connection.as_mut().await;
                    } else {
                        let _ = tokio::time::timeout(EVICT_GRACE, connection.as_mut()).await;
                    }
                }
            }
            open.lock().unwrap_or_else(|p| p.into_inner()).connections.remove(&id);
        });
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
}

/// Why a connection was closed without an answer: a fault rule said so (see `DropConnection`).
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for DroppedByFault {}

/// Errors about one incoming connection (it went away before we took it), not the listener.
fn is_per_connection(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
