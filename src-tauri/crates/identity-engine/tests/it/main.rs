//! The integration tests of identity-engine, as one test binary (one link instead of one per
//! file). Each module is one area; `support` holds the shared event builders.

mod support;

mod details;
mod device_lanes;
mod finding_groups;
mod forget;
mod kissmetrics_scenarios;
mod lens;
mod lint_rules;
mod mixpanel_original;
mod mixpanel_simplified;
mod mobile_traffic;
mod model_random;
mod model_traffic;
mod random_streams;
mod rudderstack_stitch;
mod scale;
mod scenarios;
mod sdk_traffic;
mod segment_unify;
mod undelivered;
mod users_merged;
mod vendor_random;
mod vendor_scenarios;
mod vendor_traffic;
mod why;
