//! File ▸ Export… and Import…: native file dialogs around the same export and import as the
//! CLI and the API (`session_export`), run off the main thread. Export writes a bundle of all
//! live traffic (the page's own export buttons cover sessions, devices and persons); import
//! puts a file into its own data set, all or nothing.

use std::path::PathBuf;
use std::sync::Arc;

use session_export::{export, import_file, ExportFormat, ImportOptions, NoProgress, Scope};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::{DialogExt, FilePath};

use super::{actions, Shell};

/// The file name the save dialog suggests.
pub fn suggested_export_name(now: chrono::DateTime<chrono::Local>) -> String {
    format!("identity-inspector-{}.{}", now.format("%Y-%m-%d-%H%M"), ExportFormat::Bundle.extension())
}

pub fn export_dialog<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    app.dialog()
        .file()
        .set_title("Export all live traffic as an Inspector bundle")
        .add_filter("Inspector bundle", &[ExportFormat::Bundle.extension()])
        .set_file_name(suggested_export_name(chrono::Local::now()))
        .save_file(move |picked| {
            if let Some(path) = picked.and_then(local_path) {
                run_export(&handle, path);
            }
        });
}

pub fn import_dialog<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    app.dialog()
        .file()
        .set_title("Import a bundle, a HAR or NDJSON into its own data set")
        .add_filter("Inspector bundle, HAR, NDJSON", &["iibundle", "har", "zip", "ndjson", "jsonl", "json"])
        .pick_file(move |picked| {
            if let Some(path) = picked.and_then(local_path) {
                run_import(&handle, path);
            }
        });
}

fn local_path(picked: FilePath) -> Option<PathBuf> {
    picked.into_path().ok()
}

fn run_export<R: Runtime>(app: &AppHandle<R>, path: PathBuf) {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || match export_bundle(&handle.state::<Shell>(), &path) {
        Ok(message) => info_dialog(&handle, "Export finished", &message),
        Err(e) => actions::error_dialog(&handle, "Could not export", &e),
    });
}

fn run_import<R: Runtime>(app: &AppHandle<R>, path: PathBuf) {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || match import_into(&handle.state::<Shell>(), &path) {
        Ok(message) => info_dialog(&handle, "Import finished", &message),
        Err(e) => actions::error_dialog(&handle, "Nothing was imported", &e),
    });
}

/// Every live request as a bundle at `path`; says what was written.
pub(super) fn export_bundle(shell: &Shell, path: &std::path::Path) -> Result<String, String> {
    let store = shell.server.handle.store();
    let selection = Scope::default().selection()?;
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
    let options = ImportOptions {
        name: None,
        source_name: None,
        decoder: Arc::new(inspector_server::decode_raw),
        progress: Arc::new(NoProgress),
    };
    let summary = import_file(shell.server.handle.store(), path, options).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "Imported {} requests and {} events from\n{}\n\ninto the data set {}: pick its projects in the project switcher.",
        summary.requests,
        summary.events,
        path.display(),
        summary.dataset
    ))
}

fn info_dialog<R: Runtime>(app: &AppHandle<R>, title: &str, message: &str) {
    tracing::info!("{title}: {message}");
    app.dialog().message(message).title(title).show(|_| {});
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
