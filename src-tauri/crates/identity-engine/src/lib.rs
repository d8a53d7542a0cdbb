//! PostHog's person rules, replayed over captured events so the inspector can show exactly how
//! PostHog turns distinct ids into persons, and explain every merge and refused merge. Segment
//! (and RudderStack) and Mixpanel projects get their vendor's identity rules instead
//! (`segment.rs`, `mixpanel.rs` over the shared identity graph of `graph.rs`), chosen per project
//! from the events' `source` (`Family`), with the same output: persons, decisions, device lanes,
//! findings. `vendor_lens` runs one project's traffic under all three vendors' rules.
//!
//! Pure: no I/O, no clock, no randomness. The rules are those of
//! `/work/shared/spec/identity-semantics.md` §1, checked against PostHog's ingestion code
//! (`nodejs/src/ingestion/common/persons/`).
//!
//! ```
//! use identity_engine::{Engine, EventInput};
//! let mut engine = Engine::new();
//! let ev = |seq: i64, event: &str, id: &str, props: serde_json::Value| EventInput {
//!     seq, uuid: format!("e{seq}"), project: "phc".into(), source: "posthog".into(), event: event.into(), distinct_id: id.into(),
//!     timestamp: chrono::DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap(),
//!     properties: props.as_object().unwrap().clone(),
//! };
//! engine.apply(&ev(1, "$pageview", "anon-1", serde_json::json!({}))).unwrap();
//! engine.apply(&ev(2, "$identify", "user-1", serde_json::json!({"$anon_distinct_id": "anon-1"}))).unwrap();
//! let person = engine.person_for("phc", "user-1").unwrap();
//! assert_eq!(person.distinct_ids, ["anon-1", "user-1"]);
//! assert!(person.is_identified);
//! ```

mod devices;
mod engine;
mod family;
mod graph;
mod index;
mod input;
mod js;
mod lens;
mod lint;
mod mixpanel;
mod model;
mod origins;
mod posthog;
mod posthog_shape;
mod props;
mod segment;
mod step;
mod types;
mod uuid;

pub use crate::devices::{DeviceLane, LaneKey, LaneLink, Segment, SessionSpan, Transition, TransitionKind};
pub use crate::engine::Engine;
pub use crate::family::Family;
pub use crate::graph::IdKind;
pub use crate::input::model_properties;
pub use crate::lens::{
    compare, vendor_lens, Cluster, Comparison, Disagreement, Lens, Refusal, UserMatch, VendorView, VENDORS,
};
pub use crate::lint::{Finding, LintRule, Severity, MAX_REFS};
pub use crate::model::{Model, ModelChanges};
pub use crate::posthog::is_illegal_distinct_id;
pub use crate::types::*;
pub use crate::uuid::{person_uuid, PERSON_UUID_NAMESPACE};

/// Builds an engine from events in arrival order; identical to applying them one by one.
pub fn rebuild(events: impl IntoIterator<Item = EventInput>) -> Result<Engine, EngineError> {
    let mut engine = Engine::new();
    for ev in events {
        engine.apply(&ev)?;
    }
    Ok(engine)
}
