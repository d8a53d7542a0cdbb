//! Work done for a reader (the UI, the CLI, an agent) rather than for an SDK: identity reads,
//! the vendor lens, store queries, exports, imports and the identity model's own thread.
//!
//! It runs on threads of its own at a lower CPU priority (nice 10). On a busy machine (two
//! cores is common for a laptop running a dev server, a browser and this), the threads that
//! acknowledge SDKs, Tokio's workers and the store's writer, then get the cores first: the
//! scheduler gives a nice-0 thread about nine times the share of a nice-10 one, so a lens over a
//! big person or a million-event import slows down instead of capture. Readers still get every
//! idle cycle; only contention decides.
//!
//! Invariants:
//! - Nothing an SDK waits for runs here (a capture's reply waits only for the store's writer).
//! - A thread's priority is lowered once and never raised: an unprivileged process may not
//!   raise it again (`RLIMIT_NICE`), which is why these are threads of their own rather than
//!   Tokio's shared blocking pool, whose threads also run work that must stay fast.
//! - At most `MAX_THREADS` run at once; more callers wait their turn asynchronously, so a flood
//!   of API reads holds no async worker and no unbounded number of threads.

use tokio::sync::{oneshot, Semaphore};

use crate::error::ApiError;

/// Background threads running at once. Each is short-lived (one call); the limit bounds memory
/// (stacks, SQLite readers) under a flood of reads.
const MAX_THREADS: usize = 32;

static SLOTS: Semaphore = Semaphore::const_new(MAX_THREADS);

/// Runs `work` on a background thread and waits for it without holding an async worker.
/// `what` names the work in the error if the thread cannot start or `work` panics.
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

/// Lowers the calling thread's CPU priority to nice 10 (Linux; elsewhere a no-op).
#[cfg(target_os = "linux")]
pub(crate) fn lower_priority() {
    // SAFETY: plain syscalls with no pointers; with PRIO_PROCESS and a thread id, setpriority
    // changes the nice value of that one thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10) };
    if result != 0 {
        tracing::debug!("could not lower a background thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_priority() {}

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

    #[tokio::test]
    async fn a_panic_is_an_internal_error_not_a_crash() {
        let err = run("the lens", || -> u32 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(err, ApiError::Internal(ref m) if m.contains("the lens")), "{err:?}");
    }
}
