//! `/api/stream`: server-sent events announcing commits. A subscriber that falls behind gets a
//! `lagged` event with the number of announcements it missed (and should reload), never an
//! ever-growing buffer.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};

use crate::AppState;

pub async fn stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let hello = Event::default().event("ready").data(format!("{{\"capture_url\":\"{}\"}}", state.capture_url));
    let changes = BroadcastStream::new(state.store.subscribe()).map(|item| {
        let event = match item {
            Ok(change) => {
                let kind = match &change {
                    event_store::Change::Events { .. } => "events",
                    event_store::Change::Rejected { .. } => "rejected",
                };
                Event::default().event(kind).json_data(&change).unwrap_or_else(|_| Event::default().comment("unserialisable"))
            }
            Err(BroadcastStreamRecvError::Lagged(skipped)) => {
                Event::default().event("lagged").data(format!("{{\"skipped\":{skipped}}}"))
            }
        };
        Ok(event)
    });
    let stream = futures_util::stream::once(async move { Ok(hello) })
        .chain(changes)
        .take_until(state.shutdown.cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}
