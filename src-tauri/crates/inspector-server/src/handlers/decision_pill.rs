//! The decision pill of an Events row: for a page of events, the one decision of each
//! merge-type event the grid names. The ranking lives here only; the UI keeps the words.

use std::collections::BTreeMap;

use identity_engine::{Decision, DecisionKind};

use super::dto::DecisionPill;

/// How much a kind of decision matters to someone reading the row, most first: a refusal or a
/// dropped event is what goes wrong unseen, a merge is what joins people, a no-op says least.
pub(crate) fn rank(kind: DecisionKind) -> u8 {
    match kind {
        DecisionKind::Refused => 0,
        DecisionKind::Dropped => 1,
        DecisionKind::Merged => 2,
        DecisionKind::Attached => 3,
        DecisionKind::Created => 4,
        DecisionKind::Ignored => 5,
    }
}

/// The pill of each event of `events` (`(uuid, seq)`), keyed by uuid: among its decisions that
/// name an id merged away (`source`), the first of the best `rank`. Plain events get none: every
/// event has a decision (attached to its person), so a pill would say nothing.
///
/// `decisions` is the engine's list, in processing order: the engine applies events in strictly
/// increasing seq, so an event's decisions are found by binary search, and a page costs
/// O(page · log decisions) whatever the project's size.
pub(crate) fn pills(decisions: &[Decision], events: &[(String, i64)]) -> BTreeMap<String, DecisionPill> {
    let mut out = BTreeMap::new();
    for (uuid, seq) in events {
        let from = decisions.partition_point(|d| d.seq < *seq);
        let best = decisions[from..]
            .iter()
            .take_while(|d| d.seq == *seq)
            .filter(|d| &d.event_uuid == uuid && d.source.is_some())
            .fold(None::<&Decision>, |best, d| match best {
                Some(b) if rank(b.kind) <= rank(d.kind) => Some(b),
                _ => Some(d),
            });
        if let Some(d) = best {
            out.insert(uuid.clone(), DecisionPill { kind: d.kind, message: d.message.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_engine::Rule;

    fn decision(seq: i64, uuid: &str, kind: DecisionKind, source: Option<&str>) -> Decision {
        Decision {
            seq,
            event_uuid: uuid.into(),
            timestamp: chrono::DateTime::UNIX_EPOCH,
            project: "p".into(),
            event: "$identify".into(),
            kind,
            rule: Rule::MergeIntoTarget,
            source: source.map(Into::into),
            target: Some("user-a".into()),
            person_id: None,
            message: format!("{kind:?} {seq}"),
        }
    }

    #[test]
    fn the_most_telling_merge_decision_of_each_event() {
        use DecisionKind::*;
        let decisions = [
            decision(1, "e1", Merged, Some("anon")),
            decision(2, "e2", Ignored, Some("user-b")),
            decision(2, "e2", Refused, Some("user-b")),
            decision(3, "e3", Ignored, Some("anon")),
            decision(4, "e4", Attached, None),
            decision(5, "e5", Created, Some("anon")),
        ];
        let page: Vec<(String, i64)> =
            [("e5", 5), ("e4", 4), ("e2", 2), ("e1", 1), ("e9", 9)].map(|(u, s)| (u.into(), s)).into();
        let got = pills(&decisions, &page);
        let kinds: Vec<(&str, DecisionKind)> = got.iter().map(|(u, p)| (u.as_str(), p.kind)).collect();
        assert_eq!(kinds, [("e1", Merged), ("e2", Refused), ("e5", Created)], "e3 is not on the page");
        assert_eq!(got["e2"].message, "Refused 2");
    }
}
