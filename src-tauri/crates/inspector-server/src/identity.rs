//! The identity model (persons, decisions, device lanes, findings), kept in memory and fed from
//! the store strictly in arrival order.
//!
//! Invariants:
//! - The model has applied exactly the events with `seq <= applied`, in seq order: it is fed by
//!   reading the store after `applied`, never from request handlers, so concurrent commits cannot
//!   reorder it and a restart rebuilds the identical state from SQLite.
//! - Capture replies never wait for the model (ingest speed is the store's); API reads call
//!   `synced` first, so a client that got its 200 then reads persons sees its own events.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::DateTime;
use event_store::{ArrivedEvent, Store};
use identity_engine::{EventInput, Model};
use serde::Serialize;
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;

/// Events read from the store per catch-up step; bounds how long the write lock is held.
const STEP: u32 = 5_000;
/// How long an API read waits for the model to catch up before answering with what it has.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10);

/// Announced on `/api/stream` after the model changed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IdentityChange {
    Persons { ids: Vec<uuid::Uuid>, applied_seq: i64 },
    Devices { ids: Vec<String>, applied_seq: i64 },
    Warnings { new: usize, applied_seq: i64 },
}

pub struct Identity {
    model: RwLock<Model>,
    applied: watch::Sender<i64>,
    wake: Notify,
    changes: broadcast::Sender<IdentityChange>,
    /// False when the server runs capture-only: nothing feeds the model, reads do not wait.
    fed: bool,
}

/// A stored event as the identity model takes it.
pub fn to_input(ev: ArrivedEvent) -> EventInput {
    let properties = match serde_json::from_str(&ev.properties) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    EventInput {
        seq: ev.seq,
        uuid: ev.uuid,
        project: ev.project,
        event: ev.event,
        distinct_id: ev.distinct_id,
        timestamp: DateTime::from_timestamp_micros(ev.timestamp).unwrap_or_default(),
        properties,
    }
}

impl Identity {
    /// Starts the feeding task; the model is rebuilt from the store in the background.
    pub fn start(store: Store, shutdown: CancellationToken, fed: bool) -> Arc<Identity> {
        let (applied, _) = watch::channel(0);
        let (changes, _) = broadcast::channel(256);
        let identity =
            Arc::new(Identity { model: RwLock::new(Model::new()), applied, wake: Notify::new(), changes, fed });
        if !fed {
            return identity;
        }
        let feeder = identity.clone();
        tokio::spawn(async move {
            let mut commits = store.subscribe();
            loop {
                if let Err(e) = feeder.catch_up(&store).await {
                    tracing::error!("identity model could not read the store: {e}");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = feeder.wake.notified() => {},
                    // Any commit (or a lag notice) means: read what is new.
                    _ = commits.recv() => {},
                }
            }
        });
        identity
    }

    async fn catch_up(self: &Arc<Self>, store: &Store) -> Result<(), event_store::StoreError> {
        loop {
            let after = *self.applied.borrow();
            let reader = store.clone();
            let batch = tokio::task::spawn_blocking(move || reader.events_after(after, STEP))
                .await
                .expect("store read task panicked")?;
            let Some(last) = batch.last().map(|e| e.seq) else { return Ok(()) };
            let me = self.clone();
            let change = tokio::task::spawn_blocking(move || me.apply(batch)).await.expect("model task panicked");
            self.applied.send_replace(last);
            for c in change.into_announcements(last) {
                let _ = self.changes.send(c);
            }
        }
    }

    fn apply(&self, batch: Vec<ArrivedEvent>) -> Collected {
        let mut collected = Collected::default();
        let mut model = self.model.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for ev in batch {
            // Other vendors' events get their own models; PostHog's rules apply to PostHog traffic.
            if ev.source != "posthog" {
                continue;
            }
            let seq = ev.seq;
            match model.apply(&to_input(ev)) {
                Ok(changes) => {
                    collected.persons.extend(changes.persons);
                    collected.devices.extend(changes.devices);
                    collected.new_findings += changes.new_findings;
                }
                Err(e) => tracing::error!(seq, "identity model refused an event: {e}"),
            }
        }
        collected
    }

    /// Waits until every event committed before this call has been applied (bounded wait).
    pub async fn synced(&self, store: &Store) {
        if !self.fed {
            return;
        }
        let reader = store.clone();
        let Ok(Ok(target)) = tokio::task::spawn_blocking(move || reader.last_seq()).await else { return };
        let mut applied = self.applied.subscribe();
        self.wake.notify_one();
        let _ = tokio::time::timeout(SYNC_TIMEOUT, applied.wait_for(|seq| *seq >= target)).await;
    }

    pub fn applied_seq(&self) -> i64 {
        *self.applied.borrow()
    }

    pub fn read<R>(&self, f: impl FnOnce(&Model) -> R) -> R {
        let model = self.model.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&model)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<IdentityChange> {
        self.changes.subscribe()
    }
}

#[derive(Default)]
struct Collected {
    persons: std::collections::BTreeSet<uuid::Uuid>,
    devices: std::collections::BTreeSet<String>,
    new_findings: usize,
}

impl Collected {
    fn into_announcements(self, applied_seq: i64) -> Vec<IdentityChange> {
        let mut out = Vec::new();
        if !self.persons.is_empty() {
            out.push(IdentityChange::Persons { ids: self.persons.into_iter().collect(), applied_seq });
        }
        if !self.devices.is_empty() {
            out.push(IdentityChange::Devices { ids: self.devices.into_iter().collect(), applied_seq });
        }
        if self.new_findings > 0 {
            out.push(IdentityChange::Warnings { new: self.new_findings, applied_seq });
        }
        out
    }
}
