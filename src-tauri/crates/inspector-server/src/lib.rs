//! The inspector's one HTTP server.
//!
//! Capture routes answer SDKs exactly like the vendor would (with permissive CORS, since SDKs run
//! on any origin). Everything under `/api` is for the inspector's own UI and scripts, and `/mcp`
//! for coding agents (`mcp`): no CORS headers, and only requests whose `Host` is this server's
//! loopback address (DNS rebinding).
//!
//! Connections are served by the crate's own accept loop (`serve`): a request head must arrive
//! within [`ConnectionLimits::header_timeout`] (which also closes idle keep-alive connections),
//! a request body must keep coming (see [`ConnectionLimits::body_timeout`]), and at most [`ConnectionLimits::max_connections`] are open, below the open-file limit that
//! binding raises to its hard maximum, so idle or slow clients cannot starve capture.

// The HTTP edge: routes' handlers, their request and response shapes, the Host guard.
mod handlers;
// The services the handlers call, each owning one long-lived part of the server's state.
mod applied;
mod background;
mod body_deadline;
mod control;
mod error;
pub mod faults;
mod followers;
mod forward;
mod handle;
mod identity;
pub mod mcp;
pub mod memory;
mod retention;
mod serve;

pub use handlers::dto;

pub use background::lower_priority;
pub use control::{CaptureStatus, Control, Notice, NoticeLevel, UiTheme, TOKEN_HEADER};
pub use error::{ApiError, ErrorBody, ErrorCode, ServerError};
pub use forward::{ForwardError, ForwardLimits, ForwardStatus, Forwarder};
pub use handle::ServerHandle;
pub use identity::{Identity, IdentityChange};
pub use serve::{fd_limit, raise_fd_limit, ConnectionLimits};

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{any, delete, get, post, put};
use axum::Router;
use event_store::Store;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    /// Keep the identity model (persons, lanes, findings) up to date. Off only to measure
    /// capture alone (benchmarks); the identity endpoints then show an empty model.
    pub identity: bool,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hosts: Arc<handlers::host_guard::AllowedHosts>,
    pub capture_url: Arc<str>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Cancelled when the server shuts down, so long-lived streams end and shutdown can finish.
    pub shutdown: CancellationToken,
    /// Persons, device lanes and findings, fed from the store in arrival order.
    pub identity: Arc<identity::Identity>,
    /// Pause, notices, retention and the token for state-changing calls.
    pub control: Arc<Control>,
    /// `serve --forward URL`: copies of accepted captures go on to the vendor (see `forward`).
    pub forward: Option<Arc<forward::Forwarder>>,
    /// The one subscriber to commits and identity changes that `/api/stream` readers share.
    pub announcer: Arc<handlers::stream::Announcer>,
    /// The fault rules capture requests are checked against (see `faults`).
    pub faults: Arc<fault_rules::FaultBook>,
    /// Paces followers' reads while capture is live (see `followers`).
    pub(crate) followers: Arc<followers::Followers>,
}

impl AppState {
    /// The state of a server listening on `addr`: the API accepts only `Host` values naming this
    /// address on loopback, and SDKs are told to send to `http://127.0.0.1:<port>`.
    /// Starts the identity model's feeder, so it must be called inside a Tokio runtime.
    pub fn new(store: Store, addr: SocketAddr) -> AppState {
        Self::with_identity(store, addr, true)
    }

    /// Like [`AppState::new`]; `identity: false` leaves the identity model unfed.
    pub fn with_identity(store: Store, addr: SocketAddr, identity: bool) -> AppState {
        let hosts = handlers::host_guard::AllowedHosts::for_addr(addr);
        let capture_url = format!("http://{}", hosts.primary());
        let shutdown = CancellationToken::new();
        let identity = identity::Identity::start(store.clone(), shutdown.clone(), identity);
        let control = Arc::new(Control::new());
        if let Some(why) = store.read_only() {
            control.storage_read_only(why);
        }
        retention::spawn(store.clone(), control.watch_retention(), shutdown.clone());
        let faults = Arc::new(fault_rules::FaultBook::new());
        let announcer = handlers::stream::Announcer::start(
            store.subscribe(),
            identity.subscribe(),
            faults.clone(),
            shutdown.clone(),
        );
        AppState {
            store,
            hosts: Arc::new(hosts),
            capture_url: capture_url.into(),
            started_at: chrono::Utc::now(),
            shutdown,
            identity,
            control,
            forward: None,
            announcer,
            faults,
            followers: Arc::default(),
        }
    }
}

/// Paths the SDKs post to; each is also accepted with a trailing slash. Which vendor a request
/// speaks is decided per request (`capture_decode::Protocol`): `/track`, `/engage`, `/decide` and
/// `/flags` are shared by PostHog and Mixpanel, `/e` and `/s` by PostHog and KISSmetrics.
pub(crate) const CAPTURE_PATHS: &[&str] = &[
    // PostHog
    "/e",
    "/i/v0/e",
    "/batch",
    "/capture",
    "/track",
    "/engage",
    "/s",
    "/i/v1/analytics/events",
    "/i/v1/events/analytics",
    "/i/v1/general/events",
    "/i/v1/general/analytics/events",
    "/i/v1/ai/events",
    "/i/v0/ai/batch",
    "/i/v1/logs",
    "/i/v1/metrics",
    "/flags/definitions",
    "/flags",
    "/decide",
    "/array/{token}/{file}",
    // Segment and RudderStack: /v1/{identify,track,...,i,t,...,batch,b,import,m}
    "/v1/{name}",
    "/v1/projects/{write_key}/settings",
    "/projects/{write_key}/settings",
    "/sourceConfig",
    "/beacon/v1/batch",
    // Mixpanel
    "/groups",
    "/import",
    "/settings",
    "/record",
    // KISSmetrics (`/e` and `/s` above are its event and set paths too)
    "/a",
];

/// The whole route table, in one place.
pub fn router(state: AppState) -> Router {
    let mut capture_routes = Router::new();
    for path in CAPTURE_PATHS {
        capture_routes = capture_routes
            .route(path, any(handlers::capture::capture))
            .route(&format!("{path}/"), any(handlers::capture::capture));
    }
    // PostHog's SDK routes under `/api/` (surveys, local evaluation...): exact paths, so they
    // reach the capture side (any Host, CORS) while every other `/api` path stays the
    // inspector's own, Host-checked API.
    for path in capture_decode::posthog::SDK_API_PATHS {
        capture_routes = capture_routes
            .route(path, any(handlers::capture::capture))
            .route(&format!("{path}/"), any(handlers::capture::capture));
    }
    let widget = capture_decode::posthog::CONVERSATIONS_WIDGET_PREFIX;
    capture_routes = capture_routes.route(&format!("{widget}{{*rest}}"), any(handlers::capture::capture));
    let capture_routes = capture_routes.layer(handlers::capture::cors());

    let api_routes = Router::new()
        .route("/health", get(handlers::traffic::health))
        .route("/events", get(handlers::traffic::events))
        .route("/events/{uuid}", get(handlers::traffic::event))
        .route("/requests", get(handlers::traffic::requests))
        .route("/requests/{id}", get(handlers::traffic::request))
        .route("/projects", get(handlers::traffic::projects))
        .route("/projects/settings", get(handlers::settings::list))
        .route("/projects/{key}", delete(handlers::control::delete))
        .route("/projects/{key}/settings", get(handlers::settings::get).put(handlers::settings::put))
        .route("/persons", get(handlers::identity::persons))
        .route("/persons/{id}", get(handlers::identity::person))
        .route("/devices", get(handlers::identity::devices))
        .route("/devices/{id}", get(handlers::identity::device))
        .route("/decisions", get(handlers::identity::decisions))
        .route("/warnings", get(handlers::identity::warnings))
        .route("/warnings/groups", get(handlers::identity::warning_groups))
        .route("/lens", get(handlers::identity::lens))
        .route("/why", get(handlers::identity::why))
        .route("/stream", get(handlers::stream::stream))
        .route("/forward", get(forward::status))
        .route("/export", get(handlers::transfer::export_file))
        .route("/import", post(handlers::transfer::import))
        .route("/datasets", get(handlers::transfer::datasets))
        .route("/control", get(handlers::control::get))
        .route("/control/pause", post(handlers::control::pause))
        .route("/control/resume", post(handlers::control::resume))
        .route("/control/retention", put(handlers::control::set_retention))
        .route("/control/theme", put(handlers::control::set_theme))
        .route("/control/show", post(handlers::control::show))
        .route("/data", delete(handlers::control::clear_data))
        .route("/faults", get(handlers::faults::list).post(handlers::faults::add).delete(handlers::faults::clear))
        .route("/faults/{id}", delete(handlers::faults::remove))
        .route("/deliveries", get(handlers::faults::deliveries))
        .route("/test/probe", get(handlers::test_probe::latest).post(handlers::test_probe::report))
        .route("/test/navigate", post(handlers::test_probe::navigate))
        .fallback(handlers::traffic::not_found)
        .method_not_allowed_fallback(handlers::traffic::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), handlers::host_guard::check));

    // MCP for coding agents (`mcp`): the same Host check as `/api`, no CORS.
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp::http_service(state.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), handlers::host_guard::check));

    Router::new()
        .nest("/api", api_routes)
        .merge(mcp_routes)
        // The nested router does not match `/api` itself or `/api/`: API paths, not SDK traffic.
        .route("/api", any(handlers::traffic::not_found))
        .route("/api/", any(handlers::traffic::not_found))
        .merge(capture_routes)
        .route("/", get(handlers::ui::index).fallback(handlers::capture::unknown_route))
        // Only GET is the UI; anything else there is stored as a rejected request like any unknown path.
        .route("/assets/{*path}", get(handlers::ui::asset).fallback(handlers::capture::unknown_route))
        .fallback(handlers::capture::unknown_route)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A server whose socket is bound and whose store is open, ready to run.
pub struct BoundServer {
    listener: tokio::net::TcpListener,
    state: AppState,
    local_addr: SocketAddr,
    limits: ConnectionLimits,
}

impl BoundServer {
    pub async fn bind(config: &ServerConfig) -> Result<BoundServer, ServerError> {
        let listener = tokio::net::TcpListener::bind((config.bind, config.port))
            .await
            .map_err(|e| ServerError::Bind { addr: SocketAddr::new(config.bind, config.port), source: e })?;
        Self::with_listener(config, listener)
    }

    /// Like [`BoundServer::bind`] on a socket the caller bound (the desktop app picks another
    /// port when the configured one is taken); `config.bind` and `config.port` are not used.
    /// Must be called inside a Tokio runtime. Raises the process's open-file limit (see
    /// [`raise_fd_limit`]) and caps connections below it.
    pub fn with_listener(config: &ServerConfig, listener: tokio::net::TcpListener) -> Result<BoundServer, ServerError> {
        let local_addr = listener
            .local_addr()
            .map_err(|e| ServerError::Bind { addr: SocketAddr::new(config.bind, config.port), source: e })?;
        let store = Store::open(&config.data_dir)?;
        let state = AppState::with_identity(store, local_addr, config.identity);
        raise_fd_limit();
        Ok(BoundServer { listener, state, local_addr, limits: ConnectionLimits::for_this_process() })
    }

    /// Replaces the header/idle timeout and the connection cap (tests use short ones).
    pub fn set_connection_limits(&mut self, limits: ConnectionLimits) {
        self.limits = limits;
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// What the app around the server keeps to steer it (pause, clear, notices, shutdown).
    pub fn handle(&self) -> ServerHandle {
        ServerHandle::new(self.state.clone())
    }

    /// Forward mode: every accepted capture request is also sent on to `target` (the vendor's
    /// host, e.g. `https://us.i.posthog.com`) in the background.
    pub fn forward_to(&mut self, target: &str) -> Result<Arc<Forwarder>, ForwardError> {
        self.forward_with_limits(target, ForwardLimits::default())
    }

    /// [`BoundServer::forward_to`] with other queue and shutdown-drain limits. The returned
    /// forwarder's `status()` stays readable after the server stopped (what it never sent).
    pub fn forward_with_limits(&mut self, target: &str, limits: ForwardLimits) -> Result<Arc<Forwarder>, ForwardError> {
        let forwarder = Forwarder::start(target, self.state.control.clone(), self.state.shutdown.clone(), limits)?;
        self.state.forward = Some(forwarder.clone());
        Ok(forwarder)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL SDKs should use (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.state.capture_url
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `signal` completes, then stops accepting, ends live streams, lets in-flight
    /// requests finish and flushes the writer.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
        let state = self.state.clone();
        let shutdown = state.shutdown.clone();
        let app = router(state.clone());
        {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = signal => {},
                    _ = shutdown.cancelled() => {},
                }
                shutdown.cancel();
            });
        }
        serve::serve(self.listener, app, self.limits, shutdown).await;
        if let Some(forwarder) = &state.forward {
            forwarder.finished().await;
        }
        state.store.close().await;
        Ok(())
    }
}
