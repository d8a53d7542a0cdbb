//! The HTTP edge of the server: one module per group of routes, plus the shapes they read and
//! write. Handlers only translate between HTTP and the services (`crate::control`,
//! `crate::identity`, `crate::forward`) and crates (`ingest`, `event-store`, `transfer`) that do the
//! work, so the same work is reachable from the CLI and the desktop shell without HTTP. A read
//! handler unpacks its request and calls the plain query function beside it (`events_page`,
//! `why_answer`, ...), which is what the MCP tools (`crate::mcp`) call: one query, two edges.
//!
//! - Capture, for SDKs: [`capture`] (every vendor's routes; permissive CORS).
//! - `/api`, for the UI and scripts (no CORS, Host checked by [`host_guard`]): [`traffic`] (health,
//!   events, requests, projects), [`identity`] (persons, devices, decisions, warnings, lens),
//!   [`transfer`] (export, import, data sets), [`control`] (pause, retention, theme, clear, delete a
//!   project; token), [`settings`] (per-project identity settings; token), [`faults`] (fault
//!   rules, token; deliveries), [`stream`] (server-sent events), [`test_probe`] (the e2e tests'
//!   page probe).
//! - The UI's files: [`ui`].
//! - Shared by the events handlers: [`decision_pill`] (the decision an Events row names).
//! - Shapes: [`dto`] (every response body; generated into the UI's TypeScript), [`params`] (query,
//!   path and body extractors that answer bad input as `ApiError`), [`sources`] (`?source=`).
//! - [`long_poll`]: `wait` and `min` on the list reads (answer once enough items match).

pub mod capture;
pub mod control;
pub mod decision_pill;
pub mod dto;
pub mod faults;
pub mod host_guard;
pub mod identity;
pub mod long_poll;
pub mod params;
pub mod settings;
pub mod sources;
pub mod stream;
pub mod test_probe;
pub mod traffic;
pub mod transfer;
pub mod ui;
