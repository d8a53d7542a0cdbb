//! `/api/stream`: server-sent events announcing commits (`events`, `rejected`) and identity
//! model changes (`persons`, `devices`, `warnings`). A subscriber that falls behind gets a
//! `lagged` event with the number of announcements it missed (and should reload), never an
//! ever-growing buffer.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::identity::IdentityChange;
use crate::AppState;

/// One broadcast channel as a stream of SSE events, lag included.
fn announcements<T: Clone + Send + Serialize + 'static>(
    receiver: broadcast::Receiver<T>,
    kind: fn(&T) -> &'static str,
) -> impl Stream<Item = Result<Event, Infallible>> {
    BroadcastStream::new(receiver).map(move |item| {
        Ok(match item {
            Ok(change) => Event::default()
                .event(kind(&change))
                .json_data(&change)
                .unwrap_or_else(|_| Event::default().comment("unserialisable")),
            Err(BroadcastStreamRecvError::Lagged(skipped)) => {
                Event::default().event("lagged").data(format!("{{\"skipped\":{skipped}}}"))
            }
        })
    })
}

pub async fn stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hello = Event::default().event("ready").data(format!("{{\"capture_url\":\"{}\"}}", state.capture_url));
    let commits = announcements(state.store.subscribe(), |c| match c {
        event_store::Change::Events { .. } => "events",
        event_store::Change::Rejected { .. } => "rejected",
        event_store::Change::Imported { .. } => "imported",
        event_store::Change::Pruned { .. } => "pruned",
    });
    let identity = announcements(state.identity.subscribe(), |c| match c {
        IdentityChange::Persons { .. } => "persons",
        IdentityChange::Devices { .. } => "devices",
        IdentityChange::Warnings { .. } => "warnings",
    });
    let stream = futures_util::stream::once(async move { Ok(hello) })
        .chain(futures_util::stream::select(commits, identity))
        .take_until(state.shutdown.cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscriber that fell behind gets one `lagged` event saying how many announcements it
    /// missed, then the newest ones: the channel's capacity bounds what is kept for it.
    #[tokio::test]
    async fn a_lagging_subscriber_is_told_what_it_skipped() {
        let (tx, rx) = broadcast::channel::<u32>(2);
        for n in 0..5 {
            tx.send(n).unwrap();
        }
        drop(tx);
        let events: Vec<String> = announcements(rx, |_| "n").map(|e| format!("{:?}", e.unwrap())).collect().await;
        let text: Vec<String> = events.iter().map(|e| e.replace("\\n", "\n").replace("\\\"", "\"")).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("event: lagged\ndata: {\"skipped\":3}\n"), "{}", text[0]);
        assert!(text[1].contains("event: n\ndata: 3\n"), "{}", text[1]);
        assert!(text[2].contains("event: n\ndata: 4\n"), "{}", text[2]);
    }
}
