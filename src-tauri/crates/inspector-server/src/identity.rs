//! The identity model (persons, decisions, device lanes, findings), kept in memory and fed from
//! the store strictly in arrival order.
//!
//! Invariants:
//! - The model has applied exactly the events with `seq <= applied`, in seq order, except those
//!   of imports still incomplete (`skipped`; the model is rebuilt with them once the import
//!   completes): it is fed by reading the store after `applied`, never from request handlers,
//!   so concurrent commits cannot reorder it and a restart rebuilds the identical state from
//!   SQLite.
//! - Capture replies never wait for the model (ingest speed is the store's); API reads call
//!   `synced` first, so a client that got its 200 then reads persons sees its own events.
//! - No async worker waits on the model: API reads take its lock on background threads
//!   (`read_off_workers`, `crate::background`), and the feeder holds the write lock for `APPLY_CHUNK` events at most.
//! - A project whose traffic is deleted (`Store::delete_project`) is dropped from the model
//!   (`Model::forget_project`) by the feeding thread, between the last event at or below the
//!   deletion's cut and the first after it: the cut is checked before every step is applied,
//!   and the project's events at or below it that a step still holds are skipped until the
//!   deletion has finished and the model is past the cut. No rebuild: other projects stay.
//! - The model is fed on its own thread at a lower CPU priority: under a burst, capture keeps
//!   the cores and the model catches up right after (the ingest benchmark reports that lag).
//! - The model's undelivered events (`Model::set_undelivered`: events only ever sent in requests
//!   a fault rule answered) are read again after every catch-up in which a faulted event was
//!   stored, or events were applied while one of them made a finding (a retry may have got
//!   through, another event may have joined its ids); `synced` waits for that too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use event_store::Store;
use identity_engine::{Forgotten, Model};
use ingest::Decoded;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::applied::AppliedSeq;
use crate::error::ApiError;

/// Events still unread after a full step that make a catch-up use a second (reading) thread.
const PIPELINE_BACKLOG: i64 = 50_000;
/// Decoded steps the reading thread of a pipelined catch-up may have ready before the model
/// takes them: steps differ in cost on each side (a step of identifies is slow to apply, a
/// step of big events slow to decode), and a deeper queue lets each thread run through the
/// other's slow ones instead of waiting at every step.
const STEPS_AHEAD: usize = 4;
/// Events applied per hold of the model's write lock (see `Identity::apply`).
const APPLY_CHUNK: usize = 256;
/// How long an API read waits for the model to catch up before answering with what it has.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10);
/// Answers of `Identity::forgotten` kept for callers that have not taken theirs yet.
const FORGOTTEN_KEPT: u64 = 64;

/// Announced on `/api/stream` after the model changed. `ids` names at most
/// `identity_engine::LISTED_CHANGES` persons or lanes; `more` says others changed too (a reader
/// then refetches whatever it shows). `applied_seq` is how far the model has applied the store;
/// it goes back when the model starts a replay (a settings change, a prune, an import among
/// live events), and `replay` counts those: a reader keeps the highest `applied_seq` of the
/// highest `replay`, or a replay's progress would hide behind the old model's.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IdentityChange {
    Persons { ids: Vec<uuid::Uuid>, more: bool, applied_seq: i64, replay: u64 },
    Devices { ids: Vec<String>, more: bool, applied_seq: i64, replay: u64 },
    Warnings { new: usize, applied_seq: i64, replay: u64 },
}

/// How the model moved past an incomplete import's events.
#[derive(Debug, Clone, Copy)]
struct Skipped {
    /// `applied` before the first step that left them out.
    from: i64,
    /// No event was applied since: going back to `from` is enough to take them in order.
    clean: bool,
}

pub struct Identity {
    model: RwLock<Model>,
    applied: AppliedSeq,
    /// Nudges the feeding thread (a commit happened, or a reader is waiting).
    wake: SyncSender<()>,
    stopped: AtomicBool,
    changes: broadcast::Sender<IdentityChange>,
    /// False when the server runs capture-only: nothing feeds the model, reads do not wait.
    fed: bool,
    /// `Store::removals()` when the model was last started from scratch (see `restart_if_stale`).
    built_after_removals: AtomicU64,
    /// `Store::settings_writes()` when the model was last started from scratch; `NOT_BUILT`
    /// until the feeding thread first started it under the stored project settings.
    built_after_settings: AtomicU64,
    /// How many times the model was started from scratch (after a prune, a clear, a settings
    /// change or an import among live events); tests read it to see that a change replayed it.
    rebuilds: AtomicU64,
    /// Data sets whose import was incomplete when applied steps were read: the model moved past
    /// their events without them (see `apply`). Only the feeding thread uses it.
    skipped: Mutex<HashMap<String, Skipped>>,
    /// `Store::faults_mark()` when the undelivered events were last set (-1: not since the model
    /// was started), and the `applied` seq they were checked at.
    undelivered_mark: AtomicI64,
    undelivered_through: AtomicI64,
    /// Project deletions taken in (`Store::project_cuts`); the deletion that waits for its
    /// project to leave the model watches it.
    cuts_seen: watch::Sender<u64>,
    /// What the model dropped for each deletion, until its caller takes it (`forgotten`).
    forgotten: Mutex<HashMap<u64, Forgotten>>,
    /// Deleted projects whose events at or below the cut a step may still hold (read before
    /// the deletion, or while it runs): skipped. Only the feeding thread uses it.
    cut_events: Mutex<Vec<event_store::ProjectCut>>,
}

/// `built_after_settings` before the first build: no write count equals it.
const NOT_BUILT: u64 = u64::MAX;

impl Identity {
    /// Starts feeding the model; it is rebuilt from the store in the background.
    pub fn start(store: Store, shutdown: CancellationToken, fed: bool) -> Arc<Identity> {
        let (changes, _) = broadcast::channel(256);
        // One pending nudge is enough: the thread always reads everything new.
        let (wake, woken) = sync_channel(1);
        let identity = Arc::new(Identity {
            model: RwLock::new(Model::new()),
            applied: AppliedSeq::default(),
            wake,
            stopped: AtomicBool::new(false),
            changes,
            fed,
            built_after_removals: AtomicU64::new(store.removals()),
            built_after_settings: AtomicU64::new(if fed { NOT_BUILT } else { store.settings_writes() }),
            rebuilds: AtomicU64::new(0),
            skipped: Mutex::new(HashMap::new()),
            undelivered_mark: AtomicI64::new(-1),
            undelivered_through: AtomicI64::new(-1),
            cuts_seen: watch::Sender::new(0),
            forgotten: Mutex::new(HashMap::new()),
            cut_events: Mutex::new(Vec::new()),
        });
        if !fed {
            return identity;
        }
        let nudger = identity.clone();
        let mut commits = store.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    // Any commit (or a lag notice) means: read what is new.
                    _ = commits.recv() => { let _ = nudger.wake.try_send(()); },
                }
            }
            nudger.stopped.store(true, Ordering::Relaxed);
            let _ = nudger.wake.try_send(());
        });
        let feeder = Arc::downgrade(&identity);
        let spawned =
            std::thread::Builder::new().name("identity-model".into()).spawn(move || feed(feeder, store, woken));
        if let Err(e) = spawned {
            tracing::error!("cannot start the identity model thread: {e}");
        }
        identity
    }

    /// Applies everything committed after `applied`, in seq order, in steps of `ingest::STEP` events.
    /// A large backlog (the rebuild at start-up) is read and decoded on a second thread while
    /// this one applies the previous step, so SQLite and JSON cost no model time. Live bursts
    /// stay on this one thread: a second one would take a core from capture, which must answer
    /// SDKs first (the ingest benchmark measures that cost).
    fn catch_up(&self, store: &Store) -> Result<(), event_store::StoreError> {
        self.restart_if_stale(store);
        self.take_cuts(store);
        loop {
            let Some(first) = Decoded::read(store, self.applied.get())? else { return Ok(()) };
            let more = first.full;
            let backlog = if more { store.last_seq()? - first.last } else { 0 };
            if backlog >= PIPELINE_BACKLOG {
                return self.catch_up_pipelined(store, first);
            }
            if !self.apply(store, &first) {
                continue;
            }
            if !more || self.stopped.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
    }

    fn catch_up_pipelined(&self, store: &Store, first: Decoded) -> Result<(), event_store::StoreError> {
        std::thread::scope(|scope| {
            let (steps, decoded) = sync_channel::<Result<Decoded, event_store::StoreError>>(STEPS_AHEAD);
            // Applied steps come back here to be dropped on the thread that allocated them:
            // mimalloc frees a block of another thread through a slower shared path, and a
            // step is tens of thousands of small strings and maps.
            let (spent, applied) = sync_channel::<Decoded>(STEPS_AHEAD + 1);
            let reader = std::thread::Builder::new().name("identity-reader".into()).spawn_scoped(scope, move || {
                let mut step = first;
                loop {
                    let (last, full) = (step.last, step.full);
                    if steps.send(Ok(step)).is_err() || !full {
                        return;
                    }
                    while let Ok(done) = applied.try_recv() {
                        drop(done);
                    }
                    step = match Decoded::read(store, last) {
                        Ok(Some(next)) => next,
                        Ok(None) => return,
                        Err(e) => return drop(steps.send(Err(e))),
                    };
                }
            });
            if let Err(e) = reader {
                // Nothing was applied: the next catch-up (at most 100 ms away) reads it again.
                tracing::error!("cannot start the identity reader thread: {e}");
                return Ok(());
            }
            for step in decoded {
                if self.stopped.load(Ordering::Relaxed) {
                    break;
                }
                let step = step?;
                let applied = self.apply(store, &step);
                // A full queue (the reader is slow to come back for them) only means this one
                // is dropped here.
                let _ = spent.try_send(step);
                if !applied {
                    // The rest was read for the old model; the next catch-up starts from empty.
                    let _ = self.wake.try_send(());
                    break;
                }
            }
            Ok(())
        })
    }

    /// Data was pruned or cleared (the desktop's retention, "clear all data") or a project's
    /// settings were written since the model was built (or it was never built): it may hold
    /// persons made of events that are gone, or made under other settings, so it starts again
    /// from empty under the stored settings (`ingest::empty_model`) and the catch-up that follows
    /// replays what remains. A step read before the change and applied after this reset is
    /// undone by the next call, which sees the newer count. The counts are read before the
    /// settings, so a write racing this rebuild causes one more.
    fn restart_if_stale(&self, store: &Store) {
        let removals = store.removals();
        let settings_writes = store.settings_writes();
        let pruned = removals != self.built_after_removals.load(Ordering::SeqCst);
        let first_or_settings = settings_writes != self.built_after_settings.load(Ordering::SeqCst);
        if !pruned && !first_or_settings {
            return;
        }
        let rebuilds = self.rebuilds.load(Ordering::SeqCst);
        self.restart(
            store,
            if pruned {
                "stored data was removed: rebuilding the identity model from what remains"
            } else if rebuilds > 0 {
                "project settings changed: replaying the identity model under them"
            } else {
                "building the identity model under the stored project settings"
            },
        );
        // Only now: `synced` lets reads through once these match the store's, and until the
        // model above replaced the old one a read would still find the removed data's persons
        // (it did, under CI's load, between the two while the settings were being read).
        self.built_after_removals.store(removals, Ordering::SeqCst);
        self.built_after_settings.store(settings_writes, Ordering::SeqCst);
    }

    /// Times the model was started from scratch since the server started (the first build
    /// included).
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.load(Ordering::SeqCst)
    }

    /// Starts the model again from empty under the stored settings (`ingest::empty_model`); the
    /// catch-up that follows rebuilds it from the store.
    fn restart(&self, store: &Store, why: &str) {
        let fresh = ingest::empty_model(store).unwrap_or_else(|e| {
            tracing::error!("cannot read the project settings, using the vendors' defaults: {e}");
            Model::new()
        });
        let mut model = self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *model = fresh;
        self.skipped.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
        self.applied.set(0);
        self.undelivered_mark.store(-1, Ordering::SeqCst);
        self.undelivered_through.store(-1, Ordering::SeqCst);
        drop(model);
        self.rebuilds.fetch_add(1, Ordering::SeqCst);
        tracing::info!("{why}");
    }

    /// Applies one step, taking the write lock for at most `APPLY_CHUNK` events at a time so a
    /// reader waits for one chunk, never for a whole step (one event can be slow: a big person).
    ///
    /// An import's events are left out of every step read while it ran (`Decoded::pending`),
    /// and the model takes events in seq order only. When a step shows that an import it moved
    /// past has completed, the next catch-up takes the data set in its place: from where the
    /// model stood before leaving it out, when no event was applied since (an import while no
    /// live traffic arrives), otherwise by rebuilding the model from empty (once per import).
    /// Returns `false` then, without applying the step (it was read for the old position).
    fn apply(&self, store: &Store, step: &Decoded) -> bool {
        self.take_cuts(store);
        {
            let mut skipped = self.skipped.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let completed: Vec<String> = skipped.keys().filter(|name| !step.pending.contains(name)).cloned().collect();
            if !completed.is_empty() {
                let done: Vec<Skipped> = completed.iter().filter_map(|name| skipped.remove(name)).collect();
                if done.iter().all(|s| s.clean) {
                    let from = done.iter().map(|s| s.from).min().unwrap_or(0);
                    self.applied.set(from);
                    tracing::info!("an import completed: the identity model takes it from seq {from}");
                } else {
                    drop(skipped);
                    self.restart(store, "an import completed after live events: rebuilding the identity model with it");
                }
                return false;
            }
            let before = self.applied.get();
            for name in &step.pending {
                skipped.entry(name.clone()).or_insert(Skipped { from: before, clean: true });
            }
            if !step.inputs.is_empty() {
                skipped.values_mut().for_each(|s| s.clean = false);
            }
        }
        let cut_events = self.cut_events.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let deleted = |input: &identity_engine::EventInput| {
            cut_events.iter().any(|cut| input.seq <= cut.through_seq && input.project == cut.project)
        };
        for chunk in step.inputs.chunks(APPLY_CHUNK) {
            let mut model = self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            for input in chunk {
                if !cut_events.is_empty() && deleted(input) {
                    continue;
                }
                if let Err(e) = model.push(input) {
                    tracing::error!(seq = input.seq, "identity model refused an event: {e}");
                }
            }
            // Under the lock, so a reader always sees a model that applied exactly `applied`.
            if let Some(last) = chunk.last() {
                self.applied.set(last.seq);
            }
        }
        let changes = self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take_changes();
        self.applied.set(step.last);
        if !cut_events.is_empty() {
            // Past the cut with the deletion finished, no step can hold the project's deleted
            // events any more: later steps start after this one, and a rebuild reads the store.
            self.cut_events
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .retain(|cut| step.last < cut.through_seq || !store.project_cut_finished(cut.id));
        }
        let (applied_seq, replay) = (step.last, self.applied.replays());
        if !changes.persons.is_empty() {
            let _ = self.changes.send(IdentityChange::Persons {
                ids: changes.persons,
                more: changes.more_persons,
                applied_seq,
                replay,
            });
        }
        if !changes.devices.is_empty() {
            let _ = self.changes.send(IdentityChange::Devices {
                ids: changes.devices,
                more: changes.more_devices,
                applied_seq,
                replay,
            });
        }
        if changes.new_findings > 0 {
            let _ = self.changes.send(IdentityChange::Warnings { new: changes.new_findings, applied_seq, replay });
        }
        true
    }

    /// Sets the model's undelivered events again when they may have changed (see the module's
    /// invariants), and announces the findings that changed with them.
    fn refresh_undelivered(&self, store: &Store) -> Result<(), event_store::StoreError> {
        let mark = store.faults_mark()?;
        let applied = self.applied.get();
        let moved = self.undelivered_through.load(Ordering::SeqCst) != applied;
        let stale =
            mark != self.undelivered_mark.load(Ordering::SeqCst) || (moved && self.read(Model::has_undelivered));
        if stale {
            let events = if mark == 0 { Vec::new() } else { ingest::undelivered(store)? };
            let mut model = self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            let had = model.has_undelivered();
            let new = model.set_undelivered(&events);
            let has = model.has_undelivered();
            model.take_changes();
            drop(model);
            if new > 0 || had || has {
                let replay = self.applied.replays();
                let _ = self.changes.send(IdentityChange::Warnings { new, applied_seq: applied, replay });
            }
        }
        self.undelivered_mark.store(mark, Ordering::SeqCst);
        self.undelivered_through.store(applied, Ordering::SeqCst);
        Ok(())
    }

    /// Drops the projects of the deletions started since the last call (see the module docs).
    /// Called before a step is applied: every step applied so far was read before these cuts
    /// were taken (a step read after would have found them), so the model holds none of the
    /// events after them yet.
    fn take_cuts(&self, store: &Store) {
        let seen = *self.cuts_seen.borrow();
        if store.project_cuts() == seen {
            return;
        }
        for cut in store.project_cuts_after(seen) {
            let forgotten =
                self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner()).forget_project(&cut.project);
            tracing::info!(
                project = cut.project,
                persons = forgotten.persons,
                "a project's traffic was deleted: dropped from the identity model"
            );
            let mut answers = self.forgotten.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // A caller that gave up waiting never takes its answer: keep the latest few only.
            answers.retain(|id, _| *id + FORGOTTEN_KEPT > cut.id);
            answers.insert(cut.id, forgotten);
            drop(answers);
            let id = cut.id;
            self.cut_events.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(cut);
            self.cuts_seen.send_replace(id);
        }
    }

    /// Waits, at most `bound`, until the model has dropped the project of deletion `cut` (see
    /// `Store::delete_project`), and says what it dropped; `None` when nothing feeds the model
    /// or the bound passed (a rebuild of a big store is under way).
    pub async fn forgotten(&self, cut: u64, bound: Duration) -> Option<Forgotten> {
        if !self.fed {
            return None;
        }
        let mut seen = self.cuts_seen.subscribe();
        let _ = self.wake.try_send(());
        tokio::time::timeout(bound, seen.wait_for(|seen| *seen >= cut)).await.ok()?.ok()?;
        self.forgotten.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&cut)
    }

    /// Waits until every event committed before this call has been applied (bounded wait).
    pub async fn synced(&self, store: &Store) {
        if !self.fed {
            return;
        }
        let deadline = tokio::time::Instant::now() + SYNC_TIMEOUT;
        // A removal (prune, clear) restarts the model from what remains, a settings write replays
        // it, a project deletion drops that project: until the feeding thread has done so,
        // `applied` still counts the old model's events and a read would show them.
        while self.built_after_removals.load(Ordering::SeqCst) != store.removals()
            || self.built_after_settings.load(Ordering::SeqCst) != store.settings_writes()
            || *self.cuts_seen.borrow() < store.project_cuts()
        {
            let _ = self.wake.try_send(());
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let reader = store.clone();
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, event_store::StoreError>((reader.last_seq()?, reader.faults_mark()?))
        });
        let Ok(Ok((target, mark))) = read.await else { return };
        let _ = self.wake.try_send(());
        let _ = tokio::time::timeout_at(deadline, self.applied.reached(target)).await;
        // Then the undelivered events of that moment (read right after the catch-up that applied it).
        while self.undelivered_mark.load(Ordering::SeqCst) != mark
            || self.undelivered_through.load(Ordering::SeqCst) < target
        {
            let _ = self.wake.try_send(());
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Waits, at most `bound`, until the model has applied the events up to `seq`: a page of
    /// events just captured then carries their persons and decisions. Shorter than [`synced`]'s
    /// wait, for reads that answer with what the model has rather than wait out a rebuild.
    ///
    /// [`synced`]: Identity::synced
    pub async fn applied_through(&self, seq: i64, bound: Duration) {
        if !self.fed || self.applied.get() >= seq {
            return;
        }
        let _ = self.wake.try_send(());
        let _ = tokio::time::timeout(bound, self.applied.reached(seq)).await;
    }

    pub fn applied_seq(&self) -> i64 {
        self.applied.get()
    }

    pub fn read<R>(&self, f: impl FnOnce(&Model) -> R) -> R {
        let model = self.model.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&model)
    }

    /// `read` off the async workers (`crate::background::run_interactive`): waiting for the lock
    /// and walking a big model never occupy a worker that answers SDKs.
    pub async fn read_off_workers<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Model) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let me = self.clone();
        crate::background::run_interactive("identity read", move || me.read(f)).await
    }

    pub fn subscribe(&self) -> broadcast::Receiver<IdentityChange> {
        self.changes.subscribe()
    }
}

/// The feeding thread: catches up whenever nudged (and every 100 ms regardless), until the
/// server shuts down or the state that owns the model is gone.
fn feed(identity: Weak<Identity>, store: Store, woken: Receiver<()>) {
    crate::background::lower_priority();
    loop {
        let Some(me) = identity.upgrade() else { return };
        if me.stopped.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = me.catch_up(&store).and_then(|()| me.refresh_undelivered(&store)) {
            tracing::error!("identity model could not read the store: {e}");
        }
        drop(me);
        if let Err(RecvTimeoutError::Disconnected) = woken.recv_timeout(Duration::from_millis(100)) {
            return;
        }
    }
}
