//! `source` filters on events and requests: one value or a comma-separated list.

use crate::common::*;
use event_store::{EventFilter, NewEvent, NewRequest, RequestFilter};

fn from(source: &str, uuid: &str) -> (NewRequest, Vec<NewEvent>) {
    let request = NewRequest { source: Some(source.into()), ..accepted("/x") };
    (request, vec![NewEvent { source: source.into(), ..event(uuid, "p", "e", "d") }])
}

#[tokio::test(flavor = "multi_thread")]
async fn events_and_requests_filter_by_one_or_several_sources() {
    let (_dir, store) = open();
    for (source, uuid) in [("posthog", "a"), ("segment", "b"), ("rudderstack", "c"), ("mixpanel", "d")] {
        let (r, e) = from(source, uuid);
        write(&store, r, e).await;
    }
    let uuids = |source: &str| -> Vec<String> {
        let filter = EventFilter { source: Some(source.into()), limit: 10, ..Default::default() };
        store.events(&filter).unwrap().items.into_iter().map(|e| e.uuid).collect()
    };
    assert_eq!(uuids("segment"), ["b"]);
    assert_eq!(uuids("segment,rudderstack"), ["c", "b"]);
    assert_eq!(uuids(" mixpanel , posthog "), ["d", "a"]);
    assert_eq!(uuids("nothing").len(), 0);
    let requests =
        store.requests(&RequestFilter { source: Some("mixpanel,posthog".into()), limit: 10, ..Default::default() });
    let sources: Vec<_> = requests.unwrap().items.into_iter().map(|r| r.source.unwrap()).collect();
    assert_eq!(sources, ["mixpanel", "posthog"]);
}
