//! One event in PostHog's capture format, as a line of an NDJSON export and as an item of a
//! replayed `/batch` request's `batch` array.

use serde_json::value::RawValue;

#[derive(serde::Serialize)]
pub(crate) struct Line<'a> {
    pub uuid: &'a str,
    pub event: &'a str,
    pub distinct_id: &'a str,
    /// The corrected (server) time, RFC 3339 with microseconds.
    pub timestamp: String,
    pub properties: &'a RawValue,
    /// The event's project token; a replay puts it on the batch instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<&'a str>,
    /// The vendor, for events not PostHog's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
}
