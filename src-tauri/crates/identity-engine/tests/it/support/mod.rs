//! Helpers shared by the integration tests: the test project, its clock and the event builder
//! (here once), plus one module per kind of traffic.
#![allow(dead_code)] // each test module uses a different part

pub mod browser;
pub mod engine;
pub mod rng;
pub mod traffic;
pub mod vendor_events;

use chrono::{DateTime, Duration, Utc};
use identity_engine::EventInput;
use serde_json::Value;

pub const P: &str = "phc_test";

/// 2026-11-24T12:00:00Z; events without an explicit time get T0 + seq minutes.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// A PostHog event of project `P` with any properties; seq, uuid and time are filled in by
/// `number`.
pub fn e(event: &str, distinct_id: &str, props: Value) -> EventInput {
    EventInput {
        seq: 0,
        uuid: String::new(),
        project: P.to_owned(),
        source: "posthog".into(),
        event: event.to_owned(),
        distinct_id: distinct_id.to_owned(),
        timestamp: DateTime::UNIX_EPOCH,
        properties: props.as_object().expect("props must be an object").clone(),
    }
}

pub fn at(mut ev: EventInput, minutes: i64) -> EventInput {
    ev.timestamp = t0() + Duration::minutes(minutes);
    ev
}

/// Gives events seq 1..=n, uuids `ev-<seq>`, and default times (t0 + seq minutes).
pub fn number(mut events: Vec<EventInput>) -> Vec<EventInput> {
    for (i, ev) in events.iter_mut().enumerate() {
        ev.seq = i as i64 + 1;
        ev.uuid = format!("ev-{}", ev.seq);
        if ev.timestamp == DateTime::UNIX_EPOCH {
            ev.timestamp = t0() + Duration::minutes(ev.seq);
        }
    }
    events
}
