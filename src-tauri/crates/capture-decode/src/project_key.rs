//! Reading a project key from a body that may not parse: each vendor folder says which keys
//! name its project (`posthog::project_key`, `segment::project_key`); this finds the first such
//! `"key": "value"` pair in the raw text, for a body refused as invalid JSON (a posthog-js batch
//! whose gzip holds a cut-off JSON still names its `api_key` or `token`).

/// The longest key value taken: project keys are short; anything longer is not one.
const MAX_KEY: usize = 200;

/// The string value of the first `"name": "value"` in `text` for any of `names`, when the value
/// has no escapes and is 1..=200 characters; `None` otherwise.
pub(crate) fn quoted_value(text: &[u8], names: &[&str]) -> Option<String> {
    let text = String::from_utf8_lossy(text);
    names
        .iter()
        .filter_map(|name| {
            let needle = format!("\"{name}\"");
            text.match_indices(&needle).find_map(|(at, _)| value_after(&text[at + needle.len()..]).map(|v| (at, v)))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, v)| v)
}

/// `: "value"` (whitespace allowed around the colon) at the start of `rest`.
fn value_after(rest: &str) -> Option<String> {
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    let value = rest[..end].trim();
    (rest[end..].starts_with('"') && !value.is_empty() && value.chars().count() <= MAX_KEY).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_named_key_with_a_plain_value() {
        let cut = br#"{"batch": [{"event": "x", "properties": {"token" : "phc_a", "$lib": "web"}}], "api_k"#;
        assert_eq!(quoted_value(cut, &["api_key", "token"]).as_deref(), Some("phc_a"));
        let both = br#"{"api_key":"phc_b","batch":[{"properties":{"token":"phc_c"}}"#;
        assert_eq!(quoted_value(both, &["token", "api_key"]).as_deref(), Some("phc_b"), "first in the text");
        assert_eq!(quoted_value(br#"{"token": 12, "api_key": "ok"}"#, &["token", "api_key"]).as_deref(), Some("ok"));
        assert_eq!(quoted_value(br#"{"token": "a\"b"}"#, &["token"]), None, "escaped values are not keys");
        assert_eq!(quoted_value(br#"{"token": ""}"#, &["token"]), None);
        assert_eq!(quoted_value(br#"{"token": "phc_never_closed"#, &["token"]), None);
        let long = format!(r#"{{"token": "{}"}}"#, "k".repeat(201));
        assert_eq!(quoted_value(long.as_bytes(), &["token"]), None);
    }
}
