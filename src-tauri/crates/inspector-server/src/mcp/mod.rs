//! The inspector's tools for coding agents, over the Model Context Protocol (the official Rust
//! SDK, `rmcp`): an agent that just made the app under test send analytics asks what arrived, who
//! each user became and why, what is wrong and how to fix it, in short answers with the ids to
//! follow up.
//!
//! Main types: [`Tools`] (the MCP server: one method per tool, in [`traffic`], [`identity`] and
//! [`faults`]),
//! [`http_service`] (Streamable HTTP, mounted at `/mcp` by `crate::router`) and
//! [`serve_read_only_stdio`] (stdio over a data dir no inspector runs on).
//!
//! Transports, and how `identity-inspector mcp` chooses (the binary's `mcp.rs`):
//! - `/mcp` on the running server: Streamable HTTP, stateless (every POST is served on its own,
//!   so a restarted inspector or a reconnecting client needs no session), JSON answers. It sits
//!   behind the same `Host` check as `/api` (`handlers::host_guard`), has no CORS headers, and
//!   refuses any request that carries an `Origin` header: browsers send one, MCP clients do not,
//!   so no web page can call a tool, not even one that would pass a CORS preflight.
//! - `identity-inspector mcp` when an inspector runs for the data dir (`instance.lock` holds its
//!   URL and token): a pipe from stdio to that server's `/mcp`, so there is one tool set, one
//!   identity model and one source of new-data notifications.
//! - `identity-inspector mcp` when none runs: [`serve_read_only_stdio`] runs these tools in that
//!   process over the data dir opened read-only (the identity model is rebuilt from it, as the
//!   app does at start). Nothing new can arrive and nothing can be cleared then:
//!   `wait_for_events` and `clear_project` say so and how to start the inspector.
//!
//! Invariants:
//! - No identity or traffic rule lives here: every tool reads through the functions the `/api`
//!   handlers answer with (`handlers::traffic::events_page`, `handlers::identity::why_answer`,
//!   ...), which keep their work off the async workers; this module only words the answers.
//! - Answers are bounded: pages have a default and a cap, long values are clipped, and an answer
//!   stops at [`answer::MAX_CHARS`]; whatever is left out is counted, with the call that shows it.
//! - A tool that deletes data needs this launch's control token over HTTP (`x-inspector-token`,
//!   as for `/api`); read-only tools need nothing but a loopback `Host`.

mod answer;
mod faults;
mod identity;
mod traffic;

use std::path::Path;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool_handler, ServerHandler, ServiceExt};

use crate::error::ServerError;
use crate::AppState;

/// What an agent reads first about this server (the `initialize` answer's instructions).
const INSTRUCTIONS: &str = "Identity Inspector captures the analytics traffic (PostHog, Segment, RudderStack, \
Mixpanel, KISSmetrics) of the app you are working on and shows who each user became under the vendor's identity \
rules. Start with list_projects. To check an action: note the newest seq, trigger the action, then call \
wait_for_events with after_seq. get_person, why and device_timeline explain identities; list_warnings gives \
mistakes with their fixes; list_rejected_requests shows what the inspector refused and why.";

/// The MCP server: the inspector's state and the tool table, built once and shared by every
/// session (the HTTP transport makes one server per request).
#[derive(Clone)]
pub struct Tools {
    state: AppState,
    tool_router: Arc<ToolRouter<Tools>>,
}

impl Tools {
    fn new(state: AppState) -> Tools {
        let tool_router = Arc::new(Self::traffic_tools() + Self::identity_tools() + Self::fault_tools());
        Tools { state, tool_router }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        let capabilities = rmcp::model::ServerCapabilities::builder().enable_tools().build();
        rmcp::model::ServerConfig::new(capabilities)
            .with_server_info(rmcp::model::Implementation::new("identity-inspector", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS.to_owned())
    }
}

/// Streamable HTTP for `/mcp` on the server of `state` (see the module docs).
pub(crate) fn http_service(state: AppState) -> StreamableHttpService<Tools, NeverSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(state.shutdown.child_token())
        // `handlers::host_guard` checks Host for `/mcp` as for `/api`, with this server's port.
        .disable_allowed_hosts()
        // No allowed origin: a request from a web page is refused whatever its origin.
        .enforce_origin_validation();
    let tools = Tools::new(state);
    StreamableHttpService::new(move || Ok(tools.clone()), Arc::new(NeverSessionManager::default()), config)
}

/// Serves the tools over this process's stdin and stdout until the client closes them, over the
/// data dir `data_dir` opened read-only (no inspector runs on it; see the module docs).
pub async fn serve_read_only_stdio(data_dir: &Path) -> Result<(), ServerError> {
    let why = event_store::ReadOnly {
        path: data_dir.to_owned(),
        reason: "no Identity Inspector is running for this data dir, so `identity-inspector mcp` opened it \
                 read-only; start the app or `identity-inspector serve` to capture, wait for events or clear"
            .into(),
        caveat: None,
    };
    let store = event_store::Store::open_read_only(data_dir, why)?;
    // Nothing listens: the address only names the loopback the (unused) Host check would accept.
    let state = AppState::new(store, std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let running =
        Tools::new(state.clone()).serve(rmcp::transport::stdio()).await.map_err(|e| ServerError::Mcp(e.to_string()))?;
    let ended = running.waiting().await;
    state.shutdown.cancel();
    ended.map(drop).map_err(|e| ServerError::Mcp(e.to_string()))
}
