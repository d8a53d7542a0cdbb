//! The shell's setup logic on Tauri's mock runtime (no display): the in-process server, the
//! window on its UI, menu actions, a second launch, and quitting with the writer flushed.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{App, Manager};

use super::*;
use crate::args::DEFAULT_BIND;
use crate::settings::Theme;
use native::{Filter, Native, Tone};

fn app() -> App<MockRuntime> {
    mock_builder().build(mock_context(noop_assets())).expect("mock app builds")
}

/// Dialogs answered by the test: what they were asked and told is recorded.
#[derive(Default)]
struct Scripted {
    save_to: Mutex<Option<PathBuf>>,
    pick: Mutex<Option<PathBuf>>,
    confirm: std::sync::atomic::AtomicBool,
    asked: Mutex<Vec<String>>,
    told: Mutex<Vec<(String, String, Tone)>>,
    clipboard: Mutex<Option<String>>,
    opened: Mutex<Vec<String>>,
}

impl Scripted {
    fn told(&self, title: &str) -> Option<(String, Tone)> {
        self.told.lock().unwrap().iter().find(|(t, _, _)| t == title).map(|(_, m, tone)| (m.clone(), *tone))
    }
}

impl Native for Scripted {
    fn pick_save_path(&self, title: &str, suggested_name: &str, _: Filter<'_>) -> Option<PathBuf> {
        self.asked.lock().unwrap().push(format!("{title} [{suggested_name}]"));
        self.save_to.lock().unwrap().clone()
    }
    fn pick_file(&self, title: &str, _: Filter<'_>) -> Option<PathBuf> {
        self.asked.lock().unwrap().push(title.to_owned());
        self.pick.lock().unwrap().clone()
    }
    fn confirm(&self, title: &str, message: &str, yes: &str) -> bool {
        self.asked.lock().unwrap().push(format!("{title}: {message} [{yes}]"));
        self.confirm.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn tell(&self, title: &str, message: &str, tone: Tone) {
        self.told.lock().unwrap().push((title.to_owned(), message.to_owned(), tone));
    }
    fn copy_text(&self, text: &str) -> Result<(), String> {
        *self.clipboard.lock().unwrap() = Some(text.to_owned());
        Ok(())
    }
    fn open_path(&self, path: &std::path::Path) -> Result<(), String> {
        self.opened.lock().unwrap().push(path.display().to_string());
        Ok(())
    }
    fn open_url(&self, url: &str) -> Result<(), String> {
        self.opened.lock().unwrap().push(url.to_owned());
        Ok(())
    }
}

fn options(dir: &std::path::Path, port: u16) -> ShellOptions {
    options_with(dir, port, Arc::new(Scripted::default()))
}

fn options_with(dir: &std::path::Path, port: u16, native: Arc<Scripted>) -> ShellOptions {
    let Acquired::First(lock) = instance::acquire(dir).unwrap() else { panic!("fresh data dir") };
    ShellOptions {
        plan: LaunchPlan { data_dir: dir.to_owned(), bind: DEFAULT_BIND, port, warnings: vec![] },
        settings: SettingsFile::load(dir),
        lock: Some(lock),
        test_probe: false,
        tray: false,
        native: Some(native),
    }
}

fn http(url: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    http_with(url, method, path, "", body)
}

/// `headers`: extra header lines, each ending in CRLF.
fn http_with(url: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn setup_serves_the_ui_and_opens_the_window_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let shell = app.state::<Shell>();
    let url = shell.server.url().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let window = app.get_webview_window(window::MAIN).expect("main window");
    assert_eq!(window.url().unwrap().as_str(), format!("{url}/"));
    // The mock runtime keeps no titles: check what the shell would set.
    assert_eq!(window::title(&shell), format!("Identity Inspector — {url}"));

    let (status, page) = http(&url, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("Identity Inspector"), "the server's UI: {page}");
    let (status, health) = http(&url, "GET", "/api/health", "");
    assert_eq!(status, 200, "{health}");
    assert!(health.contains(r#""paused":false"#), "{health}");

    // The instance lock now tells a second launch where this one is.
    let Acquired::Running(Some(info)) = instance::acquire(dir.path()).unwrap() else {
        panic!("lock held and published")
    };
    assert_eq!(info.url, url);
    assert_eq!(info.token, shell.server.handle.control().token());

    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn a_taken_port_falls_back_and_the_window_and_api_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let wanted = taken.local_addr().unwrap().port();
    let app = app();
    setup(app.handle(), options(dir.path(), wanted)).unwrap();
    let shell = app.state::<Shell>();
    let got = shell.server.fallback.expect("fell back").got;
    assert_ne!(got, wanted);
    let window = app.get_webview_window(window::MAIN).unwrap();
    assert!(window.url().unwrap().as_str().contains(&format!(":{got}/")));
    let (_, health) = http(shell.server.url(), "GET", "/api/health", "");
    assert!(health.contains("port_taken") && health.contains(&format!("Port {wanted} is in use")), "{health}");
    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn menu_actions_change_state_and_persist_settings() {
    let dir = tempfile::tempdir().unwrap();
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let handle = app.handle();
    let shell = app.state::<Shell>();

    actions::dispatch(handle, ids::PAUSE);
    assert!(shell.server.handle.control().is_paused());
    assert!(window::title(&shell).ends_with("(capture paused)"));
    let (_, health) = http(shell.server.url(), "GET", "/api/health", "");
    assert!(health.contains(r#""paused":true"#), "{health}");
    actions::dispatch(handle, ids::PAUSE);
    assert!(!shell.server.handle.control().is_paused());

    actions::dispatch(handle, ids::KEEP_IN_TRAY);
    actions::dispatch(handle, &ids::theme_id(Theme::Dark));
    actions::dispatch(handle, &format!("{}3", ids::RETENTION_PREFIX));
    let saved = SettingsFile::load(dir.path()).settings;
    assert!(saved.keep_running_in_tray);
    assert_eq!(saved.theme, Theme::Dark);
    assert_eq!(saved.retention.max_age_days, Some(7));
    assert_eq!(shell.server.handle.control().retention().max_age_days, Some(7), "applied to the running server");
    // Without a tray icon, closing the window must still quit.
    assert!(!shell.keeps_running_when_closed());

    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn a_second_launch_on_the_same_data_dir_brings_the_window_back() {
    let dir = tempfile::tempdir().unwrap();
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let shell = app.state::<Shell>();
    assert_eq!(shell.shows.load(std::sync::atomic::Ordering::SeqCst), 0);

    let Acquired::Running(info) = instance::acquire(dir.path()).unwrap() else {
        panic!("first instance holds the lock")
    };
    instance::wake_running(dir.path(), info, Duration::from_secs(5)).unwrap();
    wait_until("the window to be brought forward", || shell.shows.load(std::sync::atomic::Ordering::SeqCst) == 1);
    assert!(app.get_webview_window(window::MAIN).is_some());
    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn quitting_flushes_every_accepted_event_and_frees_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let url = app.state::<Shell>().server.url().to_owned();
    let batch =
        r#"{"api_key":"phc_desktop","batch":[{"event":"a","distinct_id":"d"},{"event":"b","distinct_id":"d"}]}"#;
    assert_eq!(http(&url, "POST", "/batch/", batch).0, 200);
    on_run_event(app.handle(), RunEvent::Exit);
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err(), "server stopped");
    let store = event_store::Store::open(dir.path()).unwrap();
    assert_eq!(store.totals().unwrap().events, 2);
}

#[test]
fn counts_are_grouped() {
    assert_eq!(actions::group_digits(0), "0");
    assert_eq!(actions::group_digits(1_234_567), "1 234 567");
    assert_eq!(actions::group_digits(999), "999");
}

#[test]
fn downloads_get_a_free_name_in_the_folder_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let first = window::download_path(dir.path(), Some("export.ndjson"), "/api/export");
    assert_eq!(first, dir.path().join("export.ndjson"));
    std::fs::write(&first, "x").unwrap();
    assert_eq!(window::download_path(dir.path(), Some("export.ndjson"), "/x"), dir.path().join("export (2).ndjson"));
    assert_eq!(window::download_path(dir.path(), None, "/api/export"), dir.path().join("export"));
    assert_eq!(window::download_path(dir.path(), Some("../../etc/passwd"), "/"), dir.path().join("passwd"));
    assert_eq!(window::download_path(dir.path(), None, "/"), dir.path().join("identity-inspector-download"));
}

#[test]
fn file_export_and_import_round_trip_through_a_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let shell = app.state::<Shell>();
    let batch = r#"{"api_key":"phc_menu","batch":[{"event":"$pageview","distinct_id":"anon-m"},{"event":"$identify","distinct_id":"user-m","properties":{"$anon_distinct_id":"anon-m"}}]}"#;
    assert_eq!(http(shell.server.url(), "POST", "/batch/", batch).0, 200);

    let file = dir.path().join("all.iibundle");
    let said = transfer::export_bundle(&shell, &file).unwrap();
    assert!(said.starts_with("Exported 1 requests (2 events)"), "{said}");
    let said = transfer::import_into(&shell, &file).unwrap();
    assert!(said.contains("Imported 1 requests and 2 events"), "{said}");
    let (_, datasets) = http(shell.server.url(), "GET", "/api/datasets", "");
    assert!(datasets.contains("import:all"), "{datasets}");
    let (_, persons) = http(shell.server.url(), "GET", "/api/persons?project=import:all/phc_menu", "");
    assert!(persons.contains("user-m") && persons.contains("anon-m"), "{persons}");

    let broken = dir.path().join("broken.iibundle");
    std::fs::write(&broken, b"not a bundle").unwrap();
    assert!(transfer::import_into(&shell, &broken).is_err());
    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn the_pages_theme_toggle_is_saved_and_the_next_launch_starts_in_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = app();
        setup(app.handle(), options(dir.path(), 0)).unwrap();
        let shell = app.state::<Shell>();
        let url = shell.server.url().to_owned();
        let (_, page) = http(&url, "GET", "/", "");
        assert!(page.contains(r#"<meta name="inspector-theme" content="system">"#), "{page}");
        // What the UI's toggle sends (ui/src/lib/state.svelte.ts).
        let token = format!("{}: {}\r\n", inspector_server::TOKEN_HEADER, shell.server.handle.control().token());
        let (status, body) = http_with(&url, "PUT", "/api/control/theme", &token, r#"{"theme":"dark"}"#);
        assert_eq!(status, 200, "{body}");
        wait_until("the settings file to say dark", || SettingsFile::load(dir.path()).settings.theme == Theme::Dark);
        assert_eq!(shell.settings().theme, Theme::Dark);
        on_run_event(app.handle(), RunEvent::Exit);
        // The process would exit here; background tasks keep the mock app's state alive.
        drop(shell._lock.lock().unwrap().take());
    }
    let app = app();
    setup(app.handle(), options(dir.path(), 0)).unwrap();
    let shell = app.state::<Shell>();
    let (_, page) = http(shell.server.url(), "GET", "/", "");
    assert!(page.contains(r#"<meta name="inspector-theme" content="dark">"#), "the window's page starts dark: {page}");
    // The menu's choice goes the same way, and to the page.
    actions::dispatch(app.handle(), &ids::theme_id(Theme::Light));
    assert_eq!(SettingsFile::load(dir.path()).settings.theme, Theme::Light);
    let (_, page) = http(shell.server.url(), "GET", "/", "");
    assert!(page.contains(r#"content="light""#), "{page}");
    on_run_event(app.handle(), RunEvent::Exit);
}

fn menu_texts(app: &App<MockRuntime>) -> Vec<(String, String)> {
    let status = app.state::<tray::TrayStatus<MockRuntime>>();
    status
        .menu
        .items()
        .unwrap()
        .into_iter()
        .filter_map(|item| {
            let text = match &item {
                tauri::menu::MenuItemKind::MenuItem(i) => i.text().ok()?,
                tauri::menu::MenuItemKind::Check(i) => format!("{} [{}]", i.text().ok()?, i.is_checked().ok()?),
                _ => return None,
            };
            Some((item.id().0.clone(), text))
        })
        .collect()
}

fn tray_text(app: &App<MockRuntime>, id: &str) -> String {
    menu_texts(app).into_iter().find(|(i, _)| i == id).map(|(_, t)| t).unwrap_or_else(|| panic!("no tray item {id}"))
}

#[test]
fn tray_items_copy_the_url_count_live_open_the_window_pause_and_open_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let native = Arc::new(Scripted::default());
    let app = app();
    setup(app.handle(), options_with(dir.path(), 0, native.clone())).unwrap();
    let shell = app.state::<Shell>();
    let url = shell.server.url().to_owned();
    let item_ids: Vec<String> = menu_texts(&app).into_iter().map(|(id, _)| id).collect();
    assert_eq!(item_ids, [ids::COPY_URL, "event-count", ids::OPEN_WINDOW, ids::PAUSE, ids::KEEP_IN_TRAY, ids::QUIT]);
    assert_eq!(tray_text(&app, ids::COPY_URL), format!("{url}  (click to copy)"));
    wait_until("the count line", || tray_text(&app, "event-count") == "0 events captured");

    // Each item does what it says, through the same dispatch as a click.
    let handle = app.handle();
    actions::dispatch(handle, ids::COPY_URL);
    assert_eq!(native.clipboard.lock().unwrap().as_deref(), Some(url.as_str()));

    let batch = r#"{"api_key":"phc_tray","batch":[{"event":"a","distinct_id":"d"},{"event":"b","distinct_id":"d"}]}"#;
    assert_eq!(http(&url, "POST", "/batch/", batch).0, 200);
    wait_until("the live count", || tray_text(&app, "event-count") == "2 events captured");

    actions::dispatch(handle, ids::PAUSE);
    assert!(shell.server.handle.control().is_paused());
    assert_eq!(tray_text(&app, ids::PAUSE), "Pause capture [true]", "the check follows the state");
    wait_until("the paused count line", || tray_text(&app, "event-count") == "2 events — capture paused");
    assert_eq!(http(&url, "POST", "/batch/", batch).0, 200, "SDKs still get their answer");
    actions::dispatch(handle, ids::PAUSE);
    assert_eq!(tray_text(&app, ids::PAUSE), "Pause capture [false]");
    assert_eq!(shell.server.handle.totals().unwrap().events, 2, "nothing stored while paused");

    let shows = shell.shows.load(std::sync::atomic::Ordering::SeqCst);
    app.get_webview_window(window::MAIN).unwrap().hide().unwrap();
    actions::dispatch(handle, ids::OPEN_WINDOW);
    assert_eq!(shell.shows.load(std::sync::atomic::Ordering::SeqCst), shows + 1);

    actions::dispatch(handle, ids::OPEN_DATA_FOLDER);
    assert_eq!(*native.opened.lock().unwrap(), [dir.path().display().to_string()]);
    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn clearing_deletes_only_after_the_user_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let native = Arc::new(Scripted::default());
    let app = app();
    setup(app.handle(), options_with(dir.path(), 0, native.clone())).unwrap();
    let shell = app.state::<Shell>();
    let batch = r#"{"api_key":"phc_clear","batch":[{"event":"a","distinct_id":"d"}]}"#;
    assert_eq!(http(shell.server.url(), "POST", "/batch/", batch).0, 200);

    // "Cancel": asked, with the counts and the folder, and nothing deleted.
    actions::confirm_then_clear(app.handle());
    let question = native.asked.lock().unwrap().pop().expect("asked first");
    assert!(question.starts_with("Clear all data: Delete 1 events and 1 requests"), "{question}");
    assert!(
        question.contains(&dir.path().display().to_string()) && question.ends_with("[Delete all data]"),
        "{question}"
    );
    assert_eq!(shell.server.handle.totals().unwrap().events, 1);

    // "Delete all data", through the menu item as a click would.
    native.confirm.store(true, std::sync::atomic::Ordering::SeqCst);
    actions::dispatch(app.handle(), ids::CLEAR_DATA);
    wait_until("the data to be cleared", || shell.server.handle.totals().unwrap().events == 0);
    assert_eq!(shell.server.handle.totals().unwrap().requests, 0);
    on_run_event(app.handle(), RunEvent::Exit);
}

#[test]
fn export_and_import_run_behind_their_file_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    let native = Arc::new(Scripted::default());
    let app = app();
    setup(app.handle(), options_with(dir.path(), 0, native.clone())).unwrap();
    let shell = app.state::<Shell>();
    let batch = r#"{"api_key":"phc_dlg","batch":[{"event":"$pageview","distinct_id":"anon-d"}]}"#;
    assert_eq!(http(shell.server.url(), "POST", "/batch/", batch).0, 200);

    // Cancelled: nothing written, nothing said.
    transfer::ask_and_export(&shell);
    assert!(native.asked.lock().unwrap()[0].contains("[identity-inspector-"), "a dated name is suggested");
    assert!(native.told.lock().unwrap().is_empty());

    let file = dir.path().join("picked.iibundle");
    *native.save_to.lock().unwrap() = Some(file.clone());
    actions::dispatch(app.handle(), ids::EXPORT);
    wait_until("the export to finish", || native.told("Export finished").is_some());
    assert!(file.is_file(), "written where the user picked");
    assert!(native.told("Export finished").unwrap().0.contains("1 requests (1 events)"));

    *native.pick.lock().unwrap() = Some(file.clone());
    actions::dispatch(app.handle(), ids::IMPORT);
    wait_until("the import to finish", || native.told("Import finished").is_some());
    let (_, datasets) = http(shell.server.url(), "GET", "/api/datasets", "");
    assert!(datasets.contains("import:picked"), "{datasets}");

    let broken = dir.path().join("broken.ndjson");
    std::fs::write(&broken, "{not json\n").unwrap();
    *native.pick.lock().unwrap() = Some(broken);
    transfer::ask_and_import(&shell);
    let (message, tone) = native.told("Nothing was imported").expect("an error is shown");
    assert_eq!(tone, Tone::Error);
    assert!(message.contains("broken.ndjson"), "{message}");
    on_run_event(app.handle(), RunEvent::Exit);
}
