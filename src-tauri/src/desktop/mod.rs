//! The Tauri 2 shell: the same server, in-process, and a window on its UI, plus a tray, native
//! menus and dialogs. Kept thin: everything that needs no display (settings, precedence, port
//! fallback, single instance, the server's lifecycle) lives in plain modules with unit tests;
//! the files here only wire them to Tauri.
//!
//! Invariants:
//! - Quitting (menu, tray, Ctrl+Q, SIGTERM, last window closed without "keep running in tray")
//!   always ends in `RunEvent::Exit`, which stops the server and waits until every accepted
//!   request is committed before the process exits.
//! - The window shows `http://127.0.0.1:<port>/` from the in-process server: the very UI a browser
//!   gets. The page has no Tauri IPC; native features live in menus, the tray and dialogs.

mod actions;
mod checks;
mod ids;
mod menu;
pub mod native;
mod transfer;
mod tray;
mod window;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use inspector_server::Notice;
use tauri::{AppHandle, Manager, RunEvent, Runtime};

use crate::args::ServerArgs;
use crate::embedded::{EmbeddedError, EmbeddedServer};
use crate::instance::{self, Acquired, InstanceLock};
use crate::launch::LaunchPlan;
use crate::settings::{Settings, SettingsFile};

/// How long quitting waits for the writer to flush before giving up.
const STOP_PATIENCE: Duration = Duration::from_secs(15);

/// Everything `setup` needs, decided before Tauri starts.
pub struct ShellOptions {
    pub plan: LaunchPlan,
    pub settings: SettingsFile,
    pub lock: Option<InstanceLock>,
    pub test_probe: bool,
    /// Off in mock-runtime tests: the tray icon talks to the desktop environment directly (its
    /// menu is still built, and its items work the same).
    pub tray: bool,
    /// Dialogs, clipboard and opener; `None`: the real ones (tests pass scripted answers).
    pub native: Option<std::sync::Arc<dyn native::Native>>,
}

/// The shell's state, managed by Tauri.
pub struct Shell {
    pub server: EmbeddedServer,
    pub settings: Mutex<SettingsFile>,
    pub data_dir: PathBuf,
    pub test_probe: bool,
    /// A tray icon exists: closing the window may then keep the app running.
    /// Cleared when the icon could not be created after all (see `tray::install`).
    pub has_tray: std::sync::atomic::AtomicBool,
    /// How many times the window was brought forward (a second launch, the tray).
    pub shows: std::sync::atomic::AtomicUsize,
    pub native: std::sync::Arc<dyn native::Native>,
    _lock: Mutex<Option<InstanceLock>>,
}

impl Shell {
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).settings.clone()
    }

    /// Changes the settings and saves them; a failed save is logged, the change still applies.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) {
        let mut file = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut file.settings);
        if let Err(e) = file.save() {
            tracing::error!("{e}");
        }
    }

    /// Whether closing the window should only hide it.
    pub fn keeps_running_when_closed(&self) -> bool {
        self.has_tray.load(std::sync::atomic::Ordering::SeqCst) && self.settings().keep_running_in_tray
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error(transparent)]
    Server(#[from] EmbeddedError),
    #[error(transparent)]
    Tauri(#[from] tauri::Error),
    #[error("cannot open the window on {url}: {reason}")]
    Window { url: String, reason: String },
}

/// `identity-inspector` with no subcommand.
pub fn run(args: ServerArgs, test_probe: bool) -> ExitCode {
    let data_dir = args.data_dir();
    let settings = SettingsFile::load(&data_dir);
    let plan = match LaunchPlan::resolve(&args, data_dir.clone(), &settings.settings) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let lock = match instance::acquire(&data_dir) {
        Ok(Acquired::First(lock)) => lock,
        Ok(Acquired::Running(info)) => return wake_first_instance(&data_dir, info),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = ShellOptions { plan, settings, lock: Some(lock), test_probe, tray: true, native: None };
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(move |app| {
            setup(app.handle(), options)?;
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start the desktop app: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = app.run_return(on_run_event);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn wake_first_instance(data_dir: &std::path::Path, info: Option<instance::RunningInstance>) -> ExitCode {
    match instance::wake_running(data_dir, info, Duration::from_secs(10)) {
        Ok(info) => {
            println!(
                "Identity Inspector is already running for {} (pid {}, {}); its window was brought forward.",
                data_dir.display(),
                info.pid,
                info.url
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: another Identity Inspector holds {} but {e}", data_dir.display());
            ExitCode::FAILURE
        }
    }
}

/// Starts the server and builds the window, menus and tray. Separate from `run` so the
/// mock-runtime tests can call it (Tauri's test builder does not run `setup` hooks).
pub fn setup<R: Runtime>(app: &AppHandle<R>, options: ShellOptions) -> Result<(), DesktopError> {
    let ShellOptions { plan, settings, lock, test_probe, tray, native } = options;
    let native = native.unwrap_or_else(|| std::sync::Arc::new(native::TauriNative { app: app.clone() }));
    let mut notices: Vec<Notice> =
        plan.warnings.iter().map(|w| Notice::warning("network_exposed", w.clone())).collect();
    notices.extend(settings.problems.iter().map(|p| Notice::warning("settings", p.clone())));
    let server = EmbeddedServer::start(&plan, tauri::async_runtime::handle().inner(), notices)?;
    let control = server.handle.control();
    control.set_retention(settings.settings.retention);
    control.set_theme(settings.settings.theme);
    if test_probe {
        control.enable_test_probe();
    }
    if let Some(fallback) = server.fallback {
        eprintln!("warning: {}", fallback.message(server.url()));
    }
    // Scripts and the smoke test wait for this line, as with `serve`.
    println!("Identity Inspector listening on {} (data: {})", server.url(), plan.data_dir.display());
    let mut lock = lock;
    if let Some(lock) = lock.as_mut() {
        if let Err(e) = lock.publish(server.url(), control.token()) {
            tracing::warn!("a second launch will not find this one: {e}");
        }
    }
    let has_tray = tray && tray::available();
    app.manage(Shell {
        server,
        settings: Mutex::new(settings),
        data_dir: plan.data_dir.clone(),
        test_probe,
        has_tray: has_tray.into(),
        shows: Default::default(),
        native,
        _lock: Mutex::new(lock),
    });
    menu::install(app)?;
    if let Err(e) = tray::install(app, has_tray) {
        // A missing tray is no reason to lose the window: closing it then quits.
        tracing::warn!("no tray icon ({e}); closing the window quits");
        app.state::<Shell>().has_tray.store(false, std::sync::atomic::Ordering::SeqCst);
    }
    if tray && !has_tray {
        tracing::warn!(
            "no tray icon: libayatana-appindicator3 is not installed, so closing the window quits \
             (apt-get install libayatana-appindicator3-1)"
        );
    }
    window::open_main(app)?;
    spawn_background(app);
    Ok(())
}

/// Live updates (count, paused state), "show" requests from a second launch, and signals.
fn spawn_background<R: Runtime>(app: &AppHandle<R>) {
    let shell = app.state::<Shell>();
    let mut show_requests = shell.server.handle.control().show_requests();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while show_requests.recv().await.is_ok() {
            let app = handle.clone();
            let _ = handle.run_on_main_thread(move || window::show_main(&app));
        }
    });
    tray::spawn_live_status(app);
    spawn_theme_saver(app);
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        crate::shutdown_signal().await;
        tracing::info!("signal received: quitting");
        actions::quit(&handle);
    });
}

/// The page's theme toggle (`PUT /api/control/theme`) is written to the settings file and the
/// View ▸ Theme checks follow it.
fn spawn_theme_saver<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    let mut themes = app.state::<Shell>().server.handle.control().watch_theme();
    tauri::async_runtime::spawn(async move {
        while themes.changed().await.is_ok() {
            let theme = *themes.borrow_and_update();
            let shell = handle.state::<Shell>();
            if shell.settings().theme != theme {
                shell.update_settings(|s| s.theme = theme);
                let app = handle.clone();
                let _ = handle.run_on_main_thread(move || checks::sync_checks(&app));
            }
        }
    });
}

fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: RunEvent) {
    match event {
        RunEvent::WindowEvent { label, event: tauri::WindowEvent::CloseRequested { api, .. }, .. }
            if label == window::MAIN =>
        {
            if let Some(window) = app.get_webview_window(window::MAIN) {
                window::remember_geometry(app, &window);
                if app.state::<Shell>().keeps_running_when_closed() {
                    api.prevent_close();
                    let _ = window.hide();
                    tracing::info!("window hidden; capture goes on (quit from the tray)");
                }
            }
        }
        RunEvent::Exit => {
            let shell = app.state::<Shell>();
            if !shell.server.stop(STOP_PATIENCE) {
                eprintln!("warning: the server did not stop cleanly");
            }
        }
        _ => {}
    }
}
