//! Mixpanel's ingestion paths (<https://developer.mixpanel.com/reference/ingestion-api>). `/track`, `/engage`, `/decide` and `/flags`
//! are PostHog paths too: see `detect` for how a request is told to be Mixpanel's.

use crate::posthog::MB;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Track,
    Engage,
    Groups,
    Import,
    Decide,
    Flags,
    Settings,
    Record,
}

impl Route {
    /// Recognises the path alone (trailing slash optional).
    pub fn parse(path: &str) -> Option<Route> {
        Some(match path.strip_suffix('/').unwrap_or(path) {
            "/track" => Route::Track,
            "/engage" => Route::Engage,
            "/groups" => Route::Groups,
            "/import" => Route::Import,
            "/decide" => Route::Decide,
            "/flags" => Route::Flags,
            "/settings" => Route::Settings,
            "/record" => Route::Record,
            _ => return None,
        })
    }

    /// Decompressed size accepted: Mixpanel documents 10 MB for `/import`; the browser routes
    /// get PostHog's 2 MB (a mixpanel-browser batch is 50 events).
    pub fn limit(&self) -> usize {
        match self {
            Route::Import | Route::Record => 10 * MB,
            _ => 2 * MB,
        }
    }

    pub fn is_capture(&self) -> bool {
        matches!(self, Route::Track | Route::Engage | Route::Groups | Route::Import)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Route::Track => "mixpanel_track",
            Route::Engage => "mixpanel_engage",
            Route::Groups => "mixpanel_groups",
            Route::Import => "mixpanel_import",
            Route::Decide => "mixpanel_decide",
            Route::Flags => "mixpanel_flags",
            Route::Settings => "mixpanel_settings",
            Route::Record => "mixpanel_record",
        }
    }
}
