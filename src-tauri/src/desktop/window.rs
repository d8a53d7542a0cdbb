//! The main window: opened on the in-process server's UI, with its size and place restored from
//! the settings and saved when it closes or the app quits.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use super::{DesktopError, Shell};
use crate::settings::{Theme, WindowGeometry, DEFAULT_WINDOW};

pub const MAIN: &str = "main";

/// The UI keeps its own last theme under this localStorage key (ui/src/lib/state.svelte.ts); the
/// saved one comes from the server (`<meta name="inspector-theme">`) and wins over it.
const THEME_KEY: &str = "identity-inspector-theme";

pub fn open_main<R: Runtime>(app: &AppHandle<R>) -> Result<WebviewWindow<R>, DesktopError> {
    let shell = app.state::<Shell>();
    let url = format!("{}/", shell.server.url());
    let parsed = url.parse().map_err(|e| DesktopError::Window { url: url.clone(), reason: format!("{e}") })?;
    let settings = shell.settings();
    let mut builder = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(parsed))
        .title(title(&shell))
        .min_inner_size(480.0, 320.0);
    builder = match settings.window {
        Some(g) => builder.inner_size(g.width, g.height).position(g.x, g.y).maximized(g.maximized),
        None => builder.inner_size(DEFAULT_WINDOW.0, DEFAULT_WINDOW.1).center(),
    };
    if shell.test_probe {
        builder = builder.initialization_script(probe_script(shell.server.handle.control().token()));
    }
    Ok(builder.on_download(on_download).build()?)
}

/// Files the page downloads (the UI's exports) go to the user's Downloads folder under the name
/// the server gave them, never over an existing file; a dialog says where when done.
fn on_download<R: Runtime>(webview: tauri::Webview<R>, event: tauri::webview::DownloadEvent<'_>) -> bool {
    use tauri::webview::DownloadEvent;
    use tauri_plugin_dialog::DialogExt;
    match event {
        DownloadEvent::Requested { url, destination } => {
            let folder = directories::UserDirs::new()
                .and_then(|d| d.download_dir().map(|p| p.to_owned()).or_else(|| Some(d.home_dir().to_owned())))
                .unwrap_or_else(std::env::temp_dir);
            *destination = download_path(&folder, destination.file_name().and_then(|n| n.to_str()), url.path());
            tracing::info!("saving {url} to {}", destination.display());
        }
        DownloadEvent::Finished { path, success, .. } => {
            let text = match (success, path) {
                (true, Some(path)) => format!("Saved to {}", path.display()),
                (true, None) => "Download finished.".to_owned(),
                (false, _) => "The download failed.".to_owned(),
            };
            webview.app_handle().dialog().message(text).title("Identity Inspector").show(|_| {});
        }
        _ => {}
    }
    true
}

/// `folder/<name>`, with `name` from the suggestion or the URL, made unique with " (2)", " (3)"...
pub fn download_path(folder: &std::path::Path, suggested: Option<&str>, url_path: &str) -> std::path::PathBuf {
    let from_url = url_path.rsplit('/').next().filter(|s| !s.is_empty());
    let name = suggested.filter(|s| !s.is_empty()).or(from_url).unwrap_or("identity-inspector-download");
    // Only a file name: nothing from the page may point elsewhere.
    let name = std::path::Path::new(name).file_name().and_then(|n| n.to_str()).unwrap_or("identity-inspector-download");
    let candidate = folder.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (2..).map(|n| folder.join(format!("{stem} ({n}){ext}"))).find(|p| !p.exists()).expect("some number is free")
}

/// Brings the window forward, reopening it if it was closed.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    app.state::<Shell>().shows.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let window = match app.get_webview_window(MAIN) {
        Some(w) => w,
        None => match open_main(app) {
            Ok(w) => w,
            Err(e) => return tracing::error!("cannot reopen the window: {e}"),
        },
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// "Identity Inspector — http://127.0.0.1:28120", with the paused state when it applies.
pub fn title(shell: &Shell) -> String {
    let paused = if shell.server.handle.control().is_paused() { " (capture paused)" } else { "" };
    format!("Identity Inspector — {}{paused}", shell.server.url())
}

pub fn refresh_title<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.set_title(&title(&app.state::<Shell>()));
    }
}

/// Saves the window's size and place (logical pixels) in the settings.
pub fn remember_geometry<R: Runtime>(app: &AppHandle<R>, window: &WebviewWindow<R>) {
    let Some(geometry) = geometry(window) else { return };
    app.state::<Shell>().update_settings(|s| s.window = Some(geometry));
}

fn geometry<R: Runtime>(window: &WebviewWindow<R>) -> Option<WindowGeometry> {
    let scale = window.scale_factor().ok()?;
    let maximized = window.is_maximized().unwrap_or(false);
    let size = window.inner_size().ok()?.to_logical::<f64>(scale);
    let place = window.outer_position().ok()?.to_logical::<f64>(scale);
    let geometry = WindowGeometry { width: size.width, height: size.height, x: place.x, y: place.y, maximized };
    geometry.is_sane().then_some(geometry)
}

/// Shows a theme chosen from the menu: the server already writes it into the page, so a reload
/// is enough; System also forgets the page's own last choice (localStorage).
pub fn apply_theme<R: Runtime>(app: &AppHandle<R>, theme: Theme) {
    let Some(window) = app.get_webview_window(MAIN) else { return };
    let script = match theme {
        Theme::System => format!("try {{ localStorage.removeItem('{THEME_KEY}'); }} catch (e) {{}} location.reload();"),
        Theme::Light | Theme::Dark => format!(
            "try {{ localStorage.setItem('{THEME_KEY}', '{}'); }} catch (e) {{}} location.reload();",
            theme.as_str()
        ),
    };
    let _ = window.eval(&script);
}

/// Test only (`--test-probe`): the page reports what it shows to the server several times a
/// second and follows navigation requests (see inspector-server's `test_probe.rs`).
fn probe_script(token: &str) -> String {
    include_str!("probe.js").replace("__TOKEN__", token)
}
