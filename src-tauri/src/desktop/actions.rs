//! What menu and tray items do. Destructive ones ask first in a native dialog. Dialogs, the
//! clipboard and the opener go through `Shell::native` (see `native`), and every dialog is
//! asked from a blocking worker, never on the main thread.

use tauri::{AppHandle, Manager, Runtime};

use super::native::Tone;

use super::checks;
use super::ids::{self, THEMES};
use super::{window, Shell};
use crate::settings::RETENTION_PRESETS;

pub fn dispatch<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        ids::QUIT => quit(app),
        ids::OPEN_WINDOW => window::show_main(app),
        ids::COPY_URL => copy_url(app),
        ids::OPEN_DATA_FOLDER => open_data_folder(app),
        ids::CLEAR_DATA => confirm_clear(app),
        ids::EXPORT => super::transfer::export_dialog(app),
        ids::IMPORT => super::transfer::import_dialog(app),
        ids::PAUSE => toggle_pause(app),
        ids::KEEP_IN_TRAY => app.state::<Shell>().update_settings(|s| s.keep_running_in_tray = !s.keep_running_in_tray),
        ids::RELOAD => reload(app),
        ids::OPEN_IN_BROWSER => open_in_browser(app),
        ids::EDIT_SETTINGS => edit_settings(app),
        ids::ABOUT => about(app),
        other => {
            if let Some((theme, _)) = THEMES.iter().find(|(t, _)| ids::theme_id(*t) == other) {
                let shell = app.state::<Shell>();
                shell.server.handle.control().set_theme(*theme);
                shell.update_settings(|s| s.theme = *theme);
                window::apply_theme(app, *theme);
            } else if let Some(index) = other.strip_prefix(ids::RETENTION_PREFIX).and_then(|i| i.parse::<usize>().ok())
            {
                set_retention(app, index);
            } else {
                tracing::debug!("unhandled menu item {other}");
            }
        }
    }
    checks::sync_checks(app);
}

/// Saves the window's place, then exits; `RunEvent::Exit` stops the server and flushes it.
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(window::MAIN) {
        window::remember_geometry(app, &w);
    }
    app.exit(0);
}

pub fn toggle_pause<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let control = shell.server.handle.control();
    control.set_paused(!control.is_paused());
    window::refresh_title(app);
}

fn copy_url<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    if let Err(e) = shell.native.copy_text(shell.server.url()) {
        tracing::error!("cannot copy to the clipboard: {e}");
    }
}

fn open_data_folder<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    if let Err(e) = shell.native.open_path(&shell.data_dir) {
        error_dialog(app, "Cannot open the data folder", &format!("{}: {e}", shell.data_dir.display()));
    }
}

fn open_in_browser<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let url = format!("{}/", shell.server.url());
    if let Err(e) = shell.native.open_url(&url) {
        error_dialog(app, "Cannot open a browser", &format!("{url}: {e}"));
    }
}

fn edit_settings<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let path = {
        let file = shell.settings.lock().unwrap_or_else(|p| p.into_inner());
        // Make sure there is a file to edit, with every field spelled out.
        if let Err(e) = file.save() {
            return error_dialog(app, "Cannot write the settings file", &e.to_string());
        }
        file.path().to_owned()
    };
    if let Err(e) = shell.native.open_path(&path) {
        error_dialog(app, "Cannot open the settings file", &format!("{}: {e}", path.display()));
        return;
    }
    let message = format!(
        "The settings file is open in your editor:\n{}\n\nChanges to port, bind and allow_network apply at the next launch. \
         A non-loopback bind also needs \"allow_network\": true, and exposes captured data to your network.",
        path.display()
    );
    tell(app, "Settings", message, Tone::Info);
}

fn reload<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(window::MAIN) {
        let _ = w.eval("location.reload()");
    }
}

fn set_retention<R: Runtime>(app: &AppHandle<R>, index: usize) {
    let Some((_, policy)) = RETENTION_PRESETS.get(index) else { return };
    let shell = app.state::<Shell>();
    shell.update_settings(|s| s.retention = *policy);
    shell.server.handle.control().set_retention(*policy);
}

fn confirm_clear<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || confirm_then_clear(&handle));
}

/// Asks, then clears only on "Delete all data". Blocking: runs on a worker.
pub(super) fn confirm_then_clear<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let what = match shell.server.handle.totals() {
        Ok(t) => format!("{} events and {} requests", group_digits(t.events), group_digits(t.requests)),
        Err(_) => "every stored event and request".to_owned(),
    };
    let message = format!(
        "Delete {what} (and imported data sets) from {}?\n\nThis cannot be undone. Capture goes on afterwards.",
        shell.data_dir.display()
    );
    if !shell.native.confirm("Clear all data", &message, "Delete all data") {
        return;
    }
    match shell.server.handle.clear_all() {
        Ok(removed) => {
            tracing::info!(events = removed.events, "all data cleared from the menu");
            let handle = app.clone();
            // The page's lists were built from data that is gone.
            let _ = app.run_on_main_thread(move || reload(&handle));
        }
        Err(e) => shell.native.tell("Could not clear the data", &e.to_string(), Tone::Error),
    }
}

fn about<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let message = format!(
        "Identity Inspector {}\n\nSee how analytics SDKs turn anonymous ids into persons, locally.\n\n\
         Capture URL: {}\nData: {}\nSettings: {}\n\nTauri {}",
        env!("CARGO_PKG_VERSION"),
        shell.server.url(),
        shell.data_dir.display(),
        shell.settings.lock().unwrap_or_else(|p| p.into_inner()).path().display(),
        tauri::VERSION,
    );
    tell(app, "About Identity Inspector", message, Tone::Info);
}

/// Shows a message from a worker (the main thread keeps running meanwhile).
pub fn tell<R: Runtime>(app: &AppHandle<R>, title: &str, message: String, tone: Tone) {
    let handle = app.clone();
    let title = title.to_owned();
    tauri::async_runtime::spawn_blocking(move || handle.state::<Shell>().native.tell(&title, &message, tone));
}

pub fn error_dialog<R: Runtime>(app: &AppHandle<R>, title: &str, detail: &str) {
    tracing::error!("{title}: {detail}");
    tell(app, title, detail.to_owned(), Tone::Error);
}

/// 1234567 → "1 234 567" (the README's style).
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
