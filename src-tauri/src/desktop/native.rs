//! What the menu and tray actions ask of the desktop around them: native dialogs, the
//! clipboard, opening a folder or URL. Behind a trait so the actions' tests answer the dialogs
//! themselves (a path, "yes", "cancel") and check what the user was told; the app uses
//! [`TauriNative`].
//!
//! Invariant: the dialog methods block until the user answers, so they are only ever called
//! from a blocking worker thread (`spawn_blocking`), never on the main (GTK) thread, which must
//! keep running for the dialog to show at all.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
use tauri_plugin_opener::OpenerExt;

/// How a message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Error,
}

/// A file filter in a file dialog: its label and extensions (no dots).
pub struct Filter<'a> {
    pub label: &'a str,
    pub extensions: &'a [&'a str],
}

pub trait Native: Send + Sync {
    /// "Save as": the path picked, or `None` when cancelled. Blocks.
    fn pick_save_path(&self, title: &str, suggested_name: &str, filter: Filter<'_>) -> Option<PathBuf>;
    /// "Open": the file picked, or `None` when cancelled. Blocks.
    fn pick_file(&self, title: &str, filter: Filter<'_>) -> Option<PathBuf>;
    /// A yes/no question with `yes` as the confirming button's label; true only for yes. Blocks.
    fn confirm(&self, title: &str, message: &str, yes: &str) -> bool;
    /// Tells the user something and waits until it is dismissed. Blocks.
    fn tell(&self, title: &str, message: &str, tone: Tone);
    fn copy_text(&self, text: &str) -> Result<(), String>;
    /// Opens a folder or file with the desktop's default application.
    fn open_path(&self, path: &Path) -> Result<(), String>;
    fn open_url(&self, url: &str) -> Result<(), String>;
}

/// The real thing: Tauri's dialog, clipboard and opener plugins.
pub struct TauriNative<R: Runtime> {
    pub app: AppHandle<R>,
}

impl<R: Runtime> Native for TauriNative<R> {
    fn pick_save_path(&self, title: &str, suggested_name: &str, filter: Filter<'_>) -> Option<PathBuf> {
        let picked = self
            .app
            .dialog()
            .file()
            .set_title(title)
            .add_filter(filter.label, filter.extensions)
            .set_file_name(suggested_name)
            .blocking_save_file()?;
        picked.into_path().ok()
    }

    fn pick_file(&self, title: &str, filter: Filter<'_>) -> Option<PathBuf> {
        let picked = self
            .app
            .dialog()
            .file()
            .set_title(title)
            .add_filter(filter.label, filter.extensions)
            .blocking_pick_file()?;
        picked.into_path().ok()
    }

    fn confirm(&self, title: &str, message: &str, yes: &str) -> bool {
        self.app
            .dialog()
            .message(message)
            .title(title)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(yes.into(), "Cancel".into()))
            .blocking_show()
    }

    fn tell(&self, title: &str, message: &str, tone: Tone) {
        let kind = match tone {
            Tone::Info => MessageDialogKind::Info,
            Tone::Error => MessageDialogKind::Error,
        };
        self.app.dialog().message(message).title(title).kind(kind).blocking_show();
    }

    fn copy_text(&self, text: &str) -> Result<(), String> {
        self.app.clipboard().write_text(text.to_owned()).map_err(|e| e.to_string())
    }

    fn open_path(&self, path: &Path) -> Result<(), String> {
        self.app.opener().open_path(path.to_string_lossy(), None::<&str>).map_err(|e| e.to_string())
    }

    fn open_url(&self, url: &str) -> Result<(), String> {
        self.app.opener().open_url(url, None::<&str>).map_err(|e| e.to_string())
    }
}
