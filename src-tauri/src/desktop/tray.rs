//! The tray icon: the capture URL (click to copy), the live event count, open window, pause
//! capture, keep running, quit. On Linux it needs libayatana-appindicator3 at run time; without
//! it there is no tray and closing the window quits.

use std::time::Duration;

use tauri::menu::{CheckMenuItemBuilder, Menu, MenuBuilder, MenuItem, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use super::checks::{self, Checks};
use super::ids;
use super::{actions, window, Shell};

const TRAY_ID: &str = "main";
const COUNT_ID: &str = "event-count";

/// The tray's menu and its live line (the count), updated by `spawn_live_status`.
pub struct TrayStatus<R: Runtime> {
    /// The menu the icon shows (read by the tests, which have no icon).
    #[cfg_attr(not(test), allow(dead_code))]
    pub menu: Menu<R>,
    pub count: MenuItem<R>,
}

/// Whether a tray icon can be shown here.
pub fn available() -> bool {
    #[cfg(target_os = "linux")]
    {
        // Tauri loads the indicator library at run time and panics if it is missing.
        ["libayatana-appindicator3.so.1", "libappindicator3.so.1"].iter().any(|name| {
            let name = std::ffi::CString::new(*name).expect("no NUL");
            // SAFETY: dlopen with a valid C string; the handle is only checked, never used, and
            // the library stays loaded (Tauri opens it again by the same name).
            !unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY) }.is_null()
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Builds the tray's menu and, with `icon`, the icon showing it. Without the icon the menu
/// exists all the same (its items and live count are what the tests drive).
pub fn install<R: Runtime>(app: &AppHandle<R>, icon: bool) -> tauri::Result<()> {
    let shell = app.state::<Shell>();
    let url = shell.server.url().to_owned();
    let copy = MenuItemBuilder::with_id(ids::COPY_URL, format!("{url}  (click to copy)")).build(app)?;
    let count = MenuItemBuilder::with_id(COUNT_ID, count_text(0, false)).enabled(false).build(app)?;
    let open = MenuItemBuilder::with_id(ids::OPEN_WINDOW, "Open window").build(app)?;
    let pause = CheckMenuItemBuilder::with_id(ids::PAUSE, "Pause capture").build(app)?;
    let keep = CheckMenuItemBuilder::with_id(ids::KEEP_IN_TRAY, "Keep running when the window closes").build(app)?;
    let quit = MenuItemBuilder::with_id(ids::QUIT, "Quit Identity Inspector").build(app)?;
    let menu = MenuBuilder::new(app)
        .items(&[&copy, &count])
        .separator()
        .items(&[&open, &pause, &keep])
        .separator()
        .item(&quit)
        .build()?;
    if icon {
        let mut builder = TrayIconBuilder::with_id(TRAY_ID)
            .tooltip(format!("Identity Inspector — {url}"))
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(|app, event| actions::dispatch(app, event.id().as_ref()));
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        builder.build(app)?;
    }
    if let Some(checks) = app.try_state::<std::sync::Mutex<Checks<R>>>() {
        let mut checks = checks.lock().unwrap_or_else(|p| p.into_inner());
        checks.pause.push(pause);
        checks.keep_in_tray.push(keep);
    }
    app.manage(TrayStatus { menu, count });
    checks::sync_checks(app);
    Ok(())
}

pub fn count_text(events: i64, paused: bool) -> String {
    let n = crate::desktop::actions::group_digits(events);
    if paused {
        format!("{n} events — capture paused")
    } else {
        format!("{n} events captured")
    }
}

/// Keeps the tray's count and the window title current: re-reads the totals after commits (at
/// most about once a second, however busy capture is) and shows a pause toggle within a second.
/// Idle, it reads nothing.
pub fn spawn_live_status<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let server = handle.state::<Shell>().server.handle.clone();
        let mut changes = server.subscribe();
        let mut events = 0;
        let mut stale = true;
        let mut shown: Option<(i64, bool)> = None;
        loop {
            if stale {
                let reader = server.clone();
                let read = tauri::async_runtime::spawn_blocking(move || reader.totals().map(|t| t.events)).await;
                events = read.ok().and_then(Result::ok).unwrap_or(events);
                stale = false;
            }
            let paused = server.control().is_paused();
            if shown != Some((events, paused)) {
                shown = Some((events, paused));
                if let Some(status) = handle.try_state::<TrayStatus<R>>() {
                    let _ = status.count.set_text(count_text(events, paused));
                }
                let app = handle.clone();
                let _ = handle.run_on_main_thread(move || window::refresh_title(&app));
            }
            tokio::select! {
                changed = changes.recv() => match changed {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // A commit, a prune, or missed announcements: the count moved.
                    _ => {
                        stale = true;
                        // Let a burst finish so it costs one read.
                        tokio::time::sleep(Duration::from_millis(700)).await;
                        while changes.try_recv().is_ok() {}
                    }
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}
