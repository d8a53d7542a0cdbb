use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// Unix microseconds, the unit every time column uses.
pub type Micros = i64;

pub fn to_micros(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

pub fn format_micros(micros: Micros) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn ser_micros<S: Serializer>(micros: &Micros, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_micros(*micros))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Rejected,
    /// Answered by a fault rule (an error status, a dropped connection, Capture V1 `retry`s)
    /// instead of the vendor's answer: its events were not stored as events (see
    /// `deliveries.rs`), since the SDK was told they were not delivered.
    Faulted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Faulted => "faulted",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Accepted, Outcome::Rejected, Outcome::Faulted].into_iter().find(|o| o.as_str() == text)
    }
}

/// A request exactly as received, plus what the inspector made of it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub received_at: Micros,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub source: Option<String>,
    pub route: Option<String>,
    pub outcome: Outcome,
    pub status: u16,
    pub error: Option<String>,
    pub error_code: Option<String>,
    /// Anything worth telling about an accepted request (dropped events, decoding steps).
    pub note: Option<String>,
    /// The project key the request names when no event says it (refused, or no events); the
    /// writer stores the first event's project otherwise.
    pub project: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub uuid: String,
    pub project: String,
    pub source: String,
    pub event: String,
    pub distinct_id: String,
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    pub timestamp: Micros,
    pub original_timestamp: Option<String>,
    pub sent_at: Option<String>,
    pub received_at: Micros,
    /// A JSON object, already serialised.
    pub properties: String,
    pub warnings: Vec<String>,
}

/// What a write got once its transaction committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub request_id: i64,
    /// Arrival sequence numbers of the request's events, `first..=last`; `None` when it had none.
    pub seqs: Option<(i64, i64)>,
    /// Events not stored because their `(project, uuid)` already was (see `writer::insert`).
    pub duplicates: u64,
}

/// Announced to live subscribers after each commit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Events {
        request_id: i64,
        project: String,
        source: String,
        count: i64,
        first_seq: i64,
        last_seq: i64,
    },
    Rejected {
        request_id: i64,
        method: String,
        path: String,
        status: u16,
        error: String,
    },
    /// A request a fault rule answered (see [`Outcome::Faulted`]); `events` is how many events it
    /// carried, none of them stored as events.
    Faulted {
        request_id: i64,
        method: String,
        path: String,
        status: u16,
        error: String,
        events: i64,
    },
    /// A data set's import completed (`Store::import`); its chunks announce nothing before.
    Imported {
        dataset: String,
        requests: i64,
        events: i64,
        first_seq: Option<i64>,
        last_seq: Option<i64>,
    },
    /// Old data was removed (`all`: everything was cleared). Anything derived from the events
    /// (the identity model, a page's list) should be rebuilt.
    Pruned {
        events: u64,
        requests: u64,
        all: bool,
    },
    /// One project's traffic was deleted (`Store::delete_project`): what showed it should be
    /// refreshed. Its identity settings stay.
    ProjectDeleted {
        project: String,
        events: u64,
        requests: u64,
    },
    /// A project's identity settings were written (`Store::set_project_settings`): the identity
    /// model must be replayed under them, and every view showing that project refreshed.
    Settings {
        project: String,
    },
}

// A stored event as every read hands it out: the API's pages (serialised as JSON) and exports
// (streamed row by row, `properties` and `warnings` written out as the text they are). A plain
// comment, not a doc comment: ts-rs would copy a doc comment into the generated UI types.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredEvent {
    pub uuid: String,
    pub project: String,
    pub source: String,
    pub event: String,
    pub distinct_id: String,
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub timestamp: Micros,
    pub original_timestamp: Option<String>,
    pub sent_at: Option<String>,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Micros,
    pub seq: i64,
    pub request_id: i64,
    /// A JSON object; `null` only in a page read without properties
    /// (`EventFilter::without_properties`, `/api/events?properties=false`).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown> | null"))]
    pub properties: JsonText,
    /// A JSON array of strings, or null.
    #[cfg_attr(feature = "ts", ts(type = "string[] | null"))]
    pub warnings: Option<JsonText>,
}

/// JSON text exactly as a column holds it. Reading it copies the text and parses nothing, so an
/// export of a million events never parses their properties; serialising it writes the JSON it
/// holds (not a string of it).
///
/// Invariants:
/// - The writer only stores text it serialised itself, so the text is valid JSON. Should a
///   column ever hold something else, it serialises as `null` rather than failing a whole page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// The text as stored.
    pub fn get(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<String> for JsonText {
    fn from(text: String) -> JsonText {
        JsonText(text)
    }
}

impl std::ops::Deref for JsonText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(&self.0) {
            Ok(raw) => raw.serialize(s),
            Err(_) => s.serialize_none(),
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredRequest {
    pub id: i64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Micros,
    pub source: Option<String>,
    pub route: Option<String>,
    /// `accepted`, `rejected` or `faulted`.
    #[cfg_attr(feature = "ts", ts(as = "Outcome"))]
    pub outcome: String,
    pub status: u16,
    pub error: Option<String>,
    pub error_code: Option<String>,
    /// Events stored from it; for a faulted request, the events it carried (none stored).
    pub event_count: i64,
    pub note: Option<String>,
    pub body_size: i64,
    pub body_preview: String,
    /// The project key the request named (its events' project, or for a refused request or one
    /// without events, the key its vendor reads); null when none was readable.
    pub project: Option<String>,
}

/// One request with everything needed to show or replay it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestDetail {
    #[serde(flatten)]
    pub summary: StoredRequest,
    /// `[name, value]` pairs in the order received.
    #[cfg_attr(feature = "ts", ts(type = "Array<[string, string]>"))]
    pub headers: Box<RawValue>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The uuids of its events, in order: those stored, or for a faulted request those it
    /// carried (stored as faulted events, not as events).
    pub event_uuids: Vec<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectSummary {
    pub project: String,
    pub source: String,
    pub events: i64,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub first_seen: Micros,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub last_seen: Micros,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Totals {
    pub events: i64,
    pub requests: i64,
    pub rejected: i64,
    /// Requests a fault rule answered.
    pub faulted: i64,
}
