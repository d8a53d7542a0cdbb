//! File ▸ Export… and Import…: native file dialogs around the same export and import as the
//! CLI and the API (`transfer`), run off the main thread. Export writes a bundle of all
//! live traffic (the page's own export buttons cover sessions, devices and persons); import
//! puts a file into its own data set, all or nothing.

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime};
use transfer::{export, import_file, ExportFormat, ImportOptions, NoProgress, Scope};

use super::native::{Filter, Tone};
use super::Shell;

const BUNDLE_FILTER: Filter<'static> = Filter { label: "Inspector bundle", extensions: &["iibundle"] };
const IMPORT_FILTER: Filter<'static> = Filter {
    label: "Inspector bundle, HAR, NDJSON",
    extensions: &["iibundle", "har", "zip", "ndjson", "jsonl", "json"],
};

/// The file name the save dialog suggests.
pub fn suggested_export_name(now: chrono::DateTime<chrono::Local>) -> String {
    format!("identity-inspector-{}.{}", now.format("%Y-%m-%d-%H%M"), ExportFormat::Bundle.extension())
}

pub fn export_dialog<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || ask_and_export(&handle.state::<Shell>()));
}

pub fn import_dialog<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || ask_and_import(&handle.state::<Shell>()));
}

/// Asks where, exports, says how it went. Blocking: runs on a worker.
pub(super) fn ask_and_export(shell: &Shell) {
    let title = "Export all live traffic as an Inspector bundle";
    let Some(path) = shell.native.pick_save_path(title, &suggested_export_name(chrono::Local::now()), BUNDLE_FILTER)
    else {
        return;
    };
    match export_bundle(shell, &path) {
        Ok(message) => shell.native.tell("Export finished", &message, Tone::Info),
        Err(e) => shell.native.tell("Could not export", &e, Tone::Error),
    }
}

/// Asks for a file, imports it, says how it went. Blocking: runs on a worker.
pub(super) fn ask_and_import(shell: &Shell) {
    let Some(path) = shell.native.pick_file("Import a bundle, a HAR or NDJSON into its own data set", IMPORT_FILTER)
    else {
        return;
    };
    match import_into(shell, &path) {
        Ok(message) => shell.native.tell("Import finished", &message, Tone::Info),
        Err(e) => shell.native.tell("Nothing was imported", &e, Tone::Error),
    }
}

/// Every live request as a bundle at `path`; says what was written.
pub(super) fn export_bundle(shell: &Shell, path: &std::path::Path) -> Result<String, String> {
    let store = shell.server.handle.store();
    let selection = Scope::default().selection().map_err(|e| e.to_string())?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    // Written next to the target and renamed at the end: a failed export leaves no half file.
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let summary = export(store, &selection, ExportFormat::Bundle, tmp.as_file(), shell.server.url(), &NoProgress)
        .map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!("Exported {} requests ({} events) to\n{}", summary.requests, summary.events, path.display()))
}

/// The file at `path` into a new data set, decoded as live capture would; says where it went.
pub(super) fn import_into(shell: &Shell, path: &std::path::Path) -> Result<String, String> {
    let options = ImportOptions { name: None, source_name: None, progress: Arc::new(NoProgress) };
    let summary =
        import_file(shell.server.handle.store(), path, options).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "Imported {} requests and {} events from\n{}\n\ninto the data set {}: pick its projects in the project switcher.",
        summary.requests,
        summary.events,
        path.display(),
        summary.dataset
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_suggested_name_says_what_and_when() {
        let at = chrono::Local.with_ymd_and_hms(2026, 11, 24, 9, 5, 0).unwrap();
        assert_eq!(suggested_export_name(at), "identity-inspector-2026-11-24-0905.iibundle");
    }
}
