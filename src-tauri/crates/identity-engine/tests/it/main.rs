//! The integration tests of identity-engine, as one test binary (one link instead of one per
//! file). Each module is one area; `support` holds the shared event builders.

mod support;

mod details;
mod device_lanes;
mod lens;
mod lint_rules;
mod mobile_traffic;
mod model_random;
mod model_traffic;
mod random_streams;
mod scale;
mod scenarios;
mod sdk_traffic;
mod vendor_random;
mod vendor_scenarios;
mod vendor_traffic;
