use std::fmt;

/// Why a request was refused, with the HTTP status the vendor would answer and a machine code.
///
/// The message is for a developer reading the inspector: it names the event, the field or the
/// decoding step that failed. It never contains a full project key (see [`redact_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Rejection { status, code, message: message.into() }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(401, code, message)
    }
    /// Says which decoding steps ran before this failure: a body that happened to be valid
    /// base64 (`null`, `true`, `abcd`) is decoded as such, and "not valid UTF-8" alone would
    /// make no sense for it.
    pub fn after_steps(mut self, steps: &[&str]) -> Self {
        if !steps.is_empty() {
            self.message = format!("{} (after decoding the body as: {})", self.message, steps.join(", then "));
        }
        self
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("decompressed payload is larger than the {} limit for this route", human_size(limit)),
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Rejection {}

pub fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Keys are shown by their first characters only: enough to tell projects apart, not to reuse.
pub fn redact_key(key: &str) -> String {
    let shown: String = key.chars().take(8).collect();
    if shown.len() < key.len() {
        format!("{shown}…")
    } else {
        shown
    }
}
