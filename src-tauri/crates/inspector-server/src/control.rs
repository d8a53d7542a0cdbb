//! What the app around the server (the desktop shell, or a script) can change while it runs:
//! pausing capture, notices shown in the UI, the retention policy, and the per-launch token that
//! guards every state-changing `/api` call.
//!
//! Invariants:
//! - The token is random per launch and only ever sent to pages that pass the `/api` host guard
//!   (`GET /api/control`, no CORS), so a cross-site page can neither read it nor, lacking it,
//!   clear or pause anything; a cross-site form cannot set the custom header at all.
//! - While paused, capture routes answer exactly as they would otherwise (same status and body)
//!   but store nothing: SDKs believe their events were delivered, so they neither retry nor
//!   queue them up, and the app being debugged behaves normally.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;

use axum::http::HeaderMap;
use event_store::Retention;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::error::ApiError;

/// The header carrying the per-launch token on state-changing `/api` calls.
pub const TOKEN_HEADER: &str = "x-inspector-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    Info,
    Warning,
}

/// Something the user must know about this run (a port fallback, a network-exposed address),
/// listed by `/api/health` for the UI to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub level: NoticeLevel,
    /// Stable, for tests and for the UI to pick an icon: `port_taken`, `network_exposed`, ...
    pub code: String,
    pub message: String,
}

impl Notice {
    pub fn warning(code: &str, message: impl Into<String>) -> Notice {
        Notice { level: NoticeLevel::Warning, code: code.to_owned(), message: message.into() }
    }

    pub fn info(code: &str, message: impl Into<String>) -> Notice {
        Notice { level: NoticeLevel::Info, code: code.to_owned(), message: message.into() }
    }
}

/// The UI's colour theme as the user last chose it. The app around the server (the desktop
/// shell, `serve`) loads it from and saves it to its settings file; the page starts in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UiTheme {
    /// Follow the system's light or dark preference (or the browser's own last choice).
    #[default]
    System,
    Light,
    Dark,
}

impl UiTheme {
    pub fn as_str(self) -> &'static str {
        match self {
            UiTheme::System => "system",
            UiTheme::Light => "light",
            UiTheme::Dark => "dark",
        }
    }
}

/// Capture state as `/api/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaptureStatus {
    pub paused: bool,
    /// Capture requests answered but not stored since capture was last paused.
    pub ignored_while_paused: u64,
}

pub struct Control {
    token: String,
    paused: AtomicBool,
    ignored_while_paused: AtomicU64,
    notices: RwLock<Vec<Notice>>,
    retention: watch::Sender<Retention>,
    theme: watch::Sender<UiTheme>,
    /// Asks the app to bring its window forward (a second launch on the same data dir).
    show_requests: broadcast::Sender<()>,
    /// Test-only: the page reports what it shows (see `test_probe`). Off unless enabled.
    probe: std::sync::OnceLock<crate::handlers::test_probe::Probe>,
    /// The last capture write failed (and the `storage_failed` notice is up) until one succeeds.
    storage_failing: AtomicBool,
}

impl Control {
    pub(crate) fn new() -> Control {
        Control {
            token: uuid::Uuid::new_v4().simple().to_string(),
            paused: AtomicBool::new(false),
            ignored_while_paused: AtomicU64::new(0),
            notices: RwLock::new(Vec::new()),
            retention: watch::Sender::new(Retention::default()),
            theme: watch::Sender::new(UiTheme::default()),
            show_requests: broadcast::channel(4).0,
            probe: std::sync::OnceLock::new(),
            storage_failing: AtomicBool::new(false),
        }
    }

    /// A capture write failed: says so in a notice until a write succeeds again.
    pub(crate) fn storage_failed(&self, error: &str) {
        self.storage_failing.store(true, Ordering::SeqCst);
        self.set_notice(Notice::warning(
            "storage_failed",
            format!(
                "New traffic cannot be stored: {error}. SDKs get 503 and retry later; everything stored so far \
                 stays readable. Free disk space, or fix the data directory."
            ),
        ));
    }

    /// The store was opened read-only: says so for the whole run (nothing makes it writable
    /// again without a restart).
    pub(crate) fn storage_read_only(&self, why: &event_store::ReadOnly) {
        self.set_notice(Notice::warning(
            "storage_read_only",
            format!(
                "Read-only: {} cannot be written ({}). Stored data is shown; new traffic is answered 503 and not \
                 stored, and clearing, importing and retention are off.{} Make the folder writable and restart, or \
                 use another --data-dir.",
                why.path.display(),
                why.reason,
                why.caveat.as_deref().map(|c| format!(" Note: {c}.")).unwrap_or_default(),
            ),
        ));
    }

    /// A capture write succeeded: clears the `storage_failed` notice if it was up (one atomic
    /// load otherwise, on every capture).
    pub(crate) fn storage_ok(&self) {
        if self.storage_failing.load(Ordering::Relaxed) && self.storage_failing.swap(false, Ordering::SeqCst) {
            self.clear_notice("storage_failed");
        }
    }

    /// Turns on the test-only page probe (`/api/test/*`) for the rest of this run.
    pub fn enable_test_probe(&self) {
        let _ = self.probe.set(crate::handlers::test_probe::Probe::default());
    }

    pub(crate) fn probe(&self) -> Option<&crate::handlers::test_probe::Probe> {
        self.probe.get()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Refuses a state-changing call that does not carry this launch's token.
    pub(crate) fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
        match given {
            Some(t) if t == self.token => Ok(()),
            Some(_) => {
                Err(ApiError::BadToken(format!("wrong {TOKEN_HEADER}; read the current one from GET /api/control")))
            }
            None => Err(ApiError::BadToken(format!(
                "this call changes data: send the {TOKEN_HEADER} header with the token from GET /api/control"
            ))),
        }
    }

    pub fn set_paused(&self, paused: bool) {
        let was = self.paused.swap(paused, Ordering::SeqCst);
        if paused && !was {
            self.ignored_while_paused.store(0, Ordering::Relaxed);
        }
        if was != paused {
            tracing::info!("capture {}", if paused { "paused" } else { "resumed" });
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Whether a capture request should be stored; counts the ones that are not.
    pub(crate) fn keeps_captures(&self) -> bool {
        if self.is_paused() {
            self.ignored_while_paused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub fn capture_status(&self) -> CaptureStatus {
        CaptureStatus {
            paused: self.is_paused(),
            ignored_while_paused: self.ignored_while_paused.load(Ordering::Relaxed),
        }
    }

    /// Adds a notice, replacing any earlier one with the same code.
    pub fn set_notice(&self, notice: Notice) {
        let mut notices = self.notices.write().unwrap_or_else(|p| p.into_inner());
        notices.retain(|n| n.code != notice.code);
        notices.push(notice);
    }

    pub fn clear_notice(&self, code: &str) {
        self.notices.write().unwrap_or_else(|p| p.into_inner()).retain(|n| n.code != code);
    }

    pub fn notices(&self) -> Vec<Notice> {
        self.notices.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Applies a new retention policy now and then periodically (see `retention`).
    pub fn set_retention(&self, policy: Retention) {
        self.retention.send_replace(policy);
    }

    pub fn retention(&self) -> Retention {
        *self.retention.borrow()
    }

    pub(crate) fn watch_retention(&self) -> watch::Receiver<Retention> {
        self.retention.subscribe()
    }

    /// Sets the theme the page starts in; watchers (the settings file) are told if it changed.
    pub fn set_theme(&self, theme: UiTheme) {
        self.theme.send_if_modified(|current| std::mem::replace(current, theme) != theme);
    }

    pub fn theme(&self) -> UiTheme {
        *self.theme.borrow()
    }

    /// Changes of the theme (from the page's toggle or the app's menu), to save them.
    pub fn watch_theme(&self) -> watch::Receiver<UiTheme> {
        self.theme.subscribe()
    }

    pub(crate) fn request_show(&self) {
        let _ = self.show_requests.send(());
    }

    /// Fires when someone (a second launch) asked to bring the window forward.
    pub fn show_requests(&self) -> broadcast::Receiver<()> {
        self.show_requests.subscribe()
    }
}

/// Proof that a request carries this launch's token (see [`Control::check_token`]). Handlers that
/// change something take it as their first extractor, so a call without the token is refused
/// (403 `bad_token`) before its body is even read.
pub struct Authorized;

impl axum::extract::FromRequestParts<crate::AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::AppState,
    ) -> Result<Self, ApiError> {
        state.control.check_token(&parts.headers).map(|()| Authorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_per_launch_and_are_checked_exactly() {
        let a = Control::new();
        let b = Control::new();
        assert_ne!(a.token(), b.token());
        assert!(a.token().len() >= 32);
        let mut headers = HeaderMap::new();
        assert!(a.check_token(&headers).is_err());
        headers.insert(TOKEN_HEADER, b.token().parse().unwrap());
        assert!(a.check_token(&headers).is_err());
        headers.insert(TOKEN_HEADER, a.token().parse().unwrap());
        assert!(a.check_token(&headers).is_ok());
    }

    #[test]
    fn pausing_counts_what_is_ignored_from_zero_each_time() {
        let c = Control::new();
        assert!(c.keeps_captures());
        c.set_paused(true);
        assert!(!c.keeps_captures());
        assert!(!c.keeps_captures());
        assert_eq!(c.capture_status(), CaptureStatus { paused: true, ignored_while_paused: 2 });
        c.set_paused(false);
        assert!(c.keeps_captures());
        c.set_paused(true);
        assert_eq!(c.capture_status().ignored_while_paused, 0);
    }

    #[test]
    fn a_notice_replaces_the_one_with_its_code() {
        let c = Control::new();
        c.set_notice(Notice::warning("port_taken", "first"));
        c.set_notice(Notice::info("other", "x"));
        c.set_notice(Notice::warning("port_taken", "second"));
        let messages: Vec<_> = c.notices().into_iter().map(|n| n.message).collect();
        assert_eq!(messages, ["x", "second"]);
        c.clear_notice("other");
        assert_eq!(c.notices().len(), 1);
    }
}
