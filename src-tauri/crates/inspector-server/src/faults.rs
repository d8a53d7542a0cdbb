//! Fault injection as the server runs it: the rule book every capture request checks (rules
//! from `POST /api/faults`, `serve --fault`, the UI or an MCP tool), and the plain functions each
//! of those calls, so they all add, list and clear rules the same way.
//!
//! Where faults sit in the capture path (`handlers/capture.rs`): a request is read and decided
//! (`ingest::decide`) as always; only a request the vendor would accept can be faulted (one it
//! would refuse keeps its real refusal). A fired rule's request is stored with outcome `faulted`
//! and the fault in its `error`, its events kept apart from stored events
//! (`event_store::Delivery`), before the SDK gets the fault's answer; a rule that only delays
//! stores the request as accepted, then waits, then answers normally.
//!
//! Invariants:
//! - Nothing the inspector answered 200 is lost to a fault: a faulted request's events are never
//!   acknowledged as stored (a status, a dropped connection, or Capture V1 `retry` for each event),
//!   and a delayed request is committed before the wait, so an SDK that gives up waiting and
//!   resends makes a second copy, as it would at PostHog.
//! - Rules are in memory: a restart starts without any (`serve --fault` sets them again).

use chrono::Utc;
use fault_rules::{FaultBook, FaultError, FaultRule, FaultSpec, FaultView};

use crate::handlers::dto::FaultsPage;

/// Every route template the server mounts for SDKs (capture, flags, config, settings): a rule's
/// route must lead to one of them.
pub fn known_routes() -> Vec<&'static str> {
    let mut routes: Vec<&'static str> = crate::CAPTURE_PATHS.to_vec();
    routes.extend(capture_decode::posthog::SDK_API_PATHS);
    routes.push("/api/conversations/v1/widget/{*rest}");
    routes
}

/// The rules, in force first (in the order they are checked), then the expired ones.
pub fn list(book: &FaultBook) -> FaultsPage {
    FaultsPage { active: book.active(), rules: book.list() }
}

/// Validates `spec` and puts it in force.
pub fn add(book: &FaultBook, spec: FaultSpec) -> Result<FaultView, FaultError> {
    let rule = spec.validate(&known_routes())?;
    let view = book.add(rule, Utc::now());
    tracing::warn!(rule = %view.text, "fault rule #{} in force: {}", view.id, view.description);
    Ok(view)
}

/// A rule in the text syntax (`posthog:503:count=3`, see `fault_rules::syntax`), validated
/// against this server's routes, without putting it in force (`serve --fault` checks its rules
/// before it starts).
pub fn parse(text: &str) -> Result<FaultRule, FaultError> {
    fault_rules::parse_rule(text, &known_routes())
}

/// Parses a rule in the text syntax and puts it in force.
pub fn add_text(book: &FaultBook, text: &str) -> Result<FaultView, FaultError> {
    add(book, fault_rules::syntax::parse(text)?)
}

/// Removes rule `id` (in force or expired); returns it as it was.
pub fn remove(book: &FaultBook, id: u64) -> Result<FaultView, FaultError> {
    let removed = book.remove(id)?;
    tracing::info!(rule = %removed.text, "fault rule #{id} removed");
    Ok(removed)
}

/// Removes every rule; returns how many were in force.
pub fn clear(book: &FaultBook) -> usize {
    let removed = book.clear();
    tracing::info!(removed, "fault rules cleared");
    removed
}
