//! Wire decoding for analytics capture requests.
//!
//! Input is a request exactly as received ([`Incoming`]); output is either a list of normalised
//! events with the reply the SDK expects, or a [`Rejection`] that names what was wrong. Nothing here
//! touches the network or the disk, so every decoder can be tested and fuzzed on bytes alone.
//!
//! Families: [`posthog`] (its own `Event` and replies), [`segment`] (also RudderStack) and
//! [`mixpanel`], which both produce [`wire::WireEvent`]s shaped like the store's rows. Which
//! family a request speaks is [`family::recognise`]'s job: by path, except `/track`, `/engage`
//! (body) and `/decide`, `/flags` (query), which PostHog and Mixpanel share.

mod error;
pub mod family;
pub mod lz64;
pub mod mixpanel;
pub mod payload;
pub mod posthog;
pub mod segment;
pub mod timestamp;
pub mod wire;

pub use error::{human_size, redact_key, Rejection};

use chrono::{DateTime, Utc};

/// One HTTP request as it reached the inspector. Header names are compared case-insensitively.
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

/// A request as received, owned: what the server keeps whatever happens to it, and what an
/// import replays. [`Received::incoming`] lends it to the decoders.
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
}

impl Source {
    pub const ALL: [Source; 4] = [Source::Posthog, Source::Segment, Source::Rudderstack, Source::Mixpanel];

    /// The value stored in `events.source` and `requests.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Posthog => "posthog",
            Source::Segment => "segment",
            Source::Rudderstack => "rudderstack",
            Source::Mixpanel => "mixpanel",
        }
    }
}
