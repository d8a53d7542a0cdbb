//! The server as the app around it (the desktop shell) sees it once it runs: its URL, its store,
//! its controls, and a way to stop it.

use event_store::{Change, Removed, Store, StoreError, Totals};
use tokio::sync::broadcast;

use crate::{AppState, Control};

#[derive(Clone)]
pub struct ServerHandle {
    state: AppState,
}

impl ServerHandle {
    pub(crate) fn new(state: AppState) -> ServerHandle {
        ServerHandle { state }
    }

    /// `http://127.0.0.1:<port>`: where SDKs send and where the UI is.
    pub fn url(&self) -> &str {
        &self.state.capture_url
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn control(&self) -> &Control {
        &self.state.control
    }

    /// The fault rules in force (add them with `crate::faults`).
    pub fn faults(&self) -> &fault_rules::FaultBook {
        &self.state.faults
    }

    /// Commits as they happen (for a live count), and `Pruned` after a prune or clear.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.state.store.subscribe()
    }

    /// Blocking (SQLite): call from a plain thread or `spawn_blocking`.
    pub fn totals(&self) -> Result<Totals, StoreError> {
        self.state.store.totals()
    }

    /// Deletes all data; the identity model rebuilds (empty). Blocking, like [`Self::totals`].
    pub fn clear_all(&self) -> Result<Removed, StoreError> {
        self.state.store.clear_all()
    }

    /// Starts the same graceful stop as a signal: `run_until` then flushes the writer and returns.
    pub fn shutdown(&self) {
        self.state.shutdown.cancel();
    }
}
