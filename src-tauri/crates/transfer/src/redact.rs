//! What an export leaves out: the secrets a captured request's headers carry.
//!
//! Exports are the files people attach to bug reports, and browsers send cookies to localhost,
//! so by default every format that holds headers (bundle and HAR) writes:
//! - `Cookie` and `Set-Cookie` with each cookie's name kept and its value replaced by
//!   [`REDACTED`] (which cookies were sent is often the question; their values never are);
//! - `Authorization: Basic <base64(write key:)>` and `Authorization: Bearer <token>` with the key
//!   shortened as errors show it ([`capture_decode::redact_key`]): enough to tell projects apart,
//!   not to reuse. Any other scheme, and any password, becomes [`REDACTED`];
//! - `Proxy-Authorization`, the inspector's own control token and every header whose name says
//!   it holds a credential (`token`, `secret`, `password`, `api-key`, `session`, ...) as
//!   [`REDACTED`].
//!
//! Bodies and query strings are written as received: they are what an import rebuilds from, and
//! the project keys they carry are the public, client-side ones the SDKs embed in web pages.
//! [`Secrets::Keep`] (`--keep-secrets`, `?secrets=keep`) writes headers verbatim too.
//!
//! Invariants: redaction only ever touches header values (names, order and count stay), and
//! [`Secrets::Keep`] returns the request unchanged without copying it.

use std::borrow::Cow;

use base64::Engine;
use capture_decode::redact_key;
use event_store::ExportedRequest;

/// What a redacted value is replaced by.
pub const REDACTED: &str = "[redacted]";

/// Whether an export writes secret headers as received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secrets {
    /// Safe to share: the default.
    #[default]
    Redact,
    /// Verbatim, for a file that stays with its owner.
    Keep,
}

impl Secrets {
    /// `redact` or `keep`.
    pub fn parse(text: &str) -> Option<Secrets> {
        match text {
            "redact" => Some(Secrets::Redact),
            "keep" => Some(Secrets::Keep),
            _ => None,
        }
    }
}

/// `request` as an export writes it: unchanged with [`Secrets::Keep`] or when no header is
/// secret, else a copy with the secret header values redacted.
pub fn request(request: &ExportedRequest, secrets: Secrets) -> Cow<'_, ExportedRequest> {
    if secrets == Secrets::Keep || !request.headers.iter().any(|(name, _)| is_secret(name)) {
        return Cow::Borrowed(request);
    }
    let mut copy = request.clone();
    for (name, value) in &mut copy.headers {
        if is_secret(name) {
            *value = header_value(name, value);
        }
    }
    Cow::Owned(copy)
}

/// Whether a header (any case) may carry a credential.
pub fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const EXACT: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];
    const PARTS: [&str; 9] =
        ["token", "secret", "password", "passwd", "api-key", "apikey", "api_key", "session", "auth"];
    EXACT.contains(&name.as_str()) || PARTS.iter().any(|part| name.contains(part))
}

/// The redacted value of the secret header `name`.
fn header_value(name: &str, value: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "cookie" => cookies(value, "; "),
        "set-cookie" => set_cookie(value),
        "authorization" => authorization(value),
        _ => REDACTED.to_owned(),
    }
}

/// `a=1; b=2` -> `a=[redacted]; b=[redacted]`.
fn cookies(value: &str, separator: &str) -> String {
    value
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{}={REDACTED}", name.trim()),
            None => REDACTED.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// `id=abc; Path=/; HttpOnly` -> `id=[redacted]; Path=/; HttpOnly`: only the first pair is the
/// cookie, the rest are its attributes.
fn set_cookie(value: &str) -> String {
    match value.split_once(';') {
        Some((cookie, attributes)) => format!("{};{attributes}", cookies(cookie, "; ")),
        None => cookies(value, "; "),
    }
}

/// Basic and Bearer keep a shortened key (the write key or project token, as in errors);
/// anything else keeps its scheme only.
fn authorization(value: &str) -> String {
    let value = value.trim();
    let Some((scheme, credentials)) = value.split_once(' ') else { return REDACTED.to_owned() };
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some(decoded) = decoded else { return format!("{scheme} {REDACTED}") };
        let (user, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
        let password = if password.is_empty() { "" } else { REDACTED };
        let shortened = format!("{}:{password}", redact_key(user));
        format!("{scheme} {}", base64::engine::general_purpose::STANDARD.encode(shortened))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        format!("{scheme} {}", redact_key(credentials))
    } else {
        format!("{scheme} {REDACTED}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_headers(headers: &[(&str, &str)]) -> ExportedRequest {
        ExportedRequest {
            id: 1,
            received_at: 0,
            method: "POST".into(),
            path: "/batch".into(),
            query: None,
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            body: b"{}".to_vec(),
            outcome: "accepted".into(),
            status: 200,
            error_code: None,
            event_uuids: Vec::new(),
        }
    }

    fn header<'a>(request: &'a ExportedRequest, name: &str) -> &'a str {
        &request.headers.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn basic(text: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(text))
    }

    #[test]
    fn secrets_are_redacted_by_default_and_the_rest_is_kept() {
        let original = with_headers(&[
            ("content-type", "application/json"),
            ("Cookie", "ph_phc_x_posthog=%7B%22distinct_id%22; mp_abc=secret"),
            ("authorization", &basic("wk_live_0123456789abcdef:")),
            ("proxy-authorization", "Basic dXNlcjpwYXNz"),
            ("x-inspector-token", "t0k3n"),
            ("x-api-key", "k"),
            ("user-agent", "posthog-js/1.0"),
        ]);
        let redacted = request(&original, Secrets::default());
        assert_eq!(header(&redacted, "content-type"), "application/json");
        assert_eq!(header(&redacted, "user-agent"), "posthog-js/1.0");
        assert_eq!(header(&redacted, "Cookie"), "ph_phc_x_posthog=[redacted]; mp_abc=[redacted]");
        assert_eq!(header(&redacted, "authorization"), basic("wk_live_…:"));
        assert_eq!(header(&redacted, "proxy-authorization"), REDACTED);
        assert_eq!(header(&redacted, "x-inspector-token"), REDACTED);
        assert_eq!(header(&redacted, "x-api-key"), REDACTED);
        assert_eq!(redacted.headers.len(), original.headers.len());
        assert_eq!(redacted.body, original.body);
    }

    #[test]
    fn keep_writes_every_header_as_received_without_copying() {
        let original = with_headers(&[("cookie", "a=1"), ("authorization", "Bearer phc_0123456789")]);
        assert!(matches!(request(&original, Secrets::Keep), Cow::Borrowed(_)));
        let plain = with_headers(&[("content-type", "text/plain")]);
        assert!(matches!(request(&plain, Secrets::Redact), Cow::Borrowed(_)));
    }

    #[test]
    fn authorization_keeps_a_shortened_key_and_never_a_password() {
        assert_eq!(authorization("Bearer phc_0123456789abcdef"), "Bearer phc_0123…");
        assert_eq!(authorization(&basic("user:hunter2")), basic("user:[redacted]"));
        assert_eq!(authorization("Digest username=x, response=y"), "Digest [redacted]");
        assert_eq!(authorization("Basic not base64!"), "Basic [redacted]");
        assert_eq!(authorization("opaque"), REDACTED);
    }

    #[test]
    fn set_cookie_keeps_its_attributes() {
        assert_eq!(set_cookie("id=abc; Path=/; HttpOnly"), "id=[redacted]; Path=/; HttpOnly");
        assert_eq!(set_cookie("id=abc"), "id=[redacted]");
    }

    #[test]
    fn secrets_parse_from_the_flag_values() {
        assert_eq!(Secrets::parse("keep"), Some(Secrets::Keep));
        assert_eq!(Secrets::parse("redact"), Some(Secrets::Redact));
        assert_eq!(Secrets::parse("yes"), None);
    }
}
