//! PostHog's cookieless server hash: posthog-js in `cookieless_mode` sends the placeholder
//! distinct id `$posthog_cookieless` with `$cookieless_mode: true`, and PostHog's ingestion
//! replaces it with a per-visitor hash before person processing
//! (`nodejs/src/ingestion/cookieless/cookieless-manager.ts` and
//! `rust/common/cookieless/src/hash.rs` in <https://github.com/PostHog/posthog>):
//!
//! - base hash = SipHash-2-4 (128-bit), keyed by the day's 16-byte salt, of
//!   `"{team}-{ip}-{root domain of $host}-{$raw_user_agent}-{n}-{$cookieless_extra[..100]}"`;
//!   distinct id `cookieless_` + its base64 without padding, `$device_id` `cookielessd_` + the
//!   base hash's (n = 0).
//! - `$create_alias` and `$merge_dangerously` are dropped (`cookieless_unsupported_event`);
//!   `$identify` is dropped in Stateless mode (`cookieless_stateless_no_identify`); everything is
//!   dropped in Disabled mode (`cookieless_team_disabled`); an event without user agent, IP or
//!   host is dropped (`cookieless_missing_ua` / `_ip` / `_host`).
//! - Stateless: every cookieless event's distinct id becomes the n = 0 hash.
//! - Stateful: n is the number of `$identify` events seen for the base hash before the visitor
//!   identified, so a visitor who logs out becomes a new anonymous id. An `$identify`'s
//!   `$anon_distinct_id` becomes the hash; an identified event keeps its distinct id.
//!
//! What the inspector cannot have, and its stand-ins (the hash algorithm and input layout are
//! PostHog's, checked against PostHog's shared test vectors):
//! - PostHog's daily salt is a random secret thrown away after the day. The inspector derives
//!   each day's salt from the fixed key [`STAND_IN_SALT_KEY`] and the event's UTC calendar day,
//!   so ids are stable across replays, differ from PostHog's, and still change every day.
//! - PostHog's numeric team id: the project key stands in for it.
//! - The IP: `$ip` when the event sends one, else 127.0.0.1, the address of every request the
//!   inspector (which listens on loopback only) receives; PostHog fills `$ip` from the request
//!   the same way (`normalizeEvent`).
//! - The root domain: the host without scheme, path and credentials, `localhost` as
//!   `127.0.0.1`, port kept, and for names the last two labels (no public suffix list, so
//!   `example.co.uk` becomes `co.uk`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::js::js_truthy;
use crate::settings::PostHogCookieless;
use crate::step::Project;
use crate::types::EventInput;

/// The distinct id posthog-js sends in cookieless mode.
pub const SENTINEL: &str = "$posthog_cookieless";
const FLAG: &str = "$cookieless_mode";
const EXTRA: &str = "$cookieless_extra";

/// The inspector's stand-in for PostHog's random daily salt (see the module doc).
pub const STAND_IN_SALT_KEY: [u8; 16] = *b"IdentityInspectr";

/// What PostHog turned a cookieless event's placeholder into, shown on persons and lanes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cookieless {
    /// The id the SDK sent (`$posthog_cookieless`).
    pub placeholder: String,
    /// The distinct id PostHog derives for the visitor (`cookieless_…`).
    pub distinct_id: String,
    /// The `$device_id` PostHog sets (`cookielessd_…`).
    pub device_id: String,
    /// The hash's inputs, in words.
    pub derived_from: String,
}

/// What PostHog's cookieless step does to one event.
pub(crate) enum Rewrite {
    /// Not a cookieless event: it passes untouched.
    Untouched,
    /// Dropped before person processing, with a sentence naming PostHog's drop reason.
    Dropped {
        text: String,
    },
    Rewritten(Box<EventInput>, Cookieless),
}

/// PostHog's cookieless step for one event of a PostHog project.
pub(crate) fn rewrite(project: &mut Project, ev: &EventInput) -> Rewrite {
    if !ev.prop(FLAG).is_some_and(js_truthy) {
        return Rewrite::Untouched;
    }
    let mode = project.settings.posthog_cookieless;
    let drop = |reason: &str, why: &str| Rewrite::Dropped {
        text: format!("PostHog's cookieless mode dropped this {}: {why} (drop reason {reason}).", ev.event),
    };
    if matches!(ev.event.as_str(), "$create_alias" | "$merge_dangerously") {
        return drop("cookieless_unsupported_event", "aliases and merges are not supported for cookieless events");
    }
    if ev.event == "$identify" && mode == PostHogCookieless::Stateless {
        return drop(
            "cookieless_stateless_no_identify",
            "the project's cookieless mode is Stateless, which drops $identify",
        );
    }
    if mode == PostHogCookieless::Disabled {
        return drop("cookieless_team_disabled", "cookieless server hash mode is disabled for the project");
    }
    let text = |key: &str| ev.prop(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let Some(user_agent) = text("$raw_user_agent") else {
        return drop("cookieless_missing_ua", "it has no $raw_user_agent to hash");
    };
    let Some(host) = text("$host") else {
        return drop("cookieless_missing_host", "it has no $host to hash");
    };
    let ip = text("$ip").unwrap_or("127.0.0.1");
    let extra: String = text(EXTRA).unwrap_or("").chars().take(100).collect();
    let day = ev.timestamp.format("%Y-%m-%d").to_string();
    let salt = day_salt(&day);
    let domain = root_domain(host);
    let hash =
        |n: usize| siphash24_128(&salt, format!("{}-{ip}-{domain}-{user_agent}-{n}-{extra}", ev.project).as_bytes());
    let base = hash(0);
    let device_id = format!("cookielessd_{}", base64_unpadded(&base));

    let mut out = ev.clone();
    let n = match mode {
        PostHogCookieless::Stateful => {
            let seen = project.cookieless_identifies.entry(base).or_default();
            if ev.event == "$identify" {
                let n = seen.len() - usize::from(seen.contains(&ev.uuid));
                seen.insert(ev.uuid.clone());
                n
            } else if ev.distinct_id == SENTINEL {
                seen.len()
            } else {
                seen.len().saturating_sub(1)
            }
        }
        _ => 0,
    };
    let distinct_id = format!("cookieless_{}", base64_unpadded(&hash(n)));
    match mode {
        PostHogCookieless::Stateful if ev.event == "$identify" => {
            out.properties.insert("$anon_distinct_id".into(), Value::String(distinct_id.clone()));
        }
        PostHogCookieless::Stateful if ev.distinct_id != SENTINEL => {}
        _ => distinct_id.clone_into(&mut out.distinct_id),
    }
    out.properties.insert("$device_id".into(), Value::String(device_id.clone()));
    let derived_from = format!(
        "SipHash-2-4 of project {}, IP {ip}, domain {domain}, user agent {user_agent:?}, identify count {n}{} \
         with the inspector's fixed salt for {day} (PostHog uses a random daily salt, so its ids differ)",
        ev.project,
        if extra.is_empty() { String::new() } else { format!(", extra {extra:?}") },
    );
    let placeholder = if ev.event == "$identify" { SENTINEL.to_owned() } else { ev.distinct_id.clone() };
    Rewrite::Rewritten(Box::new(out), Cookieless { placeholder, distinct_id, device_id, derived_from })
}

/// One day's salt: the stand-in for PostHog's random salt of that calendar day.
fn day_salt(day: &str) -> [u8; 16] {
    siphash24_128(&STAND_IN_SALT_KEY, day.as_bytes())
}

/// The host's root domain as PostHog's `extractRootDomain` gives it for the inputs the
/// inspector sees (see the module doc for what it does not do).
fn root_domain(input: &str) -> String {
    let rest = input.split_once("://").map_or(input, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (format!("[{h}]"), p.strip_prefix(':')),
            None => (authority.to_owned(), None),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h.to_owned(), Some(p)),
            _ => (authority.to_owned(), None),
        },
    };
    let host = host.to_ascii_lowercase();
    let is_ip = host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok();
    let mut domain = if is_ip {
        host
    } else {
        let labels: Vec<&str> = host.split('.').collect();
        labels[labels.len().saturating_sub(2)..].join(".")
    };
    if domain == "localhost" {
        domain = "127.0.0.1".into();
    }
    match port.filter(|p| !p.is_empty()) {
        Some(p) => format!("{domain}:{p}"),
        None => domain,
    }
}

/// SipHash-2-4 with 128-bit output, keyed by a 16-byte salt (two little-endian u64 keys), with
/// its bytes in the order PostHog's `do_hash` returns them (h2's words swapped, then h1's).
fn siphash24_128(key: &[u8; 16], data: &[u8]) -> [u8; 16] {
    let k0 = u64::from_le_bytes(key[..8].try_into().expect("8 bytes"));
    let k1 = u64::from_le_bytes(key[8..].try_into().expect("8 bytes"));
    let mut v =
        [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d ^ 0xee, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let compress = |v: &mut [u64; 4], m: u64| {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    };
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        compress(&mut v, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    last[7] = data.len() as u8;
    compress(&mut v, u64::from_le_bytes(last));
    v[2] ^= 0xee;
    (0..4).for_each(|_| round(&mut v));
    let h1 = (v[0] ^ v[1] ^ v[2] ^ v[3]).to_le_bytes();
    v[1] ^= 0xdd;
    (0..4).for_each(|_| round(&mut v));
    let h2 = (v[0] ^ v[1] ^ v[2] ^ v[3]).to_le_bytes();
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&h2[4..]);
    out[4..8].copy_from_slice(&h2[..4]);
    out[8..12].copy_from_slice(&h1[4..]);
    out[12..].copy_from_slice(&h1[..4]);
    out
}

/// Standard base64 without the trailing `=`, as PostHog's `hashToDistinctId`.
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first and last vectors of PostHog's `rust/common/cookieless/src/test_cases.json`
    /// (shared by its Rust and TypeScript implementations).
    #[test]
    fn hash_matches_posthog_s_shared_test_vectors() {
        let salt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.110 Safari/537.3";
        let input = format!("1-1.2.3.4-example.com-{ua}-0-");
        let hash = siphash24_128(&salt, input.as_bytes());
        assert_eq!(base64_unpadded(&hash), "jZfBjkLcdjlQTVmIKIhC3Q");
        let input = format!("1-1.2.3.4-example.com-{ua}-1-");
        assert_eq!(base64_unpadded(&siphash24_128(&salt, input.as_bytes())), "igaaEDUIUxmCqAaPyFWP7Q");
    }

    /// `extract_root_domain_tests` of the same file, for the hosts the inspector handles exactly.
    #[test]
    fn root_domain_follows_posthog_s_cases() {
        for (host, want) in [
            ("https://test.example.com/foo", "example.com"),
            ("http://localhost:3000", "127.0.0.1:3000"),
            ("http://127.0.0.1:3000#foo", "127.0.0.1:3000"),
            ("1.2.3.4:5000", "1.2.3.4:5000"),
            ("sub.example.com", "example.com"),
            ("https://user:pass@example.com", "example.com"),
            ("https://example.com?param=value", "example.com"),
            ("localhost", "127.0.0.1"),
            ("[::1]:8080", "[::1]:8080"),
        ] {
            assert_eq!(root_domain(host), want, "{host}");
        }
    }
}
