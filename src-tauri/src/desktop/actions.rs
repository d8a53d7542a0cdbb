//! What menu and tray items do. Destructive ones ask first in a native dialog.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
use tauri_plugin_opener::OpenerExt;

use super::menu::{self as ids, THEMES};
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
            } else if let Some(index) = other.strip_prefix(ids::RETENTION_PREFIX).and_then(|i| i.parse::<usize>().ok()) {
                set_retention(app, index);
            } else {
                tracing::debug!("unhandled menu item {other}");
            }
        }
    }
    ids::sync_checks(app);
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
    let url = app.state::<Shell>().server.url().to_owned();
    if let Err(e) = app.clipboard().write_text(url) {
        tracing::error!("cannot copy to the clipboard: {e}");
    }
}

fn open_data_folder<R: Runtime>(app: &AppHandle<R>) {
    let dir = app.state::<Shell>().data_dir.clone();
    if let Err(e) = app.opener().open_path(dir.to_string_lossy(), None::<&str>) {
        error_dialog(app, "Cannot open the data folder", &format!("{}: {e}", dir.display()));
    }
}

fn open_in_browser<R: Runtime>(app: &AppHandle<R>) {
    let url = format!("{}/", app.state::<Shell>().server.url());
    if let Err(e) = app.opener().open_url(&url, None::<&str>) {
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
    if let Err(e) = app.opener().open_path(path.to_string_lossy(), None::<&str>) {
        error_dialog(app, "Cannot open the settings file", &format!("{}: {e}", path.display()));
        return;
    }
    app.dialog()
        .message(format!(
            "The settings file is open in your editor:\n{}\n\nChanges to port, bind and allow_network apply at the next launch. \
             A non-loopback bind also needs \"allow_network\": true, and exposes captured data to your network.",
            path.display()
        ))
        .title("Settings")
        .show(|_| {});
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
    let shell = app.state::<Shell>();
    let totals = shell.server.handle.totals().ok();
    let what = match totals {
        Some(t) => format!("{} events and {} requests", group_digits(t.events), group_digits(t.requests)),
        None => "every stored event and request".to_owned(),
    };
    let message = format!(
        "Delete {what} (and imported data sets) from {}?\n\nThis cannot be undone. Capture goes on afterwards.",
        shell.data_dir.display()
    );
    let handle = app.clone();
    app.dialog()
        .message(message)
        .title("Clear all data")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom("Delete all data".into(), "Cancel".into()))
        .show(move |confirmed| {
            if confirmed {
                clear(&handle);
            }
        });
}

fn clear<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let server = handle.state::<Shell>().server.handle.clone();
        let result = tauri::async_runtime::spawn_blocking(move || server.clear_all()).await;
        match result {
            Ok(Ok(removed)) => {
                tracing::info!(events = removed.events, "all data cleared from the menu");
                let app = handle.clone();
                // The page's lists were built from data that is gone.
                let _ = handle.run_on_main_thread(move || reload(&app));
            }
            Ok(Err(e)) => error_dialog(&handle, "Could not clear the data", &e.to_string()),
            Err(e) => error_dialog(&handle, "Could not clear the data", &e.to_string()),
        }
    });
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
    app.dialog().message(message).title("About Identity Inspector").show(|_| {});
}

pub fn error_dialog<R: Runtime>(app: &AppHandle<R>, title: &str, detail: &str) {
    tracing::error!("{title}: {detail}");
    app.dialog().message(detail).title(title).kind(MessageDialogKind::Error).show(|_| {});
}

/// 1234567 → "1 234 567" (the README's style).
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
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
