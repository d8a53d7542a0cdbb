//! Per-project identity settings (`project_settings`): what a project's traffic cannot tell the
//! inspector, chosen by the user (Mixpanel's ID merge mode, Segment's blocked values and
//! identifier limits). The store keeps them as the JSON text the server validated; it does not
//! know their fields (the identity engine's `ProjectSettings` does), so this crate stays free of
//! the engine.
//!
//! Invariants:
//! - Written only on the writer thread, one row per project key; a key may be configured before
//!   its first event arrives.
//! - Every committed write bumps [`Store::settings_writes`] and announces [`Change::Settings`]:
//!   whoever keeps a model derived from events and settings rebuilds it (as after a prune).
//! - "Clear all data" keeps the settings of live projects (a user who chose a mode expects it to
//!   survive a clear) and drops those of imported data sets (`import:<name>/<key>`), whose data
//!   is gone. An import writes settings only under its own `import:` keys, never a live key's.

use std::sync::atomic::Ordering;

use rusqlite::params;
use serde::Serialize;

use crate::{Change, Store, StoreError};

/// One configured project, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSettings {
    pub project: String,
    /// The JSON object the server validated.
    pub settings: String,
    /// Unix microseconds of the last write.
    pub updated_at: i64,
}

impl Store {
    /// Every configured project, by key.
    pub fn project_settings(&self) -> Result<Vec<StoredSettings>, StoreError> {
        let conn = self.reader()?;
        if !has_table(&conn)? {
            return Ok(Vec::new());
        }
        let mut stmt =
            conn.prepare_cached("SELECT project, settings, updated_at FROM project_settings ORDER BY project")?;
        let rows = stmt
            .query_map([], |r| Ok(StoredSettings { project: r.get(0)?, settings: r.get(1)?, updated_at: r.get(2)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One project's stored settings; `None` when it was never configured.
    pub fn project_settings_of(&self, project: &str) -> Result<Option<StoredSettings>, StoreError> {
        let conn = self.reader()?;
        if !has_table(&conn)? {
            return Ok(None);
        }
        let mut stmt =
            conn.prepare_cached("SELECT project, settings, updated_at FROM project_settings WHERE project = ?1")?;
        let mut rows = stmt.query_map([project], |r| {
            Ok(StoredSettings { project: r.get(0)?, settings: r.get(1)?, updated_at: r.get(2)? })
        })?;
        Ok(rows.next().transpose()?)
    }

    /// Stores `settings` (a JSON object) for `project` on the writer thread, after everything
    /// queued before it, then announces [`Change::Settings`]. Blocking: call it from a plain
    /// thread or `spawn_blocking`.
    pub fn set_project_settings(&self, project: &str, settings: &str) -> Result<(), StoreError> {
        let (project, settings) = (project.to_owned(), settings.to_owned());
        let store = self.clone();
        self.on_writer(move |conn, changes| {
            conn.execute(
                "INSERT INTO project_settings (project, settings, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                params![project, settings, chrono::Utc::now().timestamp_micros()],
            )?;
            store.inner.settings_writes.fetch_add(1, Ordering::SeqCst);
            let _ = changes.send(Change::Settings { project });
            Ok(())
        })
    }

    /// How many settings writes were committed since the store was opened: a reader of derived
    /// state that sees this change must rebuild it under the new settings.
    pub fn settings_writes(&self) -> u64 {
        self.inner.settings_writes.load(Ordering::SeqCst)
    }
}

/// A read-only store may hold a database from before the settings migration.
fn has_table(conn: &rusqlite::Connection) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'project_settings'",
        [],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}
