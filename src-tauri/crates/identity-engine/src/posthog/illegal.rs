//! PostHog's illegal distinct ids (`isDistinctIdIllegal` in the ingestion code of
//! <https://github.com/PostHog/posthog>). Merges naming such an id are refused; events
//! carrying one are still processed, so a person literally called `undefined` can exist.

/// Compared after lower-casing the whole (untrimmed) id.
pub(crate) const CASE_INSENSITIVE_ILLEGAL_IDS: [&str; 10] = [
    "anonymous",
    "guest",
    "distinctid",
    "distinct_id",
    "id",
    "not_authenticated",
    "email",
    "undefined",
    "true",
    "false",
];

/// Compared exactly: `NaN` is illegal but `nan` is not.
pub(crate) const CASE_SENSITIVE_ILLEGAL_IDS: [&str; 7] =
    ["[object Object]", "NaN", "None", "none", "null", "0", "undefined"];

/// Bytes of the longest entry of either list.
const MAX_LISTED_LEN: usize = 17;

/// True when PostHog refuses to merge with this id.
///
/// Invariants (from PostHog's `isDistinctIdIllegal`): only the emptiness check trims; the list
/// checks use the untrimmed value, so `" anonymous "` is legal. Each list also matches its entries
/// wrapped in single or double quotes (`'null'`, `"GUEST"`), and nothing else (`NULL`, `nan`,
/// `00`, `anon` are legal).
pub fn is_illegal_distinct_id(id: &str) -> bool {
    if id.trim_matches(is_js_whitespace).is_empty() {
        return true;
    }
    // Longer than any listed id, even quoted: uuids and most user ids stop here. (Lower-casing
    // never shortens an id into a listed one: only the Kelvin sign lower-cases to fewer bytes of
    // ASCII, and no listed id has a `k`.)
    if id.len() > MAX_LISTED_LEN + 2 {
        return false;
    }
    // Most ids (uuids, user ids) have no upper case: skip the allocation.
    let lower = if id.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        std::borrow::Cow::Owned(id.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(id)
    };
    in_list(&lower, &CASE_INSENSITIVE_ILLEGAL_IDS) || in_list(id, &CASE_SENSITIVE_ILLEGAL_IDS)
}

fn in_list(id: &str, list: &[&str]) -> bool {
    list.iter().any(|bare| id == *bare || is_quoted(id, bare, '\'') || is_quoted(id, bare, '"'))
}

fn is_quoted(id: &str, bare: &str, quote: char) -> bool {
    id.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) == Some(bare)
}

/// JavaScript's `String.prototype.trim` set (WhiteSpace + LineTerminator). Differs from Rust's
/// `char::is_whitespace`: JS trims U+FEFF but not U+0085.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illegal_lists_exactly() {
        for bare in CASE_INSENSITIVE_ILLEGAL_IDS {
            let upper = bare.to_uppercase();
            for id in [bare.to_owned(), upper.clone(), format!("'{bare}'"), format!("\"{upper}\"")] {
                assert!(is_illegal_distinct_id(&id), "{id:?} must be illegal");
            }
            assert!(!is_illegal_distinct_id(&format!(" {bare} ")), "untrimmed {bare:?} is legal");
            assert!(!is_illegal_distinct_id(&format!("'{bare}\"")), "mismatched quotes are legal");
        }
        for bare in CASE_SENSITIVE_ILLEGAL_IDS {
            for id in [bare.to_owned(), format!("'{bare}'"), format!("\"{bare}\"")] {
                assert!(is_illegal_distinct_id(&id), "{id:?} must be illegal");
            }
        }
        for id in ["", " ", "\t\n", "\u{FEFF}", "\u{3000}"] {
            assert!(is_illegal_distinct_id(id), "{id:?} is empty after trimming");
        }
        for id in [
            "NULL",
            "nan",
            "NAN",
            "00",
            "anon",
            "Null",
            "NONE",
            "'NaN ",
            "[object object]",
            "\u{85}",
            "user",
            "1",
            "-1",
            " anonymous ",
        ] {
            assert!(!is_illegal_distinct_id(id), "{id:?} must be legal");
        }
        assert!(
            is_illegal_distinct_id("UnDeFiNeD") && is_illegal_distinct_id("'NaN'") && !is_illegal_distinct_id("'nan'")
        );
    }
}
