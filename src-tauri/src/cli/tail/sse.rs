//! `/api/stream` read line by line: server-sent events become [`Announcement`]s, handed from a
//! reading thread to the tail loop. The stream is only the doorbell (see `tail/mod.rs`).

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;

use serde::Deserialize;
use serde_json::Value;

/// One announcement of `/api/stream`.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub kind: String,
    pub data: Value,
}

/// Server-sent events, line by line: `event:` and `data:` lines up to a blank line make one
/// announcement; comments (`:`, the keep-alives) are skipped.
#[derive(Debug, Default)]
pub struct SseParser {
    kind: Option<String>,
    data: String,
}

impl SseParser {
    pub fn push(&mut self, line: &str) -> Option<Announcement> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            let kind = self.kind.take()?;
            let text = std::mem::take(&mut self.data);
            let data = match kind.as_str() {
                // The model's progress: only how far it is matters here, not the (long) lists of
                // persons and lanes that changed, which are skipped without being built.
                "persons" | "devices" | "warnings" => serde_json::from_str::<Progress>(&text)
                    .map_or(Value::Null, |p| serde_json::json!({"applied_seq": p.applied_seq})),
                // One per commit: only whose events they are and up to which.
                "events" => serde_json::from_str::<Committed>(&text).map_or(
                    Value::Null,
                    |c| serde_json::json!({"project": c.project, "source": c.source, "last_seq": c.last_seq}),
                ),
                _ => serde_json::from_str(&text).unwrap_or(Value::Null),
            };
            return Some(Announcement { kind, data });
        }
        if let Some(kind) = line.strip_prefix("event:") {
            self.kind = Some(kind.trim().to_owned());
        } else if let Some(data) = line.strip_prefix("data:") {
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
        }
        None
    }
}

/// What a `persons`, `devices` or `warnings` announcement says that `tail` reads.
#[derive(Deserialize)]
struct Progress {
    applied_seq: i64,
}

/// What an `events` announcement says that `tail` reads.
#[derive(Deserialize)]
struct Committed {
    project: Option<String>,
    source: Option<String>,
    last_seq: i64,
}

/// Reads the stream on its own thread, handing announcements over; the last message is why it
/// ended.
pub(super) fn read_stream(stream: impl Read, out: mpsc::Sender<Result<Announcement, String>>) {
    let mut parser = SseParser::default();
    for line in BufReader::new(stream).lines() {
        match line {
            Ok(line) => {
                if let Some(announcement) = parser.push(&line) {
                    if out.send(Ok(announcement)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = out.send(Err(e.to_string()));
                return;
            }
        }
    }
    let _ = out.send(Err("the server closed the stream".into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_stream_is_read_announcement_by_announcement() {
        let mut parser = SseParser::default();
        let text = "event: ready\ndata: {\"capture_url\":\"x\"}\n\n:\n\nevent: events\r\ndata: {\"request_id\":4,\"project\":\"phc_a\",\"source\":\"posthog\",\"count\":3,\"first_seq\":7,\"last_seq\":9}\r\n\r\n\
                    event: persons\ndata: {\"ids\":[\"p1\",\"p2\"],\"applied_seq\":9}\n\n";
        let got: Vec<Announcement> = text.lines().filter_map(|l| parser.push(l)).collect();
        assert_eq!(
            got,
            [
                Announcement { kind: "ready".into(), data: json!({"capture_url": "x"}) },
                Announcement {
                    kind: "events".into(),
                    data: json!({"project": "phc_a", "source": "posthog", "last_seq": 9})
                },
                Announcement { kind: "persons".into(), data: json!({"applied_seq": 9}) },
            ]
        );
    }
}
