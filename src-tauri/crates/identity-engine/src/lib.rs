//! Identity resolution of analytics vendors, replayed over captured events, so the inspector
//! can show how each vendor turns the ids an SDK sends into persons, and explain every merge and
//! refused merge. Pure: no I/O, no clock, no randomness.
//!
//! The main types:
//! - [`Engine`]: persons, decisions and warnings of every project, from [`EventInput`]s applied
//!   in arrival order; [`Person`] is one resolved person, [`Decision`] what an event did to the
//!   persons and why, in a sentence.
//! - [`Model`]: what the server holds: the engine plus the [`DeviceLane`]s (per device, the ids
//!   it used and how it moved between them) and the lint [`Finding`]s, fed one event at a time.
//! - [`Lens`] ([`vendor_lens`]): one project's traffic under every vendor's rules side by side.
//!
//! The vendor seam: a project gets the rules of its first event's `source` ([`Family`]).
//! Each vendor is one module, `posthog/` (PostHog's person processing, after
//! `nodejs/src/ingestion/common/persons/` in <https://github.com/PostHog/posthog>), `segment/`
//! (Segment Unify's identity resolution), `rudderstack/` (RudderStack's Profiles ID stitcher, a
//! plain union; same wire protocol as Segment) and `mixpanel/`, exposing a `Vendor` whose
//! `apply` processes one event through `step.rs`'s `Step`; `engine.rs` only dispatches
//! (`engine::vendor`, whose doc says how to add a vendor). Mixpanel uses the identity graph of
//! `graph/` with its own limits. Everything after the rules (lanes, findings, lens) reads the
//! same output for every vendor.
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
mod kissmetrics;
mod label;
mod lens;
mod lint;
mod mixpanel;
mod model;
mod origins;
mod posthog;
mod posthog_shape;
mod props;
mod rudderstack;
mod segment;
mod settings;
mod step;
mod types;
mod uuid;
mod why;
mod words;

pub use crate::devices::{DeviceLane, LaneKey, LaneLink, Segment, SessionSpan, Transition, TransitionKind};
pub use crate::engine::Engine;
pub use crate::family::Family;
pub use crate::graph::IdKind;
pub use crate::input::{model_properties, INSPECTOR_ROUTE};
pub use crate::label::looks_anonymous;
pub use crate::lens::{
    compare, vendor_lens, vendor_lens_with, Cluster, Comparison, Disagreement, Lens, Refusal, UserMatch, VendorView,
    VENDORS,
};
pub use crate::lint::{
    group_findings, Finding, FindingGroup, FindingVariant, LintRule, Severity, Undelivered, MAX_REFS,
};
pub use crate::model::{Forgotten, Model, ModelChanges, LISTED_CHANGES};
pub use crate::posthog::is_illegal_distinct_id;
pub use crate::posthog::Cookieless;
pub use crate::settings::{MixpanelIdMerge, PostHogCookieless, ProjectSettings};
pub use crate::types::*;
pub use crate::uuid::{person_uuid, PERSON_UUID_NAMESPACE};
pub use crate::why::{WhichId, WhyAnswer, WhyError, WhySide, WhyStep};

/// Builds an engine from events in arrival order; identical to applying them one by one.
pub fn rebuild(events: impl IntoIterator<Item = EventInput>) -> Result<Engine, EngineError> {
    let mut engine = Engine::new();
    for ev in events {
        engine.apply(&ev)?;
    }
    Ok(engine)
}
