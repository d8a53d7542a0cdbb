//! Builders for tests, shared by this crate's integration tests and by the crates above it
//! that write straight to a store (the `test-support` feature, enabled only from
//! `[dev-dependencies]`, so release builds never contain it).

use crate::{Micros, NewRequest, Outcome};

/// A fixed, recognisable arrival time: 2026-11-24T12:00:00Z in unix microseconds.
pub const T0: Micros = 1_795_521_600_000_000;

/// An accepted `POST /batch/` of `source`, received at [`T0`]: the request that events a test
/// writes straight to the store belong to.
pub fn accepted_request(source: &str) -> NewRequest {
    NewRequest {
        received_at: T0,
        method: "POST".into(),
        path: "/batch/".into(),
        query: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"batch":[]}"#.to_vec(),
        source: Some(source.into()),
        route: Some("batch".into()),
        outcome: Outcome::Accepted,
        status: 200,
        error: None,
        error_code: None,
        note: None,
        project: None,
    }
}
