//! The UI entry point. Until the Svelte UI is built into the binary, a small status page.

use axum::extract::State;
use axum::response::Html;

use crate::AppState;

pub async fn index(State(state): State<AppState>) -> Html<String> {
    Html(include_str!("status.html").replace("{{CAPTURE_URL}}", &state.capture_url))
}
