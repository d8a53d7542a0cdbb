//! Wire decoding for analytics capture requests.
//!
//! The main types: a request as received ([`Received`], lent to decoders as [`Incoming`]), the
//! [`Protocol`] it speaks, and what [`Protocol::handle`] makes of it: an [`Outcome`] (the
//! [`Event`]s to store in a [`Capture`] and the [`Reply`] the SDK expects) or a [`Refusal`]
//! (a [`Rejection`] naming what was wrong, with that vendor's error reply). Nothing here touches
//! the network or the disk, so every decoder can be tested and fuzzed on bytes alone.
//!
//! Vendors: [`posthog`], [`segment`] (also RudderStack), [`mixpanel`] and [`kissmetrics`], one
//! folder each, all producing the same [`Event`]. Which one a request speaks is
//! [`Protocol::recognise`]'s job: by path, except `/track`, `/engage` (body) and `/decide`,
//! `/flags` (query), which PostHog and Mixpanel share, and `/e`, `/s` (KISSmetrics' parameters),
//! which PostHog and KISSmetrics share.

mod capture;
mod error;
pub mod kissmetrics;
pub mod lz64;
pub mod mixpanel;
pub mod payload;
pub mod posthog;
mod project_key;
pub mod protocol;
mod reply;
pub mod segment;
pub mod timestamp;

pub use capture::{Capture, Event, Outcome, Refusal};
pub use error::{human_size, redact_key, Rejection};
pub use protocol::Protocol;
pub use reply::Reply;

use chrono::{DateTime, Utc};

/// A borrowed view of one request as it reached the inspector: what the decoders read (tests and
/// fuzz targets build one over their own buffers). Header names are compared case-insensitively.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub received_at: DateTime<Utc>,
}

impl<'a> Incoming<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter, percent-decoded (`+` becomes a space, as in forms).
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// A request as received, owned: what the server keeps whatever happens to it, what an import
/// replays and what forward mode sends on. [`Received::incoming`] lends it to the decoders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub received_at: DateTime<Utc>,
    pub method: String,
    /// Path without the query, as the capture routes see it (an import has already removed a
    /// reverse proxy's prefix).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
            received_at: self.received_at,
        }
    }
}

/// The source family a request belongs to. Stored with every event so views can filter by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Posthog,
    Segment,
    Rudderstack,
    Mixpanel,
    Kissmetrics,
}

impl Source {
    pub const ALL: [Source; 5] =
        [Source::Posthog, Source::Segment, Source::Rudderstack, Source::Mixpanel, Source::Kissmetrics];

    /// The value stored in `events.source` and `requests.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Posthog => "posthog",
            Source::Segment => "segment",
            Source::Rudderstack => "rudderstack",
            Source::Mixpanel => "mixpanel",
            Source::Kissmetrics => "kissmetrics",
        }
    }
}
