//! The UI: the Svelte app built from `ui/` (see `build.rs`) and embedded in the binary, debug and
//! release alike, so tests see exactly what users see.
//!
//! `/` answers `index.html` with the capture URL and the saved theme written in (never cached: it names the current
//! hashed assets); `/assets/*` answers the hashed bundles, cacheable forever. Client routes live in
//! the URL's hash (`/#/devices`), so they never reach the server.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../../ui/dist/"]
struct Dist;

const NOT_BUILT: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Identity Inspector</title></head>
<body style="font:15px system-ui;margin:40px"><h1>Identity Inspector</h1>
<p>Capture URL: <code data-testid="capture-url">{{CAPTURE_URL}}</code></p>
<p>This binary was built without its UI (INSPECTOR_SKIP_UI_BUILD). The API is at <a href="/api/health">/api</a>.</p></body></html>"#;

pub async fn index(State(state): State<AppState>) -> Response {
    let page = match Dist::get("index.html") {
        Some(file) => String::from_utf8_lossy(&file.data).into_owned(),
        None => NOT_BUILT.to_owned(),
    };
    let mut html = page.replace("{{CAPTURE_URL}}", &escape_html(&state.capture_url));
    // The saved theme, read by the page before it draws (ui/src/lib/state.svelte.ts).
    let theme = format!(r#"<meta name="inspector-theme" content="{}">"#, state.control.theme().as_str());
    if let Some(at) = html.find("</head>") {
        html.insert_str(at, &theme);
    }
    ([(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], Html(html)).into_response()
}

pub async fn asset(Path(path): Path<String>) -> Response {
    let Some(file) = Dist::get(&format!("assets/{path}")) else {
        return (StatusCode::NOT_FOUND, "no such UI asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path))),
            // Vite names every asset after its content hash: a changed file has a new name.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        file.data,
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json" | "map") => "application/json",
        _ => "application/octet-stream",
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
