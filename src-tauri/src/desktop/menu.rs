//! The window's menu bar. Every item is handled in `actions`; its ids are in `ids`, its check
//! items are kept in step by `checks`.

use tauri::menu::{CheckMenuItemBuilder, Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::{AppHandle, Manager, Runtime};

use super::checks::{self, Checks};
use super::ids::{self, THEMES};
use super::{actions, Shell};
use crate::settings::RETENTION_PRESETS;

pub fn install<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let (menu, items) = build(app)?;
    app.manage(std::sync::Mutex::new(items));
    app.set_menu(menu)?;
    app.on_menu_event(|app, event| actions::dispatch(app, event.id().as_ref()));
    checks::sync_checks(app);
    Ok(())
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
        .item(&item(ids::COPY_URL, "Copy capture URL", Some("CmdOrCtrl+Shift+C"))?)
        .item(&item(ids::OPEN_DATA_FOLDER, "Open data folder", None)?)
        .separator()
        .item(&item(ids::EXPORT, "Export all as a bundle…", Some("CmdOrCtrl+E"))?)
        .item(&item(ids::IMPORT, "Import a bundle, HAR or NDJSON…", Some("CmdOrCtrl+O"))?)
        .separator()
        .item(&item(ids::CLEAR_DATA, "Clear all data…", None)?)
        .separator()
        .item(&item(ids::QUIT, "Quit", Some("CmdOrCtrl+Q"))?)
        .build()?;

    let pause = check(ids::PAUSE, "Pause capture", Some("CmdOrCtrl+Shift+P"))?;
    let keep = check(ids::KEEP_IN_TRAY, "Keep running in tray when the window closes", None)?;
    keep.set_enabled(shell.has_tray.load(std::sync::atomic::Ordering::SeqCst))?;
    let mut retention = Vec::new();
    let mut retention_menu = SubmenuBuilder::new(app, "Keep data");
    for (index, (label, _)) in RETENTION_PRESETS.iter().enumerate() {
        let entry = check(&format!("{}{index}", ids::RETENTION_PREFIX), label, None)?;
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
        let entry = check(&ids::theme_id(theme), label, None)?;
        theme_menu = theme_menu.item(&entry);
        themes.push((theme, entry));
    }
    let view = SubmenuBuilder::new(app, "View")
        .item(&theme_menu.build()?)
        .item(&item(ids::RELOAD, "Reload", Some("CmdOrCtrl+R"))?)
        .item(&item(ids::OPEN_IN_BROWSER, "Open in browser", None)?)
        .separator()
        .item(&item(ids::EDIT_SETTINGS, "Edit settings file (port, address)…", None)?)
        .build()?;

    let help = SubmenuBuilder::new(app, "Help").item(&item(ids::ABOUT, "About Identity Inspector", None)?).build()?;

    let menu = MenuBuilder::new(app).items(&[&file, &capture, &view, &help]).build()?;
    Ok((menu, Checks { pause: vec![pause], keep_in_tray: vec![keep], themes, retention }))
}
