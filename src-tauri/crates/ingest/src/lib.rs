//! What live capture, imports and the CLI share, and that needs no HTTP.
//!
//! The main types: [`Decision`] (what to store for one received request and what to answer,
//! made by [`decide`]) and [`Decoded`] (one step of stored events read back as the identity
//! model's [`EventInput`](identity_engine::EventInput)s).
//!
//! - Into the store: [`decide`] and [`record`] for the live capture handler, [`decode_raw`] for
//!   imports, so an imported request is stored exactly as if it had just arrived.
//! - Out of the store: [`Decoded::read`], [`project_events`] and [`rebuild_model`] feed the
//!   identity model, started by [`empty_model`] under each project's [`stored_settings`];
//!   [`person_distinct_ids`] and [`device_scope`] resolve export scopes with it.
//!
//! Invariants:
//! - A request crosses into `capture-decode` once ([`Protocol::handle`](capture_decode::Protocol::handle)):
//!   which vendor, which events and which reply are decided there, never here.
//! - Every accepted event becomes its row through one mapping ([`decision`]'s `new_event`),
//!   whatever its vendor.

mod decision;
mod model_input;
mod scope;

pub use decision::{
    decide, decode_raw, decoded_body, read_limit, record, too_large, unknown_route, Decision, Label, UNKNOWN_PATH_LIMIT,
};
pub use model_input::{
    empty_model, project_events, rebuild_model, stored_settings, to_input, undelivered, Decoded, STEP,
    UNDELIVERED_LIMIT,
};
pub use scope::{device_scope, person_distinct_ids, ScopeError};
