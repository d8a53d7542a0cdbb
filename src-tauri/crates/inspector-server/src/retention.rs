//! Applies the retention policy (see `event_store::Retention`): once when it is set or changed,
//! then every few minutes, so a window left open all day keeps a bounded database. Pruning
//! announces `Change::Pruned`, after which the identity model rebuilds from what remains.

use std::time::Duration;

use event_store::{to_micros, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often the policy is re-applied while nothing changes.
const INTERVAL: Duration = Duration::from_secs(5 * 60);

pub(crate) fn spawn(store: Store, mut policy: watch::Receiver<event_store::Retention>, shutdown: CancellationToken) {
    tokio::spawn(async move {
        loop {
            let current = *policy.borrow_and_update();
            if !current.keeps_everything() {
                let store = store.clone();
                let now = to_micros(chrono::Utc::now());
                match tokio::task::spawn_blocking(move || store.prune(current, now)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!("retention pruning failed: {e}"),
                    Err(e) => tracing::error!("retention pruning task failed: {e}"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = policy.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(INTERVAL) => {},
            }
        }
    });
}
