//! An imported request decoded as live capture would have: [`ingest::decode_raw`], except that a
//! body over the route's read limit is refused as `body_too_large` and not kept, as the live
//! handler (which stops reading at the limit) keeps none.
//!
//! Invariants: an imported row never holds a body the live server would not have stored, and a
//! reader that met an over-limit body may drop it before decoding (`too_large`), so no import
//! holds more than one route limit of body in memory.

use capture_decode::Received;
use event_store::{ImportRow, Outcome};
use ingest::Decision;

/// `raw` as stored by live capture; `too_large`: the reader already dropped an over-limit body.
pub(crate) fn decode(mut raw: Received, too_large: bool) -> Option<ImportRow> {
    let limit = ingest::read_limit(&raw.path, raw.query.as_deref());
    if !too_large && raw.body.len() <= limit {
        return ingest::decode_raw(&raw);
    }
    raw.body = Vec::new();
    let refusal = ingest::too_large(limit);
    let label = match ingest::decide(&raw, Some(refusal.clone())) {
        Decision::Ignore(_) => return None,
        Decision::Refuse { label, .. } | Decision::Accept { label, .. } => label,
    };
    Some((ingest::record(raw, label, Outcome::Rejected, refusal.status, Some(&refusal), None), Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_over_limit_body_is_refused_and_not_kept() {
        let raw = Received {
            received_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            method: "POST".into(),
            path: "/batch/".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: vec![b' '; ingest::read_limit("/batch/", None) + 1],
        };
        let (request, events) = decode(raw.clone(), false).expect("stored");
        assert_eq!((request.status, request.error_code.as_deref()), (413, Some("body_too_large")));
        assert!(request.body.is_empty() && events.is_empty());
        let (request, _) = decode(Received { body: Vec::new(), ..raw }, true).expect("stored");
        assert_eq!(request.error_code.as_deref(), Some("body_too_large"));
    }
}
