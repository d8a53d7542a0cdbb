//! What `tail` writes: one [`Line`] per event, finding, refused request or notice, as aligned
//! text for a person (`human`), a JSON object (`as_json`) or logfmt pairs (`logfmt`). Pure
//! functions, tested without a server.

use serde_json::{json, Value};

use super::{Event, PersonRef, Pill, Rejected};
use crate::cli::query::{decision, severity, FindingItem};
use crate::cli::style::{cut, first_sentence, pad, Paint, Style};

/// Something tail prints.
#[derive(Debug, Clone)]
pub enum Line<'a> {
    Event { event: &'a Event, person: Option<&'a PersonRef>, decision: Option<&'a Pill> },
    Finding(&'a FindingItem),
    Rejected { rejected: &'a Rejected, project: Option<&'a str>, source: Option<&'a str> },
    Notice { kind: &'a str, text: String, data: &'a Value },
}

/// `HH:MM:SS` of an API time (RFC 3339), in the local time zone.
pub fn clock(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M:%S").to_string())
        .unwrap_or_else(|_| cut(time, 8))
}

/// The line for a person: `time` is `clock` of the event's arrival.
pub fn human(line: &Line, time: &str, style: Style) -> String {
    let time = style.paint(Paint::Dim, time);
    match line {
        Line::Event { event, person, decision: made } => {
            let mut text = format!(
                "{time}  {}  {}  {}  {}",
                style.paint(Paint::Cyan, &pad(&event.source, 11)),
                pad(&event.project, 12),
                style.paint(Paint::Bold, &pad(&event.event, 18)),
                pad(&event.distinct_id, 18),
            );
            if let Some(person) = person {
                text.push_str("  → ");
                text.push_str(&style.paint(Paint::Magenta, &cut(&person.label, 24)));
            }
            if let Some(made) = made {
                text.push_str("  ");
                text.push_str(&decision(style, &made.kind));
                text.push_str(": ");
                text.push_str(&first_sentence(&made.message, 90));
            }
            text.trim_end().to_owned()
        }
        Line::Finding(f) => format!(
            "{time}  ⚠ {} {}  {}: {}",
            severity(style, &f.severity),
            style.paint(Paint::Bold, &f.rule),
            f.project,
            first_sentence(&f.message, 100)
        ),
        Line::Rejected { rejected, project, .. } => format!(
            "{time}  {}  {} {} → {}{}: {}",
            style.paint(Paint::Red, "REJECTED"),
            rejected.method,
            rejected.path,
            rejected.status,
            project.map(|p| format!(" ({p})")).unwrap_or_default(),
            first_sentence(&rejected.error, 100)
        ),
        Line::Notice { text, .. } => format!("{time}  {}", style.paint(Paint::Yellow, text)),
    }
}

/// The line as one JSON object.
pub fn as_json(line: &Line, at: &str) -> Value {
    match line {
        Line::Event { event, person, decision } => json!({
            "type": "event",
            "received_at": event.received_at,
            "timestamp": event.timestamp,
            "seq": event.seq,
            "uuid": event.uuid,
            "source": event.source,
            "project": event.project,
            "event": event.event,
            "distinct_id": event.distinct_id,
            "person": person.map(|p| json!({"id": p.id, "label": p.label})),
            "decision": decision.map(|d| json!({"kind": d.kind, "message": d.message})),
        }),
        Line::Finding(f) => json!({
            "type": "finding",
            "at": at,
            "severity": f.severity,
            "rule": f.rule,
            "project": f.project,
            "seq": f.seq,
            "distinct_ids": f.distinct_ids,
            "device_ids": f.device_ids,
            "message": f.message,
            "fix": f.fix,
        }),
        Line::Rejected { rejected, project, source } => json!({
            "type": "rejected",
            "at": at,
            "request_id": rejected.request_id,
            "method": rejected.method,
            "path": rejected.path,
            "status": rejected.status,
            "error": rejected.error,
            "project": project,
            "source": source,
        }),
        Line::Notice { kind, data, .. } => {
            let mut out = json!({"type": kind, "at": at});
            if let (Some(out), Some(data)) = (out.as_object_mut(), data.as_object()) {
                out.extend(data.iter().filter(|(k, _)| *k != "type").map(|(k, v)| (k.clone(), v.clone())));
            }
            out
        }
    }
}

/// A logfmt value: bare when it is a plain word, else quoted with `"` and `\` escaped.
fn logfmt_value(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    };
    let plain = !text.is_empty() && text.chars().all(|c| !c.is_whitespace() && !matches!(c, '"' | '=' | '\\'));
    if plain {
        return text;
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The line as `key=value` pairs: the JSON object's fields, flattened one level (`person` as
/// its label, `decision` as its kind and `reason`).
pub fn logfmt(line: &Line, at: &str) -> String {
    let object = as_json(line, at);
    let mut pairs: Vec<(String, Value)> = Vec::new();
    for (key, value) in object.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("person", Value::Object(p)) => {
                pairs.push(("person".into(), p.get("label").cloned().unwrap_or(Value::Null)));
                pairs.push(("person_id".into(), p.get("id").cloned().unwrap_or(Value::Null)));
            }
            ("decision", Value::Object(d)) => {
                pairs.push(("decision".into(), d.get("kind").cloned().unwrap_or(Value::Null)));
                let message = d.get("message").and_then(Value::as_str).unwrap_or_default();
                pairs.push(("reason".into(), Value::String(first_sentence(message, 200))));
            }
            (_, Value::Null) => {}
            (_, Value::Array(items)) if items.is_empty() => {}
            _ => pairs.push((key.clone(), value.clone())),
        }
    }
    // `type` first, then the time: what a reader scans for.
    pairs.sort_by_key(|(k, _)| match k.as_str() {
        "type" => 0,
        "received_at" | "at" => 1,
        _ => 2,
    });
    pairs.iter().map(|(k, v)| format!("{k}={}", logfmt_value(v))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            uuid: "u1".into(),
            seq: 12,
            project: "phc_a".into(),
            source: "posthog".into(),
            event: "$identify".into(),
            distinct_id: "user-1".into(),
            timestamp: "2026-11-24T12:02:00Z".into(),
            received_at: "2026-11-24T12:02:01.5Z".into(),
        }
    }

    #[test]
    fn an_event_line_names_its_person_and_the_merge_it_made() {
        let (e, person) = (event(), PersonRef { id: "p".into(), label: "ada@example.com".into() });
        let pill =
            Pill { kind: "merged".into(), message: "Merged anon-1 into user-1's person. It keeps the uuid.".into() };
        let line = Line::Event { event: &e, person: Some(&person), decision: Some(&pill) };
        assert_eq!(
            human(&line, "12:02:01", Style::PLAIN),
            "12:02:01  posthog      phc_a         $identify           user-1              → ada@example.com  merged: \
             Merged anon-1 into user-1's person"
        );
        let coloured = human(&line, "12:02:01", Style { color: true });
        assert!(coloured.contains("\x1b[32mmerged\x1b[0m"), "{coloured:?}");
        let plain = Line::Event { event: &e, person: None, decision: None };
        assert!(human(&plain, "12:02:01", Style::PLAIN).ends_with("user-1"), "no trailing blanks");
    }

    #[test]
    fn json_and_logfmt_carry_the_same_fields() {
        let e = event();
        let pill = Pill {
            kind: "refused".into(),
            message: "Refused: user-2 is already identified. PostHog keeps them apart.".into(),
        };
        let line = Line::Event { event: &e, person: None, decision: Some(&pill) };
        let object = as_json(&line, &e.received_at);
        assert_eq!(object["type"], "event");
        assert_eq!(object["decision"]["kind"], "refused");
        assert_eq!(object["person"], Value::Null);
        assert_eq!(
            logfmt(&line, &e.received_at),
            "type=event received_at=2026-11-24T12:02:01.5Z decision=refused reason=\"Refused: user-2 is already \
             identified\" distinct_id=user-1 event=$identify project=phc_a seq=12 source=posthog \
             timestamp=2026-11-24T12:02:00Z uuid=u1"
        );
        assert_eq!(logfmt_value(&json!("say \"hi\"\n")), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(logfmt_value(&json!("")), "\"\"");
    }

    #[test]
    fn findings_rejections_and_notices_have_lines_of_their_own() {
        let finding: FindingItem = serde_json::from_value(json!({
            "rule": "generic_distinct_id", "severity": "warning", "project": "phc_a", "seq": 3,
            "message": "The distinct id null looks like a placeholder. Every user sending it becomes one person.",
            "fix": "Send a real id.", "distinct_ids": ["null"], "device_ids": []
        }))
        .unwrap();
        assert_eq!(
            human(&Line::Finding(&finding), "12:00:00", Style::PLAIN),
            "12:00:00  ⚠ WARNING generic_distinct_id  phc_a: The distinct id null looks like a placeholder"
        );
        let rejected = Rejected {
            request_id: 4,
            method: "POST".into(),
            path: "/e/".into(),
            status: 400,
            error: "no distinct id".into(),
        };
        let line = Line::Rejected { rejected: &rejected, project: Some("phc_a"), source: Some("posthog") };
        assert_eq!(
            human(&line, "12:00:00", Style::PLAIN),
            "12:00:00  REJECTED  POST /e/ → 400 (phc_a): no distinct id"
        );
        let data = json!({"project": "phc_a", "events": 3, "requests": 1});
        let notice = Line::Notice { kind: "project_deleted", text: "project phc_a deleted".into(), data: &data };
        assert_eq!(
            as_json(&notice, "t"),
            json!({"type": "project_deleted", "at": "t", "project": "phc_a", "events": 3, "requests": 1})
        );
    }
}
