//! How a tool's answer is written for an agent: plain lines, ids quoted so they can be passed
//! back as they are, every long value clipped, and the whole answer cut at [`MAX_CHARS`] with a
//! line that says what was left out and which call shows it.
//!
//! Main types: [`Answer`] (the lines being written), and the words every tool shares
//! ([`clip`], [`time`], [`name_of`], [`json_preview`], [`failed`]).
//!
//! Invariants: an answer never exceeds [`MAX_CHARS`] plus its closing line; a clipped value says
//! how long it was.

use rmcp::model::{CallToolResult, ContentBlock};

use crate::error::ApiError;

/// The most an answer holds (about 4 000 tokens): enough for a page of events or a long why
/// chain, small enough to leave an agent's context for its own work.
pub(crate) const MAX_CHARS: usize = 16_000;

/// The lines of one answer, cut at [`MAX_CHARS`].
#[derive(Debug, Default)]
pub(crate) struct Answer {
    text: String,
    /// Lines not written because the answer was full.
    dropped: usize,
}

impl Answer {
    pub(crate) fn new() -> Answer {
        Answer::default()
    }

    /// Adds one line, unless the answer is full (then it is counted as left out).
    pub(crate) fn line(&mut self, line: impl AsRef<str>) {
        let line = line.as_ref();
        if self.dropped > 0 || self.text.len() + line.len() + 1 > MAX_CHARS {
            self.dropped += 1;
            return;
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// [`line`](Answer::line), formatted only if the answer still has room.
    pub(crate) fn line_with<L: AsRef<str>>(&mut self, line: impl FnOnce() -> L) {
        if self.dropped > 0 || self.text.len() >= MAX_CHARS {
            self.dropped += 1;
            return;
        }
        self.line(line());
    }

    /// The answer as a successful tool result; `narrow` says how to ask for less when lines were
    /// left out ("pass a smaller limit", "filter by project").
    pub(crate) fn done(self, narrow: &str) -> CallToolResult {
        let mut text = self.text;
        if self.dropped > 0 {
            text.push_str(&format!(
                "… {} more line{} cut: the answer is limited to {MAX_CHARS} characters; {narrow}.\n",
                self.dropped,
                if self.dropped == 1 { "" } else { "s" }
            ));
        }
        CallToolResult::success(vec![ContentBlock::text(text.trim_end().to_owned())])
    }
}

/// A failed call as the agent reads it: the API's sentence and its stable code.
pub(crate) fn failed(error: &ApiError) -> CallToolResult {
    let code = serde_json::to_value(error.code()).ok().and_then(|v| v.as_str().map(str::to_owned));
    let text = match code {
        Some(code) => format!("Error ({code}): {error}"),
        None => format!("Error: {error}"),
    };
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// A failed call for a reason of the tool's own (an argument it cannot use).
pub(crate) fn refused(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!("Error (invalid_argument): {}", message.into()))])
}

/// `text` cut to `max` characters, saying how long it was.
pub(crate) fn clip(text: &str, max: usize) -> String {
    let mut chars = text.char_indices();
    match chars.nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} chars)", &text[..cut], text.chars().count()),
    }
}

/// A stored time (microseconds since the epoch) as RFC 3339 with milliseconds.
pub(crate) fn time(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| micros.to_string())
}

/// A time of the identity model as RFC 3339 with milliseconds.
pub(crate) fn moment(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// JSON on one line, clipped to `max` characters.
pub(crate) fn json_preview(value: &impl serde::Serialize, max: usize) -> String {
    clip(&serde_json::to_string(value).unwrap_or_default(), max)
}

/// A vocabulary enum by its serde name ("merged", "many_devices").
pub(crate) fn name_of(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// `n` and the word for it: "1 event", "3 events".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many of a list were shown, and what to call to see the rest ("" when all were).
pub(crate) fn rest(shown: usize, total: usize, how: &str) -> Option<String> {
    (total > shown).then(|| format!("… {} more: {how}.", total - shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_clipped_on_character_boundaries_and_say_their_length() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("ééééé", 2), "éé… (5 chars)");
    }

    #[test]
    fn an_answer_stops_at_its_limit_and_counts_what_it_left_out() {
        let mut answer = Answer::new();
        let line = "x".repeat(1_000);
        for _ in 0..20 {
            answer.line(&line);
        }
        let result = answer.done("pass a smaller limit");
        let text = result.content[0].as_text().map(|t| t.text.clone()).unwrap_or_default();
        assert!(text.len() <= MAX_CHARS + 200, "{}", text.len());
        assert!(text.ends_with("… 5 more lines cut: the answer is limited to 16000 characters; pass a smaller limit."));
    }

    #[test]
    fn lines_past_the_limit_are_counted_without_being_formatted() {
        let mut answer = Answer::new();
        let line = "x".repeat(1_000);
        let mut formatted = 0;
        for _ in 0..20 {
            answer.line_with(|| {
                formatted += 1;
                line.clone()
            });
        }
        assert_eq!(formatted, 16, "15 lines fit, the 16th is the first that does not");
        let result = answer.done("pass a smaller limit");
        let text = result.content[0].as_text().map(|t| t.text.clone()).unwrap_or_default();
        assert!(text.ends_with("… 5 more lines cut: the answer is limited to 16000 characters; pass a smaller limit."));
    }
}
