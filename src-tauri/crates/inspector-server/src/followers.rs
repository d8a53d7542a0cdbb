//! Followers yield to capture: [`Followers`] paces the reads of `/api/events?after=` (what
//! `identity-inspector tail` and the UI's live table ask for) while live capture is arriving.
//!
//! A follower of a capture burst asks for page after page as fast as the burst commits, and
//! every event it is given costs about as much again as capturing it: the server reads the row,
//! looks up its person and serialises it; the follower parses and prints it; whatever reads the
//! follower's output reads it too. On the two cores of a laptop that is capture's throughput
//! taken away (two tails at normal priority cost a third of it; at nice 10, with the server
//! reading their pages at nice 10, a fifth). Priority alone cannot fix that: a lower priority
//! still gets its share, and the idle class starves a follower for as long as anything else
//! keeps the cores busy.
//!
//! So while capture is live ([`event_store::Store::capture_is_live`]: a capture write queued in
//! the last second) followers take turns, one page read at a time, and after each read they all
//! leave the server alone for [`IDLE_PER_READ`] times as long as the read took. Capture gets the
//! cores; a follower falls behind a burst and catches up at full speed once capture has been
//! quiet for a second. A developer clicking through an app (a few events a second, pages of a
//! few events, reads of a millisecond) waits at most a few tens of milliseconds for a turn, and
//! never when nothing else follows.
//!
//! Invariants:
//! - Only the work a read does counts towards its cost: reading the page, looking up its
//!   persons and writing it as JSON (the handler serialises it before the turn ends). Waiting
//!   (for the identity model to apply the page's events, [`Turn::exclude`]) does not, or a
//!   follower would be paced by how far behind the model is rather than by what it costs.
//! - Without live capture a turn never waits (followers still take turns, one page each).
//! - A long poll (`wait=`) is no follower: it reads once when woken and is not paced, so a test
//!   waiting for its events never queues behind a tail.

use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};
use tokio::time::Instant;

/// While capture is live, followers leave the server idle this many times as long as their last
/// read took: their reads get at most 1 / (1 + this) of the time, and their own processing of
/// what they read (parsing, printing) goes with it. Measured with `ingest-bench --tail 2`
/// (docs/PERFORMANCE.md, "Readers while capturing"): two tails beside a 1M-event burst printed
/// 2–4% of it while it lasted and cost capture about 5% (0.95 of capture alone, 16 rounds); at
/// 50 they printed half as much and cost no less (0.94, 9 rounds): what is left is not their
/// reads.
pub(crate) const IDLE_PER_READ: f64 = 20.0;

/// The followers' turn: when the next follower read may start while capture is live.
#[derive(Debug)]
pub(crate) struct Followers {
    next: Mutex<Instant>,
}

impl Default for Followers {
    fn default() -> Followers {
        Followers { next: Mutex::new(Instant::now()) }
    }
}

impl Followers {
    /// Waits for the followers' turn: the previous follower read is done, and, when
    /// `capture_live` says capture is arriving, the idle time owed for it has passed. The read
    /// runs while the returned [`Turn`] lives; dropping it settles what the read cost.
    pub(crate) async fn turn(&self, capture_live: bool) -> Turn<'_> {
        let next = self.next.lock().await;
        if capture_live {
            tokio::time::sleep_until(*next).await;
        }
        Turn { next, started: Instant::now(), excluded: Duration::ZERO }
    }
}

/// One follower read in progress (see [`Followers::turn`]).
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    next: MutexGuard<'a, Instant>,
    started: Instant,
    excluded: Duration,
}

impl Turn<'_> {
    /// Time the read spent waiting rather than working, left out of its cost.
    pub(crate) fn exclude(&mut self, waited: Duration) {
        self.excluded += waited;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let cost = self.started.elapsed().saturating_sub(self.excluded);
        *self.next = Instant::now() + cost.mul_f64(IDLE_PER_READ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn while_capture_is_live_the_next_read_waits_for_its_share_of_the_last_reads_cost() {
        let followers = Followers::default();
        let mut turn = followers.turn(true).await;
        tokio::time::advance(Duration::from_millis(510)).await;
        turn.exclude(Duration::from_millis(500)); // waiting for the model: no cost
        drop(turn);
        let asked = Instant::now();
        drop(followers.turn(true).await);
        assert_eq!(asked.elapsed(), Duration::from_millis(10).mul_f64(IDLE_PER_READ));
    }

    #[tokio::test(start_paused = true)]
    async fn without_live_capture_a_read_never_waits() {
        let followers = Followers::default();
        let turn = followers.turn(true).await;
        tokio::time::advance(Duration::from_millis(50)).await;
        drop(turn);
        let asked = Instant::now();
        drop(followers.turn(false).await);
        assert_eq!(asked.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn followers_take_turns_one_read_at_a_time() {
        let followers = std::sync::Arc::new(Followers::default());
        let first = followers.turn(false).await;
        let asked = Instant::now();
        let waiting = {
            let followers = followers.clone();
            tokio::spawn(async move {
                drop(followers.turn(false).await);
                asked.elapsed()
            })
        };
        tokio::time::advance(Duration::from_millis(30)).await;
        drop(first);
        assert_eq!(waiting.await.unwrap(), Duration::from_millis(30), "the second read started when the first ended");
    }
}
