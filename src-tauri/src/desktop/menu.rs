//! The window's menu bar. Every item is handled in `actions`; check items are re-synced from the
//! real state after each action (GTK flips a check item itself when clicked).

use tauri::menu::{CheckMenuItem, CheckMenuItemBuilder, Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::{AppHandle, Manager, Runtime};

use super::{actions, Shell};
use crate::settings::{Theme, RETENTION_PRESETS};

pub const QUIT: &str = "quit";
pub const OPEN_WINDOW: &str = "open-window";
pub const COPY_URL: &str = "copy-url";
pub const OPEN_DATA_FOLDER: &str = "open-data-folder";
pub const CLEAR_DATA: &str = "clear-data";
pub const EXPORT: &str = "export";
pub const IMPORT: &str = "import";
pub const PAUSE: &str = "pause";
pub const KEEP_IN_TRAY: &str = "keep-in-tray";
pub const RELOAD: &str = "reload";
pub const OPEN_IN_BROWSER: &str = "open-in-browser";
pub const EDIT_SETTINGS: &str = "edit-settings";
pub const ABOUT: &str = "about";
pub const THEME_PREFIX: &str = "theme:";
pub const RETENTION_PREFIX: &str = "retention:";

pub const THEMES: [(Theme, &str); 3] = [(Theme::System, "System"), (Theme::Light, "Light"), (Theme::Dark, "Dark")];

pub fn theme_id(theme: Theme) -> String {
    format!("{THEME_PREFIX}{}", theme.as_str())
}

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

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let (menu, checks) = build(app)?;
    app.manage(std::sync::Mutex::new(checks));
    app.set_menu(menu)?;
    app.on_menu_event(|app, event| actions::dispatch(app, event.id().as_ref()));
    sync_checks(app);
    Ok(())
}

pub fn sync_checks<R: Runtime>(app: &AppHandle<R>) {
    let (Some(checks), Some(shell)) = (app.try_state::<std::sync::Mutex<Checks<R>>>(), app.try_state::<Shell>()) else {
        return;
    };
    checks.lock().unwrap_or_else(|p| p.into_inner()).sync(&shell);
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<(Menu<R>, Checks<R>)> {
    let shell = app.state::<Shell>();
    let item = |id: &str, text: &str, accelerator: Option<&str>| {
        let mut b = MenuItemBuilder::with_id(id, text);
        if let Some(a) = accelerator {
            b = b.accelerator(a);
        }
        b.build(app)
    };
    let check = |id: &str, text: &str, accelerator: Option<&str>| {
        let mut b = CheckMenuItemBuilder::with_id(id, text);
        if let Some(a) = accelerator {
            b = b.accelerator(a);
        }
        b.build(app)
    };

    let file = SubmenuBuilder::new(app, "File")
        .item(&item(COPY_URL, "Copy capture URL", Some("CmdOrCtrl+Shift+C"))?)
        .item(&item(OPEN_DATA_FOLDER, "Open data folder", None)?)
        .separator()
        .item(&item(EXPORT, "Export all as a bundle…", Some("CmdOrCtrl+E"))?)
        .item(&item(IMPORT, "Import a bundle, HAR or NDJSON…", Some("CmdOrCtrl+O"))?)
        .separator()
        .item(&item(CLEAR_DATA, "Clear all data…", None)?)
        .separator()
        .item(&item(QUIT, "Quit", Some("CmdOrCtrl+Q"))?)
        .build()?;

    let pause = check(PAUSE, "Pause capture", Some("CmdOrCtrl+Shift+P"))?;
    let keep = check(KEEP_IN_TRAY, "Keep running in tray when the window closes", None)?;
    keep.set_enabled(shell.has_tray.load(std::sync::atomic::Ordering::SeqCst))?;
    let mut retention = Vec::new();
    let mut retention_menu = SubmenuBuilder::new(app, "Keep data");
    for (index, (label, _)) in RETENTION_PRESETS.iter().enumerate() {
        let entry = check(&format!("{RETENTION_PREFIX}{index}"), label, None)?;
        retention_menu = retention_menu.item(&entry);
        retention.push((index, entry));
    }
    let capture = SubmenuBuilder::new(app, "Capture")
        .item(&pause)
        .item(&retention_menu.build()?)
        .separator()
        .item(&keep)
        .build()?;

    let mut themes = Vec::new();
    let mut theme_menu = SubmenuBuilder::new(app, "Theme");
    for (theme, label) in THEMES {
        let entry = check(&theme_id(theme), label, None)?;
        theme_menu = theme_menu.item(&entry);
        themes.push((theme, entry));
    }
    let view = SubmenuBuilder::new(app, "View")
        .item(&theme_menu.build()?)
        .item(&item(RELOAD, "Reload", Some("CmdOrCtrl+R"))?)
        .item(&item(OPEN_IN_BROWSER, "Open in browser", None)?)
        .separator()
        .item(&item(EDIT_SETTINGS, "Edit settings file (port, address)…", None)?)
        .build()?;

    let help = SubmenuBuilder::new(app, "Help").item(&item(ABOUT, "About Identity Inspector", None)?).build()?;

    let menu = MenuBuilder::new(app).items(&[&file, &capture, &view, &help]).build()?;
    Ok((menu, Checks { pause: vec![pause], keep_in_tray: vec![keep], themes, retention }))
}
