//! The decoders' integration tests, one binary (one link on a two-core CI): routes, payload
//! unwrapping, event normalisation, refusals, and every recorded SDK request
//! (`tests/fixtures/sdk-traffic/`) decoded as the vendor would.

mod common;

mod decoding;
mod events;
mod failing;
mod fixtures;
mod kissmetrics;
mod mixpanel_fixtures;
mod mobile_fixtures;
mod rejections;
mod routes;
mod segment_fixtures;
mod segment_rejections;
