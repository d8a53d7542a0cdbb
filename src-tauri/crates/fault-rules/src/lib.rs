//! Fault injection: rules that make the inspector's capture routes answer like a struggling
//! vendor (413, 429 with `Retry-After`, 500/502/503, a slow answer, a dropped connection, Capture
//! V1's per-event `retry`), so an app's test can see what its SDK loses when PostHog, Segment or
//! Mixpanel has a bad day. Pure: no I/O; the server carries the rules out (`inspector-server`'s
//! `faults.rs` and its capture handler).
//!
//! The main types:
//! - [`FaultSpec`]: a rule as asked for (JSON from `POST /api/faults`, or the text syntax of
//!   [`syntax`] from `serve --fault`), made a [`FaultRule`] by [`FaultSpec::validate`] or refused
//!   with a [`FaultError`] that says what would be accepted.
//! - [`FaultRule`]: a [`Matcher`] (source, route prefix, project), an [`Effect`] (an [`Answer`]
//!   and a delay) and a [`Scope`] (the next N requests, a share of them, or both).
//! - [`FaultBook`]: the rules in force; [`FaultBook::check`] tells the capture handler whether a
//!   request ([`Target`]) is to be faulted ([`Fired`]) and counts it.

mod book;
mod error;
mod rule;
pub mod syntax;

pub use book::{FaultBook, FaultState, FaultView, Fired, Target};
pub use error::{FaultError, FAULT_STATUSES, MAX_DELAY_MS, MAX_RETRY_AFTER, RETRY_AFTER_STATUSES};
pub use rule::{Answer, Effect, FaultRule, FaultSpec, Matcher, Scope, V1_DEFAULT_RETRY_AFTER};

/// Parses and validates a rule written in the text syntax (see [`syntax`]).
pub fn parse_rule(text: &str, known_routes: &[&str]) -> Result<FaultRule, FaultError> {
    syntax::parse(text)?.validate(known_routes)
}
