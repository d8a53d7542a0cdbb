use event_store::StoreError;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Scope(#[from] crate::scope::SelectionError),
}

/// Why one recorded request (a bundle line, a HAR entry) cannot be read back as received.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("received_at {0:?} is not an RFC 3339 time ({1})")]
    ReceivedAt(String, chrono::ParseError),
    #[error("startedDateTime {0:?} is not an ISO 8601 time ({1})")]
    StartedAt(String, chrono::ParseError),
    #[error("body_base64 is not base64 ({0})")]
    BodyBase64(base64::DecodeError),
    #[error("the body of {url} ({file}) is missing from the HAR's zip: {error}")]
    MissingAttachment { url: String, file: String, error: std::io::Error },
    #[error("the body of {url} is in an attached file ({file}); import the HAR's .zip")]
    AttachedBody { url: String, file: String },
    #[error("postData of {url} is marked base64 but is not ({error})")]
    PostDataBase64 { url: String, error: base64::DecodeError },
    #[error("the body of {0} was gzip, but the HAR recorder stored it as text and lost bytes; record the HAR with bodies attached (Playwright: recordHar to a .zip) or with compression off")]
    GzipStoredAsText(String),
}

/// Why a file could not be read (import, replay). Every message names the line or entry.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not a file Identity Inspector can import: {0}")]
    UnknownFormat(String),
    #[error("bundle version {found} is newer than this Identity Inspector understands (up to {known}); update the app to open it")]
    NewerVersion { found: u64, known: u64 },
    #[error("the bundle is truncated: {0}")]
    Truncated(String),
    #[error("{what} is not valid JSON: {error}")]
    Json { what: String, error: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the HAR holds no analytics requests ({entries} entries looked at; the inspector recognises PostHog's capture routes on any host)")]
    NoAnalytics { entries: usize },
}

impl FileError {
    pub(crate) fn json(what: impl Into<String>, error: impl std::fmt::Display) -> FileError {
        FileError::Json { what: what.into(), error: error.to_string() }
    }
}
