//! One fault rule: what a user asks for ([`FaultSpec`], every field optional, as JSON or the
//! text syntax of `syntax.rs`) and what it becomes once validated ([`FaultRule`]: which requests
//! it [`Matcher`]es, the [`Effect`] it has on them, for how many of them ([`Scope`])).
//!
//! Invariants: a `FaultRule` exists only through [`FaultSpec::validate`], so every rule has
//! exactly one answer, a status it can give, a share in (0, 1] and a count of at least 1, and a
//! route some SDK sends to. [`FaultRule::text`] writes it back in the text syntax, which parses to
//! the same rule.

use capture_decode::Source;
use serde::{Deserialize, Serialize};

use crate::error::{FaultError, FAULT_STATUSES, MAX_DELAY_MS, MAX_RETRY_AFTER, RETRY_AFTER_STATUSES};

/// A rule as asked for. `POST /api/faults` takes it as a JSON object with these keys;
/// `serve --fault` takes the same keys in the text syntax (`syntax::parse`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The SDK family whose requests to fault: `posthog`, `segment`, `rudderstack`, `mixpanel`,
    /// `kissmetrics` (also accepted as `family`).
    #[serde(default, alias = "family")]
    pub source: Option<String>,
    /// A path prefix, whole segments: `/batch` matches `/batch` and `/batch/`, `/i/v1` every
    /// Capture V1 path; not `/b`.
    #[serde(default)]
    pub route: Option<String>,
    /// Only requests naming this project key (token, write key).
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// Seconds, sent as `Retry-After` (with status 429 or 503, or `v1_retry`).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Wait this long before answering (alone: then the normal answer).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default)]
    pub drop: bool,
    /// Capture V1 only: answer 200 with a `retry` result for every event.
    #[serde(default)]
    pub v1_retry: bool,
    /// Fault this many requests, then expire.
    #[serde(default)]
    pub count: Option<u64>,
    /// Fault this fraction of the matching requests (spread evenly, not at random).
    #[serde(default)]
    pub share: Option<f64>,
}

/// Which requests a rule applies to. Every field that is set must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Matcher {
    /// The request's source (`posthog`, `segment`...).
    pub source: Option<String>,
    /// A path prefix (whole segments, no trailing slash). Without one, a rule applies to capture
    /// routes only (those that carry events), not to flags, config or settings calls.
    pub route: Option<String>,
    pub project: Option<String>,
}

/// What the SDK gets instead of the normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// The normal answer (with a delay: a slow vendor).
    Normal,
    /// An error status in the vendor's reply shape, with `Retry-After` when given.
    Status { status: u16, retry_after: Option<u32> },
    /// The connection is closed without an answer.
    Drop,
    /// Capture V1: 200 with every event's result `retry` and `Retry-After` (PostHog sends 1 s).
    V1Retry { retry_after: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Effect {
    pub answer: Answer,
    /// Milliseconds waited before the answer (or before closing).
    pub delay_ms: Option<u64>,
}

/// How many of the matching requests are faulted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Scope {
    /// The rule expires after faulting this many requests; none: until removed.
    pub count: Option<u64>,
    /// The fraction of matching requests faulted; none: every one.
    pub share: Option<f64>,
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FaultRule {
    #[serde(rename = "match")]
    #[cfg_attr(feature = "ts", ts(rename = "match"))]
    pub matcher: Matcher,
    pub effect: Effect,
    pub scope: Scope,
}

/// Capture V1's PostHog Retry-After when a rule names none (`rust/capture/src/v1/analytics/
/// response.rs` in <https://github.com/PostHog/posthog> sends `Retry-After: 1` with any `retry`).
pub const V1_DEFAULT_RETRY_AFTER: u32 = 1;

impl FaultSpec {
    /// The rule this asks for, or why it is impossible. `known_routes` are the path templates the
    /// server answers (`/batch`, `/v1/{name}`, ...): a rule's route must lead to one of them.
    pub fn validate(self, known_routes: &[&str]) -> Result<FaultRule, FaultError> {
        let source = self.source.map(|s| parse_source(&s)).transpose()?;
        let route = self.route.map(|r| normalise_route(&r, known_routes)).transpose()?;
        let project = match self.project {
            Some(p) if p.is_empty() => return Err(FaultError::EmptyProject),
            p => p,
        };
        let delay_ms = match self.delay_ms {
            Some(ms) if ms == 0 || ms > MAX_DELAY_MS => return Err(FaultError::DelayOutOfRange(ms)),
            d => d,
        };
        let retry_after = match self.retry_after {
            Some(s) if s == 0 || s > u64::from(MAX_RETRY_AFTER) => return Err(FaultError::RetryAfterOutOfRange(s)),
            s => s.map(|s| s as u32),
        };
        let mut answers: Vec<&'static str> = Vec::new();
        if self.status.is_some() {
            answers.push("status");
        }
        if self.drop {
            answers.push("drop");
        }
        if self.v1_retry {
            answers.push("v1_retry");
        }
        if let [first, second, ..] = answers[..] {
            return Err(FaultError::TwoAnswers { first, second });
        }
        let answer = if let Some(status) = self.status {
            if (200..300).contains(&status) {
                return Err(FaultError::SuccessIsNotAFault(status));
            }
            if !FAULT_STATUSES.contains(&status) {
                return Err(FaultError::UnsupportedStatus(status));
            }
            if retry_after.is_some() && !RETRY_AFTER_STATUSES.contains(&status) {
                return Err(FaultError::RetryAfterWithoutStatus);
            }
            Answer::Status { status, retry_after }
        } else if self.drop {
            if retry_after.is_some() {
                return Err(FaultError::RetryAfterWithoutStatus);
            }
            Answer::Drop
        } else if self.v1_retry {
            check_v1(source, route.as_deref(), known_routes)?;
            Answer::V1Retry { retry_after: retry_after.unwrap_or(V1_DEFAULT_RETRY_AFTER) }
        } else if delay_ms.is_some() {
            if retry_after.is_some() {
                return Err(FaultError::RetryAfterWithoutStatus);
            }
            Answer::Normal
        } else {
            return Err(FaultError::NoEffect);
        };
        let share = match self.share {
            Some(s) if !(s > 0.0 && s <= 1.0) => return Err(FaultError::ShareOutOfRange(s)),
            // A share of 1 is every request: the same rule as none.
            Some(1.0) => None,
            s => s,
        };
        if self.count == Some(0) {
            return Err(FaultError::CountZero);
        }
        Ok(FaultRule {
            matcher: Matcher { source: source.map(|s| s.as_str().to_owned()), route, project },
            effect: Effect { answer, delay_ms },
            scope: Scope { count: self.count, share },
        })
    }
}

fn parse_source(name: &str) -> Result<Source, FaultError> {
    let lower = name.trim().to_ascii_lowercase();
    Source::ALL.into_iter().find(|s| s.as_str() == lower).ok_or_else(|| FaultError::UnknownSource(name.to_owned()))
}

/// `route` without its trailing slash, once it is known to lead to a route the server answers.
fn normalise_route(route: &str, known_routes: &[&str]) -> Result<String, FaultError> {
    let trimmed = route.trim();
    if !trimmed.starts_with('/') {
        return Err(FaultError::RouteNotAPath(route.to_owned()));
    }
    let prefix = if trimmed.len() > 1 { trimmed.trim_end_matches('/') } else { trimmed };
    if prefix.is_empty() || !known_routes.iter().any(|template| leads_to(prefix, template)) {
        return Err(FaultError::UnknownRoute(route.to_owned()));
    }
    Ok(prefix.to_owned())
}

/// Whether the path prefix `prefix` (whole segments) can match a path of `template`, whose
/// `{name}` segments match any one segment and whose `{*rest}` matches the rest.
fn leads_to(prefix: &str, template: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let mut wanted = prefix.trim_start_matches('/').split('/');
    let mut have = template.trim_start_matches('/').trim_end_matches('/').split('/');
    loop {
        match (wanted.next(), have.next()) {
            (None, _) => return true,
            (Some(_), Some(t)) if t.starts_with("{*") => return true,
            (Some(w), Some(t)) if w == t || (t.starts_with('{') && !w.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Whether `path` lies under the route prefix `prefix` (whole segments; `prefix` has no trailing
/// slash, `path` may have one).
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// `v1_retry` needs Capture V1 requests: a PostHog source, or a route leading to a V1 path.
fn check_v1(source: Option<Source>, route: Option<&str>, known_routes: &[&str]) -> Result<(), FaultError> {
    if let Some(source) = source.filter(|s| *s != Source::Posthog) {
        return Err(FaultError::V1RetryOutsideV1(format!("source={}", source.as_str())));
    }
    if let Some(route) = route {
        let v1 = known_routes
            .iter()
            .filter(|t| {
                matches!(
                    capture_decode::posthog::Route::parse(t, None),
                    Some(capture_decode::posthog::Route::AnalyticsV1)
                )
            })
            .any(|t| leads_to(route, t));
        if !v1 {
            return Err(FaultError::V1RetryOutsideV1(format!("route={route}")));
        }
    }
    Ok(())
}

impl FaultRule {
    /// The rule in the text syntax (`source=posthog,status=503,count=3`), keys in a fixed order.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        let m = &self.matcher;
        parts.extend(m.source.as_ref().map(|s| format!("source={s}")));
        parts.extend(m.route.as_ref().map(|r| format!("route={r}")));
        parts.extend(m.project.as_ref().map(|p| format!("project={p}")));
        match self.effect.answer {
            Answer::Normal => {}
            Answer::Status { status, retry_after } => {
                parts.push(format!("status={status}"));
                parts.extend(retry_after.map(|s| format!("retry_after={s}")));
            }
            Answer::Drop => parts.push("drop".into()),
            Answer::V1Retry { retry_after } => {
                parts.push("v1_retry".into());
                if retry_after != V1_DEFAULT_RETRY_AFTER {
                    parts.push(format!("retry_after={retry_after}"));
                }
            }
        }
        parts.extend(self.effect.delay_ms.map(|ms| format!("delay_ms={ms}")));
        parts.extend(self.scope.count.map(|n| format!("count={n}")));
        parts.extend(self.scope.share.map(|s| format!("share={s}")));
        parts.join(",")
    }

    /// What the rule does, in a sentence: "Answer 503 to PostHog capture requests (the next 3)".
    pub fn describe(&self) -> String {
        let answer = match self.effect.answer {
            Answer::Normal => "Answer normally".to_owned(),
            Answer::Status { status, retry_after: None } => format!("Answer {status}"),
            Answer::Status { status, retry_after: Some(s) } => format!("Answer {status} with Retry-After: {s}"),
            Answer::Drop => "Close the connection, unanswered,".to_owned(),
            Answer::V1Retry { .. } => "Answer 200 with every event's result `retry`".to_owned(),
        };
        let delay = match (self.effect.answer, self.effect.delay_ms) {
            (_, None) => String::new(),
            (Answer::Normal, Some(ms)) => format!(" after {ms} ms"),
            (_, Some(ms)) => format!(" after a {ms} ms wait"),
        };
        let m = &self.matcher;
        let source = m.source.as_deref().map(vendor_name).map(|v| format!("{v} ")).unwrap_or_default();
        let what = match &m.route {
            Some(route) => format!("{source}requests to {route}"),
            None => format!("{source}capture requests"),
        };
        let project = m.project.as_ref().map(|p| format!(" of project {p}")).unwrap_or_default();
        let scope = match (self.scope.count, self.scope.share) {
            (None, None) => String::new(),
            (Some(1), None) => " (the next one)".to_owned(),
            (Some(n), None) => format!(" (the next {n})"),
            (None, Some(s)) => format!(" ({} of them)", percent(s)),
            (Some(n), Some(s)) => format!(" ({} of them, {n} in all)", percent(s)),
        };
        format!("{answer}{delay} to {what}{project}{scope}")
    }
}

fn vendor_name(source: &str) -> &str {
    match source {
        "posthog" => "PostHog",
        "segment" => "Segment",
        "rudderstack" => "RudderStack",
        "mixpanel" => "Mixpanel",
        "kissmetrics" => "KISSmetrics",
        other => other,
    }
}

fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{}%", pct.round())
    } else {
        format!("{pct:.1}%")
    }
}
