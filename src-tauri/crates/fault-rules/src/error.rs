//! The crate's one error type: why a rule was refused (every message says what would be
//! accepted instead), or why a rule could not be removed.

/// The statuses a rule may answer with, in the order messages list them.
pub const FAULT_STATUSES: [u16; 5] = [413, 429, 500, 502, 503];
/// The statuses `retry_after` goes with (RFC 9110 §10.2.3 names 503 and 3xx, RFC 6585 §4 names 429).
pub const RETRY_AFTER_STATUSES: [u16; 2] = [429, 503];
/// The longest `delay_ms` (5 minutes): longer than any SDK waits for an answer.
pub const MAX_DELAY_MS: u64 = 300_000;
/// The longest `retry_after` (1 hour; @posthog/core caps what it honours at 5 minutes).
pub const MAX_RETRY_AFTER: u32 = 3_600;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("a fault rule needs an effect: status=413|429|500|502|503, delay_ms=N, drop or v1_retry")]
    NoEffect,
    #[error("status {0} is not a fault: use 413, 429, 500, 502 or 503 (a success is what capture answers anyway)")]
    SuccessIsNotAFault(u16),
    #[error("status {0} is not a fault the inspector injects: use 413, 429, 500, 502 or 503")]
    UnsupportedStatus(u16),
    /// Two answers in one rule (`first` and `second` name them as written).
    #[error("{first} and {second} cannot both apply: a rule gives one answer (add two rules instead)")]
    TwoAnswers { first: &'static str, second: &'static str },
    #[error("retry_after goes with status 429 or 503 (or v1_retry), the answers whose Retry-After SDKs read")]
    RetryAfterWithoutStatus,
    #[error("retry_after must be between 1 and {MAX_RETRY_AFTER} seconds, not {0}")]
    RetryAfterOutOfRange(u64),
    #[error("delay_ms must be between 1 and {MAX_DELAY_MS} (5 minutes), not {0}")]
    DelayOutOfRange(u64),
    #[error("share must be between 0 and 1 (the fraction of matching requests to fault), not {0}")]
    ShareOutOfRange(f64),
    #[error("count must be at least 1 (the number of requests to fault before the rule expires)")]
    CountZero,
    #[error("unknown source {0:?}: use posthog, segment, rudderstack, mixpanel or kissmetrics")]
    UnknownSource(String),
    #[error("route must be a path starting with '/', not {0:?}")]
    RouteNotAPath(String),
    #[error("no capture route starts with {0:?}: use an SDK path such as /batch, /e, /i/v0/e, /v1/batch or /track")]
    UnknownRoute(String),
    #[error("project must not be empty: leave it out to match every project")]
    EmptyProject,
    #[error("v1_retry answers Capture V1's per-event results: it needs source=posthog or a route under /i/v1/ (e.g. /i/v1/analytics/events), not {0}")]
    V1RetryOutsideV1(String),
    #[error("unknown key {0:?} in a fault rule: use source, route, project, status, retry_after, delay_ms, drop, v1_retry, count or share")]
    UnknownKey(String),
    #[error("{key} must be {expected}, not {value:?}")]
    BadValue { key: &'static str, expected: &'static str, value: String },
    #[error("{0} is given twice")]
    Repeated(&'static str),
    #[error("{0:?} is not part of a fault rule: write key=value (e.g. status=503), a source (posthog), a status (503), a route (/batch), drop or v1_retry")]
    UnknownWord(String),
    #[error("a fault rule is empty: e.g. posthog:503:count=3 or route=/batch,status=429,retry_after=2,share=0.5")]
    Empty,
    #[error("no fault rule with id {0}")]
    NoSuchRule(u64),
}
