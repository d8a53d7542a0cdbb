//! The crate's integration tests, one binary (see CONTRIBUTING.md).

mod book;
mod rules;
mod syntax;

/// Some route templates as the server mounts them (`inspector-server/src/faults.rs`,
/// `known_routes`): plain paths, one of each template kind, and Capture V1's paths.
pub const ROUTES: &[&str] = &[
    "/e",
    "/batch",
    "/flags",
    "/i/v1/analytics/events",
    "/i/v1/logs",
    "/v1/{name}",
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
