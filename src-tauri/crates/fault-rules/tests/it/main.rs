//! The crate's integration tests, one binary (see CONTRIBUTING.md).

mod book;
mod rules;
mod syntax;

/// Route templates as the server mounts them (`inspector-server/src/lib.rs`, `CAPTURE_PATHS`).
pub const ROUTES: &[&str] = &[
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
    "/flags",
    "/decide",
    "/array/{token}/{file}",
    "/v1/{name}",
    "/beacon/v1/batch",
    "/import",
    "/a",
    "/api/conversations/v1/widget/{*rest}",
];

pub fn rule(text: &str) -> fault_rules::FaultRule {
    fault_rules::parse_rule(text, ROUTES).unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn refused(text: &str) -> String {
    match fault_rules::parse_rule(text, ROUTES) {
        Ok(rule) => panic!("{text} should be refused, got {rule:?}"),
        Err(e) => e.to_string(),
    }
}
