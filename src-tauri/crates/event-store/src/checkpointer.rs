//! Copies the WAL back into the database file from its own thread and connection, so the writer
//! never pays for a checkpoint inside a capture request. PASSIVE checkpoints never block the
//! writer or readers; once a checkpoint has caught up, SQLite restarts the WAL from its start,
//! which keeps the file from growing without bound.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(250);

pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub(crate) fn spawn(path: PathBuf) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new().name("store-checkpoint".into()).spawn(move || {
            let conn = match rusqlite::Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::error!("checkpointer cannot open the database: {e}"),
            };
            let _ = conn.busy_timeout(Duration::from_secs(1));
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!("WAL checkpoint failed: {e}");
                }
            }
        })?;
        Ok(Checkpointer { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
