//! The single writer: a thread that owns the write connection and commits queued jobs in groups.
//!
//! Under load, while one transaction commits, the next requests queue up; the writer then takes
//! all of them (up to a bound) into the next transaction. One fsync-free WAL commit per group is
//! what makes many small capture requests cheap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, Transaction};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::checkpointer::Gate;
use crate::{Change, Committed, NewEvent, NewRequest, Outcome, StoreError};

const MAX_JOBS_PER_COMMIT: usize = 1024;
const MAX_EVENTS_PER_COMMIT: usize = 50_000;

pub(crate) struct Job {
    request: NewRequest,
    events: Vec<NewEvent>,
    /// For a faulted request: which events' uuids the SDK sent (see `insert_faulted`).
    sdk_uuids: Vec<bool>,
    reply: oneshot::Sender<Result<Committed, StoreError>>,
}

/// Work that needs the write connection to itself, e.g. one chunk of an import
/// (`datasets.rs`). Runs between group commits; captures queue meanwhile, so such work keeps
/// each run short and queues its next part behind them.
pub(crate) type Exclusive = Box<dyn FnOnce(&mut Connection, &broadcast::Sender<Change>) + Send>;

pub(crate) enum Message {
    Write(Box<Job>),
    Exclusive(Exclusive),
    Close(oneshot::Sender<()>),
}

/// The writer's queue (and what it says of live capture), or, for a store opened read-only, the
/// reason every write is refused.
pub(crate) enum Handle {
    Running(mpsc::Sender<Message>, Arc<CaptureActivity>),
    Refusing(crate::ReadOnly),
}

/// Live capture as bulk writers see it: how many capture writes wait for the writer now, and
/// when the last one was queued. An import's chunk commits early when a capture waits, and the
/// import leaves the writer idle between chunks while capture is live (`datasets.rs`), so an
/// SDK's request never queues behind much of an import.
#[derive(Debug, Default)]
pub(crate) struct CaptureActivity {
    /// Capture writes sent to the writer and not yet taken into a transaction.
    waiting: AtomicUsize,
    /// When the last capture write was queued: nanoseconds after `EPOCH`, 0 for never.
    last_queued: AtomicU64,
}

/// The clock `CaptureActivity::last_queued` counts from.
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn now_nanos() -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    // At least 1: 0 means "never".
    (epoch.elapsed().as_nanos() as u64).max(1)
}

impl CaptureActivity {
    pub(crate) fn queued(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.last_queued.store(now_nanos(), Ordering::Relaxed);
    }

    pub(crate) fn taken(&self) {
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// A capture write waits for the writer right now.
    pub(crate) fn waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// A capture write was queued within `window`.
    pub(crate) fn live_within(&self, window: Duration) -> bool {
        let last = self.last_queued.load(Ordering::Relaxed);
        last != 0 && now_nanos().saturating_sub(last) <= window.as_nanos() as u64
    }
}

/// Frames in the WAL after the writer's last commit, for bulk writers deciding whether to let
/// the checkpoint catch up (`checkpointer`). Set by SQLite's WAL hook on the writer thread.
pub(crate) type WalFrames = std::sync::Arc<std::sync::atomic::AtomicI64>;

thread_local! {
    /// The writer thread's [`WalFrames`]: SQLite's WAL hook is a plain function, and it runs
    /// on the thread that commits, which is always the writer's.
    static WAL_FRAMES: std::cell::RefCell<Option<WalFrames>> = const { std::cell::RefCell::new(None) };
}

fn record_wal_frames(_: &rusqlite::hooks::Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|cell| {
        if let Some(shared) = &*cell.borrow() {
            shared.store(i64::from(frames), std::sync::atomic::Ordering::Relaxed);
        }
    });
    Ok(())
}

pub(crate) fn spawn(
    conn: Connection,
    changes: broadcast::Sender<Change>,
    wal_frames: WalFrames,
    gate: Gate,
) -> Result<Handle, StoreError> {
    let (tx, rx) = mpsc::channel(4096);
    let captures = Arc::new(CaptureActivity::default());
    let taken = captures.clone();
    let wal = WalRestart::new(gate);
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            WAL_FRAMES.with(|cell| *cell.borrow_mut() = Some(wal_frames));
            // After `configure_writer`: `wal_autocheckpoint` replaces the connection's WAL hook.
            conn.wal_hook(Some(record_wal_frames));
            run(conn, rx, changes, &taken, wal)
        })
        .map_err(|e| StoreError::DataDir { path: "<writer thread>".into(), source: e })?;
    Ok(Handle::Running(tx, captures))
}

impl Handle {
    fn queue(&self) -> Result<&mpsc::Sender<Message>, StoreError> {
        match self {
            Handle::Running(tx, _) => Ok(tx),
            Handle::Refusing(why) => Err(StoreError::ReadOnly(why.clone())),
        }
    }

    pub(crate) async fn write(
        &self,
        request: NewRequest,
        events: Vec<NewEvent>,
        sdk_uuids: Vec<bool>,
    ) -> Result<Committed, StoreError> {
        let (reply, done) = oneshot::channel();
        let queue = self.queue()?;
        if let Some(captures) = self.captures() {
            captures.queued();
        }
        if queue.send(Message::Write(Box::new(Job { request, events, sdk_uuids, reply }))).await.is_err() {
            if let Some(captures) = self.captures() {
                captures.taken();
            }
            return Err(StoreError::WriterGone);
        }
        done.await.map_err(|_| StoreError::WriterGone)?
    }

    /// What bulk writers watch of live capture; `None` for a read-only store.
    pub(crate) fn captures(&self) -> Option<&Arc<CaptureActivity>> {
        match self {
            Handle::Running(_, captures) => Some(captures),
            Handle::Refusing(_) => None,
        }
    }

    /// Queues `work` to run on the writer thread after everything queued before it.
    pub(crate) fn exclusive(&self, work: Exclusive) -> Result<(), StoreError> {
        // Blocking: callers are plain threads (the CLI) or `spawn_blocking` (the API).
        self.queue()?.blocking_send(Message::Exclusive(work)).map_err(|_| StoreError::WriterGone)
    }

    pub(crate) async fn close(&self) {
        let (reply, done) = oneshot::channel();
        let Handle::Running(tx, _) = self else { return };
        if tx.send(Message::Close(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// The writer's side of letting the WAL start again during a capture burst (see
/// `checkpointer`'s docs): hurry the checkpointer from half of `Gate::capture_frames`, ask for
/// a restart at `next_try` and give way to it between commits, and when a restart did not
/// happen (a reader's snapshot defeated it), ask again half as many frames later.
struct WalRestart {
    gate: Gate,
    /// `Gate::capture_frames`.
    full: i64,
    next_try: i64,
    /// The WAL's length after the previous commit: a shorter one means it started again.
    last_frames: i64,
}

impl WalRestart {
    fn new(gate: Gate) -> WalRestart {
        let full = gate.capture_frames();
        WalRestart { gate, full, next_try: full, last_frames: 0 }
    }

    /// The WAL's length now; after it started again, the next try is due at the full bound.
    fn frames(&mut self) -> i64 {
        let frames = self.gate.frames();
        if frames < self.last_frames {
            self.next_try = self.full;
        }
        self.last_frames = frames;
        frames
    }

    fn after_commit(&mut self) {
        self.gate.give_way();
        let frames = self.frames();
        if frames >= self.next_try {
            self.gate.restart();
            self.next_try = frames + self.full / 2;
        } else if frames >= self.full / 2 {
            self.gate.hurry();
        }
    }

    /// After exclusive work (an import's or a deletion's chunk): bulk writers let the WAL
    /// restart themselves (`Checkpointer::let_wal_restart`, with a longer wait than capture
    /// can afford), so the frames they added are not capture's to wait for; capture tries
    /// again once its own commits have added half the bound.
    fn after_exclusive(&mut self) {
        self.gate.give_way();
        let frames = self.frames();
        self.next_try = self.next_try.max(frames + self.full / 2);
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Message>,
    changes: broadcast::Sender<Change>,
    captures: &CaptureActivity,
    mut wal: WalRestart,
) {
    let mut closing = None;
    while closing.is_none() {
        let Some(first) = rx.blocking_recv() else { break };
        let mut jobs = Vec::new();
        let mut events = 0;
        // Exclusive work runs after the jobs queued before it, keeping the queue's order.
        let mut exclusive = None;
        match first {
            Message::Write(job) => {
                captures.taken();
                events += job.events.len();
                jobs.push(*job);
            }
            Message::Exclusive(work) => exclusive = Some(work),
            Message::Close(reply) => closing = Some(reply),
        }
        while closing.is_none()
            && exclusive.is_none()
            && jobs.len() < MAX_JOBS_PER_COMMIT
            && events < MAX_EVENTS_PER_COMMIT
        {
            match rx.try_recv() {
                Ok(Message::Write(job)) => {
                    captures.taken();
                    events += job.events.len();
                    jobs.push(*job);
                }
                Ok(Message::Exclusive(work)) => exclusive = Some(work),
                Ok(Message::Close(reply)) => closing = Some(reply),
                Err(_) => break,
            }
        }
        if !jobs.is_empty() {
            commit_group(&mut conn, jobs, &changes);
            wal.after_commit();
        }
        if let Some(work) = exclusive {
            work(&mut conn, &changes);
            wal.after_exclusive();
        }
    }
    if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
        tracing::warn!("WAL checkpoint at shutdown failed: {e}");
    }
    drop(conn);
    if let Some(reply) = closing {
        let _ = reply.send(());
    }
}

/// Commits all jobs in one transaction. If that fails, each job is retried alone so that one
/// bad write cannot take the others down with it.
fn commit_group(conn: &mut Connection, jobs: Vec<Job>, changes: &broadcast::Sender<Change>) {
    let together = conn.transaction().map_err(StoreError::from).and_then(|tx| {
        let results = jobs
            .iter()
            .map(|job| insert_into(&tx, None, &job.request, &job.events, &job.sdk_uuids))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(results)
    });
    match together {
        Ok(results) => {
            for (job, committed) in jobs.into_iter().zip(results) {
                finish(job, Ok(committed), changes);
            }
        }
        Err(group_error) => {
            tracing::warn!(jobs = jobs.len(), "group commit failed ({group_error}); retrying one by one");
            for job in jobs {
                let alone = conn.transaction().map_err(StoreError::from).and_then(|tx| {
                    let committed = insert_into(&tx, None, &job.request, &job.events, &job.sdk_uuids)?;
                    tx.commit()?;
                    Ok(committed)
                });
                finish(job, alone, changes);
            }
        }
    }
}

fn finish(job: Job, result: Result<Committed, StoreError>, changes: &broadcast::Sender<Change>) {
    if let Ok(committed) = &result {
        if let Some(change) = change_for(&job, committed) {
            // No subscribers is fine: nobody is watching.
            let _ = changes.send(change);
        }
    }
    let _ = job.reply.send(result);
}

fn change_for(job: &Job, committed: &Committed) -> Option<Change> {
    let request = &job.request;
    match request.outcome {
        Outcome::Rejected => Some(Change::Rejected {
            request_id: committed.request_id,
            method: request.method.clone(),
            path: request.path.clone(),
            status: request.status,
            error: request.error.clone().unwrap_or_default(),
        }),
        Outcome::Faulted => Some(Change::Faulted {
            request_id: committed.request_id,
            method: request.method.clone(),
            path: request.path.clone(),
            status: request.status,
            error: request.error.clone().unwrap_or_default(),
            events: job.events.len() as i64,
        }),
        Outcome::Accepted => {
            let (first_seq, last_seq) = committed.seqs?;
            let first = job.events.first()?;
            Some(Change::Events {
                request_id: committed.request_id,
                project: first.project.clone(),
                source: first.source.clone(),
                count: job.events.len() as i64 - committed.duplicates as i64,
                first_seq,
                last_seq,
            })
        }
    }
}

/// Whether an event is only stored once per `(project, uuid)`. Segment's `messageId` and
/// Mixpanel's `$insert_id` are the vendors' dedup keys, and SDKs resend a batch whose answer
/// they missed; PostHog events keep being stored as received (PostHog's own behaviour).
fn deduplicated(event: &NewEvent) -> bool {
    event.source != "posthog"
}

/// Stores one request and its events, dropping events already stored under the same
/// `(project, uuid)` (see [`deduplicated`]), within this transaction too; the request's
/// `event_count` and `note` then say how many were dropped. Bumps the project counters.
/// A faulted request's events go to `faulted_events` instead (see [`insert_faulted`]), with
/// `sdk_uuids` saying which of their uuids the SDK sent (all, when it is shorter).
/// The request is marked as part of the imported data set `dataset` when given. Set in the
/// INSERT itself: an UPDATE afterwards would write each row, body included, a second time.
pub(crate) fn insert_into(
    tx: &Transaction<'_>,
    dataset: Option<&str>,
    request: &NewRequest,
    events: &[NewEvent],
    sdk_uuids: &[bool],
) -> Result<Committed, StoreError> {
    let headers = serde_json::to_string(&request.headers).unwrap_or_else(|_| "[]".into());
    tx.prepare_cached(
        "INSERT INTO requests (received_at, method, path, query, headers, body, source, route, outcome,
                               status, error, error_code, event_count, note, project, dataset)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        request.received_at,
        request.method,
        request.path,
        request.query,
        headers,
        request.body,
        request.source,
        request.route,
        request.outcome.as_str(),
        request.status,
        request.error,
        request.error_code,
        events.len() as i64,
        request.note,
        // A request's events share one project (each vendor refuses a request naming two).
        request.project.as_deref().or_else(|| events.first().map(|e| e.project.as_str())),
        dataset,
    ])?;
    let request_id = tx.last_insert_rowid();
    if request.outcome == Outcome::Faulted {
        insert_faulted(tx, request_id, events, sdk_uuids)?;
        return Ok(Committed { request_id, seqs: None, duplicates: 0 });
    }

    let mut seqs = None;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (uuid, request_id, project, source, event, distinct_id, device_id, session_id,
                             timestamp, original_timestamp, sent_at, received_at, properties, warnings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut kept = Vec::with_capacity(events.len());
    let mut exists = tx.prepare_cached("SELECT 1 FROM events WHERE uuid = ?1 AND project = ?2 LIMIT 1")?;
    for e in events {
        if deduplicated(e) && exists.exists(params![e.uuid, e.project])? {
            continue;
        }
        kept.push(e);
        let warnings = (!e.warnings.is_empty()).then(|| serde_json::to_string(&e.warnings).unwrap_or_default());
        stmt.execute(params![
            e.uuid,
            request_id,
            e.project,
            e.source,
            e.event,
            e.distinct_id,
            e.device_id,
            e.session_id,
            e.timestamp,
            e.original_timestamp,
            e.sent_at,
            e.received_at,
            e.properties,
            warnings,
        ])?;
        let seq = tx.last_insert_rowid();
        seqs = Some(match seqs {
            None => (seq, seq),
            Some((first, _)) => (first, seq),
        });
    }
    let duplicates = (events.len() - kept.len()) as u64;
    if duplicates > 0 {
        let said = format!(
            "{duplicates} duplicate event{} dropped: the same messageId/$insert_id was already stored for this project",
            if duplicates == 1 { "" } else { "s" }
        );
        tx.prepare_cached(
            "UPDATE requests SET event_count = ?1,
                 note = CASE WHEN note IS NULL THEN ?2 ELSE note || '; ' || ?2 END
             WHERE id = ?3",
        )?
        .execute(params![kept.len() as i64, said, request_id])?;
    }
    bump_projects(tx, kept.into_iter())?;
    Ok(Committed { request_id, seqs, duplicates })
}

/// The events of a faulted request: kept apart from `events` (no `seq`, no project counts, no
/// dedup: every copy the SDK sent is one delivery attempt), each with the newest `seq` stored so
/// far, where it would have arrived, and whether its uuid is the SDK's (`sdk_uuids[i]`, true
/// past its end): one the decoder made up matches no resent copy.
fn insert_faulted(
    tx: &Transaction<'_>,
    request_id: i64,
    events: &[NewEvent],
    sdk_uuids: &[bool],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let after_seq: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO faulted_events (request_id, uuid, project, source, event, distinct_id, timestamp, received_at,
                                     properties, after_seq, sdk_uuid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (i, e) in events.iter().enumerate() {
        stmt.execute(params![
            request_id,
            e.uuid,
            e.project,
            e.source,
            e.event,
            e.distinct_id,
            e.timestamp,
            e.received_at,
            e.properties,
            after_seq,
            sdk_uuids.get(i).copied().unwrap_or(true),
        ])?;
    }
    Ok(())
}

pub(crate) fn bump_projects<'a>(
    tx: &Transaction<'_>,
    events: impl Iterator<Item = &'a NewEvent>,
) -> Result<(), StoreError> {
    let mut counts: HashMap<(&str, &str), (i64, i64, i64)> = HashMap::new();
    for e in events {
        let entry = counts.entry((&e.project, &e.source)).or_insert((0, e.received_at, e.received_at));
        entry.0 += 1;
        entry.1 = entry.1.min(e.received_at);
        entry.2 = entry.2.max(e.received_at);
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO projects (project, source, events, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (project, source) DO UPDATE SET
             events = events + excluded.events,
             first_seen = min(first_seen, excluded.first_seen),
             last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for ((project, source), (n, first, last)) in counts {
        stmt.execute(params![project, source, n, first, last])?;
    }
    Ok(())
}
