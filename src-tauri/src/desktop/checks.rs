//! Check items whose state mirrors the app's. GTK flips a check item itself when clicked, so after
//! every action (`actions::dispatch`) and every outside change they are re-synced from the real state.

use tauri::menu::CheckMenuItem;
use tauri::{AppHandle, Manager, Runtime};

use super::Shell;
use crate::settings::{Theme, RETENTION_PRESETS};

/// Check items whose state mirrors the app's (the menu bar's and the tray's).
pub struct Checks<R: Runtime> {
    pub pause: Vec<CheckMenuItem<R>>,
    pub keep_in_tray: Vec<CheckMenuItem<R>>,
    pub themes: Vec<(Theme, CheckMenuItem<R>)>,
    pub retention: Vec<(usize, CheckMenuItem<R>)>,
}

impl<R: Runtime> Checks<R> {
    /// Sets every check item from the current state.
    pub fn sync(&self, shell: &Shell) {
        let settings = shell.settings();
        let paused = shell.server.handle.control().is_paused();
        for item in &self.pause {
            let _ = item.set_checked(paused);
        }
        for item in &self.keep_in_tray {
            let _ = item.set_checked(settings.keep_running_in_tray);
        }
        for (theme, item) in &self.themes {
            let _ = item.set_checked(*theme == settings.theme);
        }
        for (index, item) in &self.retention {
            let _ = item.set_checked(RETENTION_PRESETS[*index].1 == settings.retention);
        }
    }
}

pub fn sync_checks<R: Runtime>(app: &AppHandle<R>) {
    let (Some(checks), Some(shell)) = (app.try_state::<std::sync::Mutex<Checks<R>>>(), app.try_state::<Shell>()) else {
        return;
    };
    checks.lock().unwrap_or_else(|p| p.into_inner()).sync(&shell);
}
