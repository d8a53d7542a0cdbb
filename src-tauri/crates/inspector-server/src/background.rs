//! Work done for a reader (the UI, the CLI, an agent) rather than for an SDK: identity reads,
//! store queries, the vendor lens, exports, imports and the identity model's own thread. None of
//! it may run on Tokio's async workers, which answer SDKs.
//!
//! Two kinds, by who waits and how long it can take:
//! - [`run_interactive`]: what a person is looking at right now and what is bounded by a page
//!   (a list page, one person, one "why", one event). It runs on Tokio's blocking pool at normal
//!   priority, so a view paints as fast as the data allows: at nice 10 a devices page of 30 ms
//!   took up to 0.4 s while other work kept both cores busy (a browser building the page that
//!   asked for it is such work).
//! - [`run`]: bulk work whose size the data decides (the lens over a 100 000-id person, an
//!   export, an import, the model's catch-up). It runs on threads of its own at nice 10: on a busy
//!   machine (two cores is common for a laptop running a dev server, a browser and this) the
//!   threads that acknowledge SDKs, Tokio's workers and the store's writer, then get the cores
//!   first. The scheduler gives a nice-0 thread about nine times the share of a nice-10 one, so a
//!   big lens or a million-event import slows down instead of capture; it still gets every idle
//!   cycle.
//!
//! A third kind: a follower's read ([`Urgency::Follow`], `/api/events?after=`:
//! `identity-inspector tail`, a live table catching up). It is one page, but a follower of a
//! capture burst asks for page after page as fast as the burst commits, and each costs about as
//! much as capturing its events: at normal priority two tails took a third of capture's
//! throughput. So it runs at nice 10, falls behind during a burst and catches up after it. It
//! holds no lock anything else waits for (the page is a SQLite read; the persons and pills of its
//! events are looked up interactively), so slowing it delays only the follower. (Idle priority,
//! `SCHED_IDLE`, was tried: it can starve a follower for as long as anything keeps the cores
//! busy, and once left a tail 600 000 events behind a minute after a burst.)
//! Priority bounds only the server's half of a follower's cost; `crate::followers` paces its
//! reads while capture is live, which bounds the follower's own half too.
//!
//! Invariants:
//! - Nothing an SDK waits for runs here (a capture's reply waits only for the store's writer).
//! - A thread's priority is lowered once and never raised: an unprivileged process may not
//!   raise it again (`RLIMIT_NICE`), which is why bulk work has threads of its own rather than
//!   Tokio's shared blocking pool, whose threads run interactive work too.
//! - At most `MAX_THREADS` of either kind run at once; more callers wait their turn
//!   asynchronously, so a flood of API reads holds no async worker and no unbounded number of
//!   threads.

use tokio::sync::{oneshot, Semaphore};

use crate::error::ApiError;

/// Background threads running at once. Each is short-lived (one call); the limit bounds memory
/// (stacks, SQLite readers) under a flood of reads.
const MAX_THREADS: usize = 32;

static SLOTS: Semaphore = Semaphore::const_new(MAX_THREADS);

/// Runs interactive `work` (see the module docs) on Tokio's blocking pool at normal priority and
/// waits for it without holding an async worker. `what` names the work in the error if it panics.
pub(crate) async fn run_interactive<R: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    let _slot = SLOTS.acquire().await.map_err(|_| ApiError::Internal(format!("{what}: shutting down")))?;
    tokio::task::spawn_blocking(work).await.map_err(|_| ApiError::Internal(format!("{what} failed unexpectedly")))
}

/// Who waits for a read, which decides its priority (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Urgency {
    /// A person looking at a view: normal priority ([`run_interactive`]).
    Interactive,
    /// A follower that may lag behind a burst: nice 10 ([`run`]).
    Follow,
}

/// Runs one bounded read as `urgency` says.
pub(crate) async fn run_as<R: Send + 'static>(
    urgency: Urgency,
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    match urgency {
        Urgency::Interactive => run_interactive(what, work).await,
        Urgency::Follow => run(what, work).await,
    }
}

/// Runs bulk `work` (see the module docs) on a thread of its own at nice 10 and waits for it
/// without holding an async worker. `what` names the work in the error if the thread cannot
/// start or `work` panics.
pub(crate) async fn run<R: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    let _slot = SLOTS.acquire().await.map_err(|_| ApiError::Internal(format!("{what}: shutting down")))?;
    let (done, result) = oneshot::channel();
    std::thread::Builder::new()
        .name("background".into())
        .spawn(move || {
            lower_priority();
            let _ = done.send(work());
        })
        .map_err(|e| ApiError::Internal(format!("{what}: cannot start a thread: {e}")))?;
    result.await.map_err(|_| ApiError::Internal(format!("{what} failed unexpectedly")))
}

/// Lowers the calling thread's CPU priority to nice 10 (Linux; elsewhere a no-op). Threads it
/// starts afterwards inherit it: `identity-inspector tail` calls it first, so a terminal
/// following a burst takes the cores only when capture leaves them.
#[cfg(target_os = "linux")]
pub fn lower_priority() {
    // SAFETY: plain syscalls with no pointers; with PRIO_PROCESS and a thread id, setpriority
    // changes the nice value of that one thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
    if result != 0 {
        tracing::debug!("could not lower a background thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_on_a_lower_priority_thread() {
        let (nice, name) = run("test", || {
            // SAFETY: reads this thread's nice value; no pointers.
            #[cfg(target_os = "linux")]
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
            #[cfg(not(target_os = "linux"))]
            let nice = 10;
            (nice, std::thread::current().name().map(str::to_owned))
        })
        .await
        .unwrap();
        assert_eq!(nice, 10);
        assert_eq!(name.as_deref(), Some("background"));
    }

    /// This thread's nice value (10 where it cannot be read).
    fn nice() -> i32 {
        // SAFETY: reads this thread's nice value; no pointers.
        #[cfg(target_os = "linux")]
        return unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
        #[cfg(not(target_os = "linux"))]
        return 10;
    }

    #[tokio::test]
    async fn interactive_work_keeps_the_callers_priority_off_the_async_workers() {
        let (here, caller) = (nice(), std::thread::current().id());
        let (there, worker) = run_interactive("test", || (nice(), std::thread::current().id())).await.unwrap();
        assert_eq!(there, here, "normal priority");
        assert_ne!(worker, caller, "not on the async thread that asked");
    }

    #[tokio::test]
    async fn a_panic_is_an_internal_error_not_a_crash() {
        let err = run("the lens", || -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(err, ApiError::Internal(ref m) if m.contains("the lens")), "{err:?}");
        let err = run_interactive("a page", || -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(err, ApiError::Internal(ref m) if m.contains("a page")), "{err:?}");
    }
}
