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
    /// Capture V1 (`/i/v1/analytics/events` and its path variants `/i/v1/events/analytics`,
    /// `/i/v1/general/events`, `/i/v1/general/analytics/events`) and LLM analytics'
    /// `/i/v1/ai/events`: the newer protocol with a Bearer token.
    AnalyticsV1,
    /// `/i/v0/ai/batch`: LLM analytics events (`$ai_generation`, `$ai_span`...), which PostHog's
    /// capture serves with the same handler as `/batch` (its `rust/capture` router tests); for
    /// identity purposes ordinary events.
    AiBatch,
    /// `/i/v1/logs` and `/i/v1/metrics`: posthog-js' OTLP logs and metrics. Kept as requests, not
    /// events; PostHog's `rust/capture-logs` (`src/service.rs`) answers `{}`.
    Telemetry { signal: Signal },
    /// posthog-js' product features under `/api/`: no events, an empty list.
    ProductList { list: ProductList },
    /// Local evaluation for posthog-node / posthog-python (`/api/feature_flag/local_evaluation`,
    /// `/flags/definitions`): an empty definition set.
    FlagDefinitions,
    /// `/flags` and `/decide`: feature flags; `v2` selects the `{"flags":{}}` reply shape.
    Flags { v2: bool },
    /// `/array/<token>/config(.js)`: remote config, as JSON or as a script.
    RemoteConfig { token: String, script: bool },
}

/// Which OTLP signal a telemetry request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Logs,
    Metrics,
}

/// The posthog-js product lists served under `/api/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductList {
    Surveys,
    WebExperiments,
    ProductTours,
    EarlyAccessFeatures,
    ConversationsWidget,
}

/// The exact `/api/...` paths (trailing slash optional) the PostHog SDKs call on their API host.
/// The inspector's own JSON API lives under `/api` too, so the server routes these paths to the
/// capture side first (any Host, CORS) and leaves every other `/api` path to its Host-checked API.
pub const SDK_API_PATHS: [&str; 5] = [
    "/api/surveys",
    "/api/web_experiments",
    "/api/product_tours",
    "/api/early_access_features",
    "/api/feature_flag/local_evaluation",
];

/// The prefix of posthog-js' conversations widget calls (any path below it).
pub const CONVERSATIONS_WIDGET_PREFIX: &str = "/api/conversations/v1/widget/";

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
            "/i/v1/analytics/events"
            | "/i/v1/events/analytics"
            | "/i/v1/general/events"
            | "/i/v1/general/analytics/events"
            | "/i/v1/ai/events" => Route::AnalyticsV1,
            "/i/v0/ai/batch" => Route::AiBatch,
            "/i/v1/logs" => Route::Telemetry { signal: Signal::Logs },
            "/i/v1/metrics" => Route::Telemetry { signal: Signal::Metrics },
            "/api/surveys" => Route::ProductList { list: ProductList::Surveys },
            "/api/web_experiments" => Route::ProductList { list: ProductList::WebExperiments },
            "/api/product_tours" => Route::ProductList { list: ProductList::ProductTours },
            "/api/early_access_features" => Route::ProductList { list: ProductList::EarlyAccessFeatures },
            "/api/feature_flag/local_evaluation" | "/flags/definitions" => Route::FlagDefinitions,
            widget if widget.starts_with(CONVERSATIONS_WIDGET_PREFIX) => {
                Route::ProductList { list: ProductList::ConversationsWidget }
            }
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
            Route::Batch | Route::AiBatch | Route::AnalyticsV1 | Route::Recording => 20 * MB,
            _ => 2 * MB,
        }
    }

    /// Whether the route carries events (as opposed to configuration or flags).
    pub fn is_capture(&self) -> bool {
        !matches!(
            self,
            Route::Flags { .. }
                | Route::RemoteConfig { .. }
                | Route::Telemetry { .. }
                | Route::ProductList { .. }
                | Route::FlagDefinitions
        )
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
            Route::AiBatch => "ai_batch",
            Route::Telemetry { signal: Signal::Logs } => "logs",
            Route::Telemetry { signal: Signal::Metrics } => "metrics",
            Route::ProductList { list: ProductList::Surveys } => "surveys",
            Route::ProductList { list: ProductList::WebExperiments } => "web_experiments",
            Route::ProductList { list: ProductList::ProductTours } => "product_tours",
            Route::ProductList { list: ProductList::EarlyAccessFeatures } => "early_access_features",
            Route::ProductList { list: ProductList::ConversationsWidget } => "conversations_widget",
            Route::FlagDefinitions => "flag_definitions",
        }
    }
}
