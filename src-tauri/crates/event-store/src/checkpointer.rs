//! Copies the WAL back into the database file from its own thread and connection, so the writer
//! never pays for a checkpoint inside a capture request. Its PASSIVE checkpoints never block the
//! writer or readers; the RESTART ones (below) hold the write lock for a moment, once every few
//! seconds of a burst.
//!
//! The WAL only starts again from its beginning when a write transaction begins while every
//! frame in it has been copied back (SQLite's `walRestartLog`); otherwise each commit appends.
//! Capture leaves gaps between commits in which a checkpoint catches up, so the WAL stays small.
//! A bulk writer that commits back to back (an import: a chunk every few milliseconds) leaves
//! none: every checkpoint ends behind the newest frames, the WAL never restarts, and it grew to
//! 6 GB in 30 s of importing a 1M-entry HAR, every commit writing to fresh blocks of the file
//! (on ext4: block reservations and new pages in the page cache, which capture's commits then
//! wait behind). So bulk writers call [`Checkpointer::let_wal_restart`] between their commits: past
//! [`RESTART_FRAMES`] it waits (capture goes on) until a checkpoint has caught up with the whole
//! WAL, and the bulk writer's next commit starts the WAL from its beginning again.
//!
//! A capture burst is such a writer too: 8 SDK connections posting as fast as they can leave
//! the writer no gap, and a 1M-event burst grew the WAL to 4.6 GB (gigabytes of new page cache
//! and writeback, which the machine then spends time on during whatever comes next). The writer
//! thread itself cannot copy the WAL back (capture waits behind it: a writer that copied 32 MB
//! back at each threshold itself fell from 67k to 44k events/s), so it uses a [`Gate`] with
//! [`CAPTURE_RESTART_FRAMES`]: from half that length it hurries the checkpointer after each
//! commit, so checkpoints run back to back just behind it; at the full length it asks for a
//! restart ([`Gate::restart`]) and goes on committing.
//!
//! Readers come in the way of that, and the identity model reads all the time during a burst
//! (a step of new events every few milliseconds). A PASSIVE checkpoint leaves the frames newer
//! than a reader's snapshot in the WAL, and even a WAL copied back whole only starts again when
//! no reader is still reading from it. Beside the identity model a 1M-event burst grew the WAL
//! to 3 GB that way. So a restart ([`Message::Restart`]) is a PASSIVE checkpoint, which copies
//! back most of the WAL without blocking anyone, then a RESTART checkpoint: it takes the write
//! lock (the writer gives way between two commits, [`Gate::give_way`]), waits briefly
//! ([`brief_busy_wait`], about 20 ms in all) for readers of older snapshots, copies back the
//! frames committed meanwhile, waits for readers still in the WAL to finish, and starts the WAL
//! again. Capture waits behind it for as long as that takes (on this project's 2-core VM about
//! 60 ms, mostly its two fsyncs), hence a bound of 256 MB: a restart every few seconds of a
//! burst, not several a second. A reader longer than that (an export) still defeats it: the
//! writer then asks again when the WAL has grown by another half.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::writer::WalFrames;

const INTERVAL: Duration = Duration::from_millis(250);

/// Frames (4 KB pages) in the WAL beyond which a bulk writer lets the checkpoint catch up
/// before committing more: 128 MB.
pub(crate) const RESTART_FRAMES: i64 = 32_768;

/// Longest a bulk writer waits for a checkpoint to catch up (a reader holding an old snapshot
/// for a long time, e.g. an export, keeps it from copying the newest frames back).
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Frames in the WAL beyond which the writer thread asks for a restart between capture commits:
/// 256 MB. It hurries the checkpointer from half of it. At 64 MB a 1M-event burst restarted
/// four times as often and, each restart holding capture up for about 60 ms, p99 latency rose
/// from 30 to 100 ms (`ingest-bench`, docs/PERFORMANCE.md).
pub(crate) const CAPTURE_RESTART_FRAMES: i64 = 65_536;

/// Longest the writer thread gives way to a RESTART checkpoint ([`Gate::give_way`]): far more
/// than one takes (its waits for readers, about 20 ms, a few commits' frames copied back, two
/// fsyncs), so only a stalled disk reaches it.
const GIVE_WAY_MAX: Duration = Duration::from_millis(500);

enum Message {
    /// Checkpoint now, not at the next interval.
    Hurry,
    /// Checkpoint now and start the WAL again (see the module's docs).
    Restart,
    Stop,
}

/// How many times a RESTART checkpoint waits [`BUSY_PAUSE`] for a reader (or for the write
/// lock) before settling for what it could copy back: about 20 ms in all, longer than a step of
/// the identity model's reading or a follower's page takes. It holds the write lock meanwhile
/// (the writer gives way to it, [`Gate::give_way`]), so capture must not wait longer behind it.
const BUSY_TRIES: i32 = 80;
const BUSY_PAUSE: Duration = Duration::from_micros(250);

/// The checkpointer connection's busy handler (`sqlite3_busy_handler`; only FULL and RESTART
/// checkpoints call it): a short pause, [`BUSY_TRIES`] times per checkpoint at most.
fn brief_busy_wait(tries: i32) -> bool {
    if tries >= BUSY_TRIES {
        return false;
    }
    std::thread::sleep(BUSY_PAUSE);
    true
}

/// What the last checkpoint saw of the WAL.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    /// Checkpoints started so far; `run` is the number of the one whose result this is.
    started: u64,
    run: u64,
    /// Frames in the WAL when that checkpoint ran.
    frames: i64,
    /// Of which copied back into the database file.
    backfilled: i64,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Seen>,
    ran: Condvar,
    /// A RESTART checkpoint is taking or holds the write lock (see [`Gate::give_way`]).
    restarting: std::sync::atomic::AtomicBool,
}

pub(crate) struct Checkpointer {
    gate: Gate,
    /// [`RESTART_FRAMES`], or what a test set in [`crate::WAL_RESTART_FRAMES_VAR`].
    restart_frames: i64,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What a writer needs of the checkpointer to let the WAL restart: a way to hurry it and to see
/// what its checkpoints copied back. Cloned into the writer thread.
#[derive(Clone)]
pub(crate) struct Gate {
    messages: mpsc::Sender<Message>,
    shared: Arc<Shared>,
    wal_frames: WalFrames,
    /// [`CAPTURE_RESTART_FRAMES`], or what a test set in [`crate::WAL_RESTART_FRAMES_VAR`].
    capture_frames: i64,
}

/// One checkpoint in `mode`: (frames in the WAL, frames copied back), or -1s when the database
/// is not in WAL mode or the checkpoint failed.
fn checkpoint(conn: &rusqlite::Connection, mode: &str) -> (i64, i64) {
    let result = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get(1)?, r.get(2)?)));
    result.unwrap_or_else(|e| {
        tracing::warn!("WAL checkpoint ({mode}) failed: {e}");
        (-1, -1)
    })
}

impl Checkpointer {
    /// `wal_frames`: the WAL's length after the writer's last commit (`writer::WalFrames`).
    pub(crate) fn spawn(path: PathBuf, wal_frames: WalFrames) -> std::io::Result<Checkpointer> {
        let (messages, received) = mpsc::channel::<Message>();
        let shared = Arc::new(Shared::default());
        let seen = shared.clone();
        let thread = std::thread::Builder::new().name("store-checkpoint".into()).spawn(move || {
            let conn = match rusqlite::Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::error!("checkpointer cannot open the database: {e}"),
            };
            let _ = conn.busy_handler(Some(brief_busy_wait));
            // Until told to stop (or the store is gone): every interval, or at once when hurried.
            loop {
                let mut restart = match received.recv_timeout(INTERVAL) {
                    Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Ok(Message::Restart) => true,
                    Ok(Message::Hurry) | Err(mpsc::RecvTimeoutError::Timeout) => false,
                };
                // Messages queued meanwhile (the writer hurries once per commit in a burst) are
                // all answered by the checkpoint about to start.
                let mut stop = false;
                for message in received.try_iter() {
                    stop |= matches!(message, Message::Stop);
                    restart |= matches!(message, Message::Restart);
                }
                if stop {
                    break;
                }
                let run = match seen.seen.lock() {
                    Ok(mut s) => {
                        s.started += 1;
                        s.started
                    }
                    Err(_) => break,
                };
                let (mut frames, mut backfilled) = checkpoint(&conn, "PASSIVE");
                // Only the frames committed during that one are left for the RESTART to copy
                // while it holds the write lock.
                if restart {
                    seen.restarting.store(true, Ordering::SeqCst);
                    (frames, backfilled) = checkpoint(&conn, "RESTART");
                    seen.restarting.store(false, Ordering::SeqCst);
                }
                if let Ok(mut s) = seen.seen.lock() {
                    (s.run, s.frames, s.backfilled) = (run, frames, backfilled);
                }
                seen.ran.notify_all();
            }
        })?;
        // Read once, here (a test sets it only around `Store::open`): it bounds both writers.
        let test_bound: Option<i64> = std::env::var(crate::WAL_RESTART_FRAMES_VAR).ok().and_then(|v| v.parse().ok());
        let capture_frames = test_bound.unwrap_or(CAPTURE_RESTART_FRAMES);
        let gate = Gate { messages, shared, wal_frames, capture_frames };
        Ok(Checkpointer { gate, restart_frames: test_bound.unwrap_or(RESTART_FRAMES), thread: Some(thread) })
    }

    /// The gate for the writer thread's capture commits (see the module's docs).
    pub(crate) fn gate(&self) -> Gate {
        self.gate.clone()
    }

    /// Called by a bulk writer between its commits, never on the writer thread nor inside a
    /// read transaction: returns at once while the WAL is under [`RESTART_FRAMES`]; past it,
    /// waits (at most [`MAX_WAIT`]) until a checkpoint that started after the call has copied
    /// the whole WAL back (so the next commit starts it again from its beginning), or until the
    /// WAL restarted.
    pub(crate) fn let_wal_restart(&self) {
        self.gate.catch_up(self.restart_frames, MAX_WAIT);
    }
}

impl Gate {
    /// The WAL's length at which the writer thread asks for a restart between capture commits.
    pub(crate) fn capture_frames(&self) -> i64 {
        self.capture_frames
    }

    /// Frames in the WAL after the last commit.
    pub(crate) fn frames(&self) -> i64 {
        self.wal_frames.load(Ordering::Relaxed)
    }

    /// Asks for a checkpoint as soon as the running one (if any) ends, without waiting for it.
    pub(crate) fn hurry(&self) {
        let _ = self.messages.send(Message::Hurry);
    }

    /// Asks for a checkpoint that starts the WAL again, without waiting for it.
    pub(crate) fn restart(&self) {
        let _ = self.messages.send(Message::Restart);
    }

    /// Called by the writer thread between two transactions: while a RESTART checkpoint is
    /// taking the write lock or holds it, waits for it to end (at most [`GIVE_WAY_MAX`]).
    /// Under a burst the writer begins its next transaction the moment it commits, and a
    /// checkpoint polling for the lock ([`brief_busy_wait`]) would rarely find it free; the
    /// writer would only wait behind it in its next transaction anyway.
    pub(crate) fn give_way(&self) {
        if !self.shared.restarting.load(Ordering::SeqCst) {
            return;
        }
        let deadline = Instant::now() + GIVE_WAY_MAX;
        let Ok(mut seen) = self.shared.seen.lock() else { return };
        // The flag is cleared before the checkpointer takes this lock to tell what it did, so
        // checking it under the lock cannot miss that wake-up.
        while self.shared.restarting.load(Ordering::SeqCst) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return };
            seen = match self.shared.ran.wait_timeout(seen, left) {
                Ok((next, _)) => next,
                Err(_) => return,
            };
        }
    }

    /// While the WAL holds `frames` or more, waits (until `max_wait` has passed) for a
    /// checkpoint that started after the call to copy the whole WAL back, or for the WAL to
    /// restart. Never inside a read transaction.
    pub(crate) fn catch_up(&self, frames: i64, max_wait: Duration) {
        let deadline = Instant::now() + max_wait;
        while self.frames() >= frames {
            let Ok(mut seen) = self.shared.seen.lock() else { return };
            // Only a checkpoint that starts from here on sees everything this writer committed.
            let after = seen.started;
            if self.messages.send(Message::Restart).is_err() {
                return;
            }
            while seen.run <= after {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    tracing::debug!(frames = seen.frames, "the WAL checkpoint did not catch up in time");
                    return;
                };
                seen = match self.shared.ran.wait_timeout(seen, left) {
                    Ok((next, _)) => next,
                    Err(_) => return,
                };
            }
            if seen.frames < 0 || seen.backfilled >= seen.frames {
                return;
            }
            // A reader's snapshot kept the newest frames from being copied back: try again.
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.gate.messages.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
