//! The tools about fault injection: `list_faults`, `add_fault` and `clear_faults`, so an agent can
//! make capture answer like a failing vendor (503, 429, 413, a dropped connection...), trigger
//! the app, and check what it lost. They call what `/api/faults` calls (`crate::faults`); rules
//! are validated there, and the stream tells the UI's "faults active" badge.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use serde::Deserialize;

use super::answer::{failed, Answer};
use super::Tools;
use crate::error::ApiError;
use crate::AppState;

/// `list_faults` and `clear_faults` take no arguments (and refuse any, like every tool).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArguments {}

/// `add_fault` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddFault {
    /// The rule in `serve --fault` syntax: key=value items separated by ',' or ':'. source=posthog|segment|
    /// rudderstack|mixpanel|kissmetrics (or just the name); route=/batch (a path prefix); project=KEY;
    /// status=413|429|500|502|503 (or just the number) with retry_after=SECONDS; drop; v1_retry;
    /// delay_ms=N; count=N (the next N matching requests); share=0.5. Examples: "posthog:503:count=3",
    /// "route=/batch,status=429,retry_after=2,share=0.5", "segment:drop:count=1".
    rule: String,
}

/// Over HTTP, the control token first (the request's head is in the context; over stdio there is
/// none, and the caller is the user's own process).
fn add(state: &AppState, context: &RequestContext<RoleServer>, rule: &str) -> Result<fault_rules::FaultView, ApiError> {
    if let Some(parts) = context.extensions.get::<axum::http::request::Parts>() {
        state.control.check_token(&parts.headers)?;
    }
    crate::faults::add_text(&state.faults, rule).map_err(crate::handlers::faults::refused)
}

/// The rules in force, one line each, then the expired ones.
fn rules_answer(page: &crate::handlers::dto::FaultsPage) -> Answer {
    let mut answer = Answer::new();
    answer.line(format!("{} fault rule(s) in force.", page.active));
    for rule in &page.rules {
        answer.line(format!(
            "- #{} {:?} ({}): {} · matched {}, faulted {}",
            rule.id,
            rule.text,
            if matches!(rule.state, fault_rules::FaultState::Active) { "in force" } else { "expired" },
            rule.description,
            rule.matched,
            rule.fired
        ));
    }
    answer
}

#[tool_router(router = fault_tools, vis = "pub(crate)")]
impl Tools {
    /// The fault rules: which capture requests are answered like a failing vendor (status,
    /// Retry-After, dropped, slow), how many each matched and faulted, and the expired ones.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_faults(&self, Parameters(NoArguments {}): Parameters<NoArguments>) -> CallToolResult {
        rules_answer(&crate::faults::list(&self.state.faults)).done("")
    }

    /// Puts a fault rule in force: matching capture requests are answered like a failing vendor
    /// (and stored as faulted, with the events they carried kept apart), so you can check what
    /// the app retries or loses. Over HTTP it needs this launch's control token in the
    /// x-inspector-token header (identity-inspector mcp sends it). Clear rules when done.
    #[tool(annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
    async fn add_fault(
        &self,
        Parameters(args): Parameters<AddFault>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        match add(&self.state, &context, &args.rule) {
            Ok(rule) => {
                let mut answer = Answer::new();
                answer.line(format!("Fault rule #{} in force: {} ({:?}).", rule.id, rule.description, rule.text));
                answer.line("See its effect with list_faults and search_events; remove it with clear_faults.");
                answer.done("")
            }
            Err(e) => failed(&e),
        }
    }

    /// Removes every fault rule: capture answers normally again. Over HTTP it needs this
    /// launch's control token in the x-inspector-token header.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn clear_faults(
        &self,
        Parameters(NoArguments {}): Parameters<NoArguments>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let state = &self.state;
        if let Some(parts) = context.extensions.get::<axum::http::request::Parts>() {
            if let Err(e) = state.control.check_token(&parts.headers) {
                return failed(&e);
            }
        }
        let removed = crate::faults::clear(&state.faults);
        let mut answer = Answer::new();
        answer.line(format!("Removed {removed} fault rule(s): capture answers normally."));
        answer.done("")
    }
}
