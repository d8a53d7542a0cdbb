//! Builders for tests, shared by this crate's integration tests and by the crates above it
//! that write straight to a store (the `test-support` feature, enabled only from
//! `[dev-dependencies]`, so release builds never contain it).

use crate::{Micros, NewEvent, NewRequest, Outcome};

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

/// Event `i` of `project`: a `tick` of one user, uuid `e{i}`, received `i` microseconds after
/// [`T0`], so a test's events arrive in a known order.
pub fn tick(i: usize, project: &str) -> NewEvent {
    NewEvent {
        uuid: format!("e{i}"),
        project: project.into(),
        source: "posthog".into(),
        event: "tick".into(),
        distinct_id: "someone".into(),
        device_id: None,
        session_id: None,
        timestamp: T0,
        original_timestamp: None,
        sent_at: None,
        received_at: T0 + i as i64,
        properties: "{}".into(),
        warnings: Vec::new(),
    }
}
