//! Applies the retention policy (see `event_store::Retention`): once when it is set or changed,
//! then every few minutes, so a window left open all day keeps a bounded database. Pruning
//! announces `Change::Pruned`, after which the identity model rebuilds from what remains.
//!
//! Invariants: ages are judged by a [`RetentionClock`] that follows the wall clock back but never
//! forward faster than real time passes, so a clock that jumps ahead (a wrong NTP answer, a VM
//! resumed with a bad clock) does not make everything look old: without it one prune deleted all
//! stored traffic, and with the events table empty the arrival numbers (`seq`) started again at
//! 1, which only "clear all data" may do. And an age limit never removes the newest live
//! event (ages are judged no later than that event's arrival plus the limit), so retention
//! alone never empties the events table and arrival numbers always continue.

use std::time::{Duration, Instant};

use event_store::{to_micros, Micros, Retention, Store, StoreError, IMPORT_PREFIX};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often the policy is re-applied while nothing changes.
const INTERVAL: Duration = Duration::from_secs(5 * 60);

/// How far the wall clock may run ahead of the monotonic one before retention stops following
/// it: ordinary clock corrections (NTP slews, leap seconds) are far smaller.
const TOLERANCE: Duration = Duration::from_secs(60);

const MICROS_PER_DAY: i64 = 86_400_000_000;

pub(crate) fn spawn(store: Store, mut policy: watch::Receiver<Retention>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut clock = RetentionClock::new(wall_now(), Instant::now());
        loop {
            let current = *policy.borrow_and_update();
            if !current.keeps_everything() {
                let store = store.clone();
                let now = clock.now(wall_now(), Instant::now());
                let prune = move || store.prune(current, keeping_the_newest(&store, current, now)?);
                match tokio::task::spawn_blocking(prune).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("retention pruning failed: {e}"),
                    Err(e) => tracing::error!("retention pruning task failed: {e}"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = policy.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(INTERVAL) => {},
            }
        }
    });
}

/// `now`, or earlier if an age limit judged at `now` would remove the newest live event.
fn keeping_the_newest(store: &Store, policy: Retention, now: Micros) -> Result<Micros, StoreError> {
    let Some(days) = policy.max_age_days else { return Ok(now) };
    let newest =
        store.projects()?.into_iter().filter(|p| !p.project.starts_with(IMPORT_PREFIX)).map(|p| p.last_seen).max();
    Ok(match newest {
        Some(newest) => now.min(newest.saturating_add(i64::from(days) * MICROS_PER_DAY)),
        None => now,
    })
}

fn wall_now() -> Micros {
    to_micros(chrono::Utc::now())
}

/// The time retention judges ages at: the wall clock, except that it never runs ahead of the
/// wall time at start plus the monotonic time elapsed since (plus [`TOLERANCE`]). A clock set
/// back is followed at once (pruning less is always safe) and becomes the new reference.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetentionClock {
    wall: Micros,
    at: Instant,
}

impl RetentionClock {
    pub(crate) fn new(wall: Micros, at: Instant) -> RetentionClock {
        RetentionClock { wall, at }
    }

    /// `wall`: the wall clock read at `at`.
    pub(crate) fn now(&mut self, wall: Micros, at: Instant) -> Micros {
        let elapsed = i64::try_from(at.saturating_duration_since(self.at).as_micros()).unwrap_or(i64::MAX);
        let expected = self.wall.saturating_add(elapsed);
        let limit = expected.saturating_add(TOLERANCE.as_micros() as i64);
        if wall > limit {
            tracing::warn!(
                ahead_seconds = (wall - expected) / 1_000_000,
                "the wall clock jumped ahead; retention keeps judging ages by the time that really passed"
            );
            expected
        } else {
            if wall < expected {
                *self = RetentionClock { wall, at };
            }
            wall
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_store::test_support::accepted_request;
    use event_store::NewEvent;

    const DAY: i64 = MICROS_PER_DAY;
    const YEAR: i64 = 365 * DAY;

    #[test]
    fn the_clock_follows_real_time_and_ignores_a_jump_ahead() {
        let start = Instant::now();
        let t0 = 1_800_000_000_000_000;
        let mut clock = RetentionClock::new(t0, start);
        let hour = Duration::from_secs(3600);
        assert_eq!(clock.now(t0 + 3_600_000_000, start + hour), t0 + 3_600_000_000, "normal time passes");
        assert_eq!(clock.now(t0 + 10 * YEAR, start + hour), t0 + 3_600_000_000, "ten years ahead in an instant");
        // Set back: followed at once, and the new reference.
        assert_eq!(clock.now(t0 - DAY, start + hour), t0 - DAY);
        assert_eq!(clock.now(t0 - DAY + 1_000_000, start + hour + Duration::from_secs(1)), t0 - DAY + 1_000_000);
        // Small corrections within the tolerance are followed.
        assert_eq!(clock.now(t0 - DAY + 30_000_000, start + hour + Duration::from_secs(1)), t0 - DAY + 30_000_000);
    }

    fn event(uuid: &str, received_at: Micros) -> NewEvent {
        NewEvent {
            uuid: uuid.into(),
            project: "phc_clock".into(),
            source: "posthog".into(),
            event: "tick".into(),
            distinct_id: "someone".into(),
            device_id: None,
            session_id: None,
            timestamp: received_at,
            original_timestamp: None,
            sent_at: None,
            received_at,
            properties: "{}".into(),
            warnings: Vec::new(),
        }
    }

    /// The retention task with a wall clock ten years ahead of the data: recent data stays, and
    /// the next event continues the arrival numbers.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_clock_far_in_the_future_keeps_recent_data_and_seq_continues() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let start = Instant::now();
        let now = wall_now();
        let mut clock = RetentionClock::new(now, start);
        let write = |uuid: &'static str, at: Micros| {
            let store = store.clone();
            async move {
                let mut request = accepted_request("posthog");
                request.received_at = at;
                store.write(request, vec![event(uuid, at)]).await.unwrap()
            }
        };
        write("old", now - 10 * DAY).await;
        write("recent", now - DAY).await;
        let last = write("newest", now).await;

        let policy = Retention { max_events: None, max_age_days: Some(7) };
        let judged = clock.now(now + 10 * YEAR, start + Duration::from_secs(1));
        let store2 = store.clone();
        let removed = tokio::task::spawn_blocking(move || store2.prune(policy, judged)).await.unwrap().unwrap();
        assert_eq!(removed.events, 1, "only the event older than 7 days goes");
        let next = write("after", now + 10 * YEAR).await;
        let (_, after_seq) = next.seqs.unwrap();

        // Even a clock the retention task believes (say, the machine was off for ten years) keeps
        // the newest live event, so the numbering goes on.
        let store2 = store.clone();
        let later = now + 20 * YEAR;
        let removed = tokio::task::spawn_blocking(move || {
            let judged = keeping_the_newest(&store2, policy, later)?;
            store2.prune(policy, judged)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(removed.events, 2, "everything but the newest goes");
        assert_eq!(write("later", later).await.seqs.unwrap().0, after_seq + 1);
        let (_, newest_seq) = last.seqs.unwrap();
        assert_eq!(next.seqs.unwrap().0, newest_seq + 1, "arrival numbers continue");
    }
}
