//! `wait` and `min` on list reads (`/api/events`, `/api/persons`, `/api/warnings`,
//! `/api/decisions`): a test or a script asks for "at least `min` items matching this filter,
//! waiting up to `wait`" instead of polling. The read answers as soon as the list has `min`
//! items (default 1), or when `wait` has passed with what there is then; its `waited` field says
//! which (`timed_out`) and how long it took.
//!
//! Invariants:
//! - A waiting read holds no thread: between two queries it awaits the store's commit
//!   announcements (`Store::subscribe`, the feed `/api/stream` is made of) and, for the identity
//!   lists, the identity model's changes. Each query runs off the async workers like any read.
//! - It subscribes before its first query, so nothing committed after that query is missed;
//!   announcements that cannot change the answer (another project's events) wake nothing, and a
//!   waiting read queries at most once per [`REREAD_GAP`], however fast commits come.
//! - `wait` is bounded by [`MAX_WAIT`], and a server shutting down answers at once.
//! - The MCP tool `wait_for_events` waits the same way (`traffic::wait_for_events`), and then
//!   settles ([`Settle`]): once enough matched it goes on until matching commits stop, so an
//!   agent gets one action's events together, and an agent that calls it again and again during
//!   a burst gets one answer per [`Settle::most`] instead of one per query.

use std::time::Duration;

use event_store::Change;
use serde::de::Error as _;
use serde::Deserializer;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::Instant;

use super::dto::Waited;
use super::params::empty_as_none;
use crate::error::ApiError;
use crate::identity::IdentityChange;
use crate::AppState;

/// The longest a read may wait: longer than any test step should take, shorter than the idle
/// timeouts of common HTTP clients and proxies.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

/// A waiting read queries again at most this often however fast commits come: under a capture
/// burst (hundreds of commits a second) each waiter costs capture a read every 50 ms, not one per
/// commit, and an idle server still answers within 50 ms of the commit it waited for.
const REREAD_GAP: Duration = Duration::from_millis(50);

/// The `wait` and `min` query parameters. Each list's query struct has the two fields (parsed by
/// [`duration`] and `params::whole_number`, so a bad value is a 400 naming it) and hands them
/// here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WaitParams {
    /// Long poll: answer once at least `min` items match, or when this much time has passed.
    pub wait: Option<Duration>,
    /// Items to wait for (default 1).
    pub min: Option<usize>,
}

/// A validated wait: until when, and for how many items.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wait {
    started: Instant,
    until: Instant,
    min: usize,
    settle: Option<Settle>,
}

/// How a settling wait goes on once `min` items match: until no commit that may match came for
/// `quiet`, at most `most` longer (and never past the wait's end). It then queries once more.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settle {
    pub(crate) quiet: Duration,
    pub(crate) most: Duration,
}

impl WaitParams {
    /// The wait asked for; `None` for a plain read. `min` without `wait` is refused (it would
    /// be ignored), so is `min=0` (nothing to wait for) and a `min` above `most`, the most items
    /// one answer can hold (its page size).
    pub(crate) fn wait(self, most: usize) -> Result<Option<Wait>, ApiError> {
        let Some(wait) = self.wait else {
            return match self.min {
                None => Ok(None),
                Some(_) => Err(ApiError::invalid_parameter("min", "`min` needs `wait` (e.g. wait=5s&min=3)")),
            };
        };
        let min = self.min.unwrap_or(1);
        if min == 0 {
            return Err(ApiError::invalid_parameter("min", "`min` must be at least 1"));
        }
        if min > most {
            return Err(ApiError::invalid_parameter(
                "min",
                format!("`min` must be at most {most} (the page size: `limit`), not {min}"),
            ));
        }
        Ok(Some(Wait::new(wait, min)))
    }
}

impl Wait {
    /// A wait from now for `min` items, at most `wait` long.
    pub(crate) fn new(wait: Duration, min: usize) -> Wait {
        let started = Instant::now();
        Wait { started, until: started + wait, min, settle: None }
    }

    /// This wait, settling once enough items match (see [`Settle`]).
    pub(crate) fn settling(self, settle: Settle) -> Wait {
        Wait { settle: Some(settle), ..self }
    }

    /// When the wait ends.
    pub(crate) fn until(&self) -> Instant {
        self.until
    }
}

/// `wait=`: a duration such as `5s`, `500ms`, `1m` or `2.5s` (a bare number is seconds), at
/// most [`MAX_WAIT`].
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    let bad = || D::Error::custom(format!("must be a duration such as 5s or 500ms (at most 60s), not {text:?}"));
    let trimmed = text.trim();
    let (number, unit) = match trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => trimmed.split_at(at),
        None => (trimmed, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        _ => return Err(bad()),
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds = value * scale;
    if !seconds.is_finite() || seconds < 0.0 || seconds > MAX_WAIT.as_secs_f64() {
        return Err(bad());
    }
    Ok(Some(Duration::from_secs_f64(seconds)))
}

/// What wakes a waiting read to query again.
pub(crate) enum Wake {
    /// Commits of events that the filter may match: of `project` (any with `None`) and of one of
    /// `sources` (a comma-separated list as `EventFilter` holds it; any with `None`).
    Events { commits: broadcast::Receiver<Change>, project: Option<String>, sources: Option<String> },
    /// Any change of the identity model, or any commit (the model follows commits).
    Identity { commits: broadcast::Receiver<Change>, model: broadcast::Receiver<IdentityChange> },
}

impl Wake {
    /// Wakes on commits of events `filter` may match.
    pub(crate) fn events(state: &AppState, filter: &event_store::EventFilter) -> Wake {
        Wake::Events {
            commits: state.store.subscribe(),
            project: filter.project.clone(),
            sources: filter.source.clone(),
        }
    }

    pub(crate) fn identity(state: &AppState) -> Wake {
        Wake::Identity { commits: state.store.subscribe(), model: state.identity.subscribe() }
    }

    /// Waits until something may have changed the answer; false when nothing more can come.
    async fn next(&mut self) -> bool {
        loop {
            let relevant = match self {
                Wake::Events { commits, project, sources } => match commits.recv().await {
                    Ok(change) => may_match(&change, project, sources),
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return false,
                },
                Wake::Identity { commits, model } => tokio::select! {
                    change = model.recv() => !matches!(change, Err(RecvError::Closed)),
                    change = commits.recv() => match change {
                        Err(RecvError::Closed) => return false,
                        Ok(Change::Rejected { .. }) => false,
                        _ => true,
                    },
                },
            };
            if relevant {
                self.drain();
                return true;
            }
        }
    }

    /// Takes what is already queued (one query answers a whole burst), and says whether any of
    /// it may change the answer: a settling wait looks once per quiet period instead of waking
    /// at every commit.
    fn drain(&mut self) -> bool {
        let mut relevant = false;
        match self {
            Wake::Events { commits, project, sources } => loop {
                relevant |= match commits.try_recv() {
                    Ok(change) => may_match(&change, project, sources),
                    Err(TryRecvError::Lagged(_)) => true,
                    Err(_) => return relevant,
                };
            },
            Wake::Identity { commits, model } => {
                loop {
                    match commits.try_recv() {
                        Ok(change) => relevant |= !matches!(change, Change::Rejected { .. }),
                        Err(TryRecvError::Lagged(_)) => relevant = true,
                        Err(_) => break,
                    }
                }
                loop {
                    match model.try_recv() {
                        Ok(_) | Err(TryRecvError::Lagged(_)) => relevant = true,
                        Err(_) => return relevant,
                    }
                }
            }
        }
    }
}

/// Whether a commit may change the answer of a wait for events of `project` (any with `None`)
/// from one of `sources` (a comma-separated list as `EventFilter` holds it; any with `None`).
fn may_match(change: &Change, project: &Option<String>, sources: &Option<String>) -> bool {
    match change {
        Change::Events { project: p, source, .. } => {
            project.as_ref().is_none_or(|want| want == p)
                && sources.as_ref().is_none_or(|list| list.split(',').any(|s| s.trim() == source))
        }
        Change::Rejected { .. } | Change::Settings { .. } => false,
        _ => true,
    }
}

/// Runs `query` (which answers its result and how many items it holds) until it holds `min`
/// items or the wait is over; without a wait, once. `waited` is `None` for a plain read.
pub(crate) async fn until_enough<T, F, Fut>(
    state: &AppState,
    wait: Option<Wait>,
    wake: impl FnOnce() -> Wake,
    mut query: F,
) -> Result<(T, Option<Waited>), ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(T, usize), ApiError>>,
{
    let Some(wait) = wait else { return Ok((query().await?.0, None)) };
    let mut wake = wake();
    let mut settle = wait.settle;
    loop {
        let read_at = Instant::now();
        let (answer, items) = query().await?;
        let now = Instant::now();
        let enough = items >= wait.min;
        if let Some(how) = settle.filter(|_| enough && now < wait.until && !state.shutdown.is_cancelled()) {
            settle = None;
            settled(&mut wake, how, wait.until, state).await;
            continue;
        }
        if enough || now >= wait.until || state.shutdown.is_cancelled() {
            let waited = Waited { ms: (now - wait.started).as_millis() as u64, timed_out: !enough };
            return Ok((answer, Some(waited)));
        }
        tokio::select! {
            more = wake.next() => if more {
                // What commits until the next query is covered by it.
                tokio::time::sleep_until((read_at + REREAD_GAP).min(wait.until)).await;
                wake.drain();
            } else {
                tokio::time::sleep_until(wait.until).await
            },
            _ = tokio::time::sleep_until(wait.until) => {}
            _ = state.shutdown.cancelled() => {}
        }
    }
}

/// Waits until nothing that may match was committed for `how.quiet`, at most `how.most` (and
/// never past `until`). Checks once per quiet period: under a burst a settling wait wakes ten
/// times a second, not at every commit.
async fn settled(wake: &mut Wake, how: Settle, until: Instant, state: &AppState) {
    let end = (Instant::now() + how.most).min(until);
    // What was queued before the first match is covered by the query that found it.
    wake.drain();
    loop {
        let now = Instant::now();
        if now >= end {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until((now + how.quiet).min(end)) => {}
            _ = state.shutdown.cancelled() => return,
        }
        if !wake.drain() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Q {
        #[serde(default, deserialize_with = "duration")]
        wait: Option<Duration>,
    }

    /// `wait=<text>` parsed as the query extractor does.
    fn parse(text: &str) -> Result<Option<Duration>, String> {
        let query = form_urlencoded::Serializer::new(String::new()).append_pair("wait", text).finish();
        serde_urlencoded::from_str::<Q>(&query).map(|q| q.wait).map_err(|e| e.to_string())
    }

    #[test]
    fn waits_are_durations_up_to_a_minute() {
        assert_eq!(parse("5s"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(parse("500ms"), Ok(Some(Duration::from_millis(500))));
        assert_eq!(parse("2.5s"), Ok(Some(Duration::from_millis(2500))));
        assert_eq!(parse("1m"), Ok(Some(Duration::from_secs(60))));
        assert_eq!(parse("10"), Ok(Some(Duration::from_secs(10))), "a bare number is seconds");
        assert_eq!(parse(""), Ok(None));
        for bad in ["abc", "-1", "-1s", "61s", "2m", "5 h", "1e3", "s", ".s"] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("must be a duration"), "{bad}: {err}");
        }
    }
}
