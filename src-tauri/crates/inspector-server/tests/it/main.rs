//! The server's integration tests, one binary (one link on a two-core CI): the router driven with
//! axum's `oneshot` over a real store in a temporary folder (`common`), per area.
//!
//! Two tests stay their own binaries: `tests/storage_full.rs` sets a process-wide environment
//! variable that caps every store's size, and `tests/gen_types.rs` (feature `ts`) writes the UI's
//! generated API types.

mod common;

mod api;
mod bad_input_corpus;
mod capture;
mod connections;
mod control;
mod cors_hosts;
mod export_api;
mod export_held;
mod export_roundtrip;
mod export_secrets;
mod faults;
mod forward;
mod forward_bounds;
mod identity_backlog;
mod identity_import;
mod identity_off_workers;
mod identity_vendors;
mod kissmetrics;
mod live;
mod long_poll;
mod mcp;
mod merged_users;
mod mixpanel_merge_route;
mod non_utf8_data_dir;
mod posthog_cookieless;
mod posthog_sdk_routes;
mod project_delete;
mod read_only;
mod rejections;
mod reserved_tokens;
mod settings;
mod stream_fanout;
mod ui;
mod ui_api;
mod vendors;
mod why;
