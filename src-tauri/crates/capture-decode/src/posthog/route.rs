/// A PostHog endpoint, recognised from the path (trailing slash optional) and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/e`, `/capture`, `/track` (legacy) and `/i/v0/e` (posthog-js' current endpoint).
    Capture { legacy: bool },
    /// `/batch`: the server and mobile SDKs.
    Batch,
    /// `/engage`: profile updates, turned into `$identify`.
    Engage,
    /// `/s`: session-recording snapshots.
    Recording,
    /// `/i/v1/analytics/events`: the newer protocol with a Bearer token.
    AnalyticsV1,
    /// `/flags` and `/decide`: feature flags; `v2` selects the `{"flags":{}}` reply shape.
    Flags { v2: bool },
    /// `/array/<token>/config(.js)`: remote config, as JSON or as a script.
    RemoteConfig { token: String, script: bool },
}

pub const MB: usize = 1 << 20;

impl Route {
    pub fn parse(path: &str, query: Option<&str>) -> Option<Route> {
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        let route = match trimmed {
            "/e" | "/capture" | "/track" => Route::Capture { legacy: true },
            "/i/v0/e" => Route::Capture { legacy: false },
            "/batch" => Route::Batch,
            "/engage" => Route::Engage,
            "/s" => Route::Recording,
            "/i/v1/analytics/events" => Route::AnalyticsV1,
            "/flags" => {
                let v = query.and_then(|q| {
                    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "v").map(|(_, v)| v.into_owned())
                });
                Route::Flags { v2: v.as_deref().and_then(|v| v.parse::<u32>().ok()).unwrap_or(1) >= 2 }
            }
            "/decide" => Route::Flags { v2: false },
            _ => {
                let rest = trimmed.strip_prefix("/array/")?;
                let (token, file) = rest.split_once('/')?;
                let script = match file {
                    "config.js" => true,
                    "config" => false,
                    _ => return None,
                };
                if token.is_empty() {
                    return None;
                }
                Route::RemoteConfig { token: token.to_owned(), script }
            }
        };
        Some(route)
    }

    /// Old routes accept base64 once more after decompression, as PostHog's capture service does
    /// for the legacy endpoints.
    pub fn is_legacy(&self) -> bool {
        matches!(self, Route::Capture { legacy: true } | Route::Engage)
    }

    /// The decompressed size PostHog accepts on this route.
    pub fn limit(&self) -> usize {
        match self {
            Route::Batch | Route::AnalyticsV1 | Route::Recording => 20 * MB,
            _ => 2 * MB,
        }
    }

    /// Whether the route carries events (as opposed to configuration or flags).
    pub fn is_capture(&self) -> bool {
        !matches!(self, Route::Flags { .. } | Route::RemoteConfig { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Route::Capture { legacy: true } => "capture",
            Route::Capture { legacy: false } => "capture_v0",
            Route::Batch => "batch",
            Route::Engage => "engage",
            Route::Recording => "recording",
            Route::AnalyticsV1 => "analytics_v1",
            Route::Flags { .. } => "flags",
            Route::RemoteConfig { .. } => "remote_config",
        }
    }
}
