//! How far the identity model has applied the store, and waiting until it got somewhere.
//!
//! Main type: [`AppliedSeq`]. The feeding thread moves it after every chunk of events it applies
//! (under the model's write lock, so a reader sees a model that applied exactly this seq); API
//! reads wait for the seq of the newest event they show.
//!
//! Invariant: a waiter is woken once, when the seq reaches its target, not every time the seq
//! moves. Under a capture burst the seq moves hundreds of times a second; with a watch channel,
//! every move woke every waiting read on the server's runtime (a profile of a burst beside six
//! MCP agents found the model's thread waking them in about 1% of its samples, and each woken
//! read ran again only to wait again). The feeding thread takes the waiters' lock only when the
//! seq reaches the lowest target.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::sync::oneshot;

/// Waiters kept before those that gave up (timed out) are swept out at the next wait.
const SWEEP_ABOVE: usize = 64;

/// The seq through which the identity model has applied the store (see the module docs).
#[derive(Debug)]
pub struct AppliedSeq {
    seq: AtomicI64,
    /// Times the seq went back: the model started a replay (a rebuild from empty, or an import
    /// taken in among what it had applied). Announcements carry it, so a follower can tell an
    /// old model's progress from the new one's.
    replays: AtomicU64,
    /// The lowest target in `waiters` (`i64::MAX`: none).
    lowest: AtomicI64,
    waiters: Mutex<Vec<(i64, oneshot::Sender<()>)>>,
}

impl Default for AppliedSeq {
    fn default() -> Self {
        AppliedSeq {
            seq: AtomicI64::new(0),
            replays: AtomicU64::new(0),
            lowest: AtomicI64::new(i64::MAX),
            waiters: Mutex::new(Vec::new()),
        }
    }
}

impl AppliedSeq {
    pub fn get(&self) -> i64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Replays started so far (see the field).
    pub fn replays(&self) -> u64 {
        self.replays.load(Ordering::SeqCst)
    }

    /// Moves the seq (back too, when the model starts a replay, which is counted) and wakes the
    /// waiters it reached. Only the feeding thread calls it.
    pub fn set(&self, seq: i64) {
        // Both sides are SeqCst: a waiter that registers after this swap reads the new seq; one
        // that registered before it is seen in `lowest` here.
        if self.seq.swap(seq, Ordering::SeqCst) > seq {
            self.replays.fetch_add(1, Ordering::SeqCst);
        }
        if self.lowest.load(Ordering::SeqCst) <= seq {
            let mut waiters = self.waiters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            waiters.retain_mut(|(target, _)| *target > seq);
            // Dropped senders woke their waiters (which then read the seq).
            let lowest = waiters.iter().map(|(target, _)| *target).min().unwrap_or(i64::MAX);
            self.lowest.store(lowest, Ordering::SeqCst);
        }
    }

    /// Waits until the seq is at least `target` (unbounded: callers put a timeout around it).
    pub async fn reached(&self, target: i64) {
        loop {
            if self.get() >= target {
                return;
            }
            let (tx, rx) = oneshot::channel();
            {
                let mut waiters = self.waiters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if waiters.len() >= SWEEP_ABOVE {
                    waiters.retain(|(_, tx)| !tx.is_closed());
                }
                waiters.push((target, tx));
                self.lowest.fetch_min(target, Ordering::SeqCst);
            }
            // A `set` between the first read and the registration may not have seen this waiter.
            if self.get() >= target {
                return;
            }
            // Woken when `set` drops the sender; the loop reads the seq again, since a restart
            // of the model may have moved it back meanwhile.
            let _ = rx.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_waiter_wakes_when_the_seq_reaches_its_target_and_not_before() {
        let applied = Arc::new(AppliedSeq::default());
        let waiting = tokio::spawn({
            let applied = applied.clone();
            async move { applied.reached(10).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        applied.set(9);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "seq 9 is short of 10");
        applied.set(12);
        tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken at 12").unwrap();
        assert_eq!(applied.waiters.lock().unwrap().len(), 0);
        assert_eq!(applied.lowest.load(Ordering::SeqCst), i64::MAX, "nobody waits");
    }

    #[test]
    fn going_back_counts_a_replay() {
        let applied = AppliedSeq::default();
        applied.set(0);
        applied.set(5);
        applied.set(5);
        assert_eq!(applied.replays(), 0, "moving forward, or staying, is no replay");
        applied.set(0);
        applied.set(3);
        assert_eq!((applied.get(), applied.replays()), (3, 1));
    }

    #[tokio::test]
    async fn waiters_that_gave_up_are_swept_out() {
        let applied = AppliedSeq::default();
        for target in 1..=(SWEEP_ABOVE as i64 * 2) {
            let _ = tokio::time::timeout(Duration::from_millis(1), applied.reached(1_000 + target)).await;
        }
        assert!(applied.waiters.lock().unwrap().len() <= SWEEP_ABOVE, "abandoned waits do not pile up");
        applied.reached(0).await;
    }

    /// The feeding thread moves the seq while readers register: none may sleep through the move
    /// that reached its target.
    #[test]
    fn no_waiter_misses_the_move_that_reaches_it() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        for _ in 0..200 {
            let applied = Arc::new(AppliedSeq::default());
            let waiters: Vec<_> = (1..=8i64)
                .map(|target| {
                    let applied = applied.clone();
                    runtime.spawn(async move { applied.reached(target * 100).await })
                })
                .collect();
            for seq in (0..=800).step_by(7) {
                applied.set(seq);
            }
            applied.set(800);
            runtime.block_on(async {
                for waiter in waiters {
                    tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("every waiter woke").unwrap();
                }
            });
        }
    }
}
