//! What each vendor's SDK sends, one module per vendor: the events (about 460 bytes of JSON
//! each, so that vendors compare), the HTTP requests the SDK would make for them, the reply body
//! the SDK takes as success, and the row the inspector stores for each event (for the raw
//! SQLite reference).

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub mod kissmetrics;
pub mod mixpanel;
pub mod posthog;
pub mod rudderstack;
pub mod segment;

/// One vendor's traffic.
pub trait Traffic: Sync {
    /// The route the SDK sends events to (for the report).
    fn path(&self) -> &'static str;
    /// Event `i` of `n` (`n` sizes the device population; see [`Visit`]).
    fn event(&self, i: usize, n: usize, now: DateTime<Utc>) -> Value;
    /// The requests the SDK makes for `events`, `batch` at most per request where it batches.
    fn requests(&self, events: &[Value], batch: usize, now: DateTime<Utc>) -> Vec<Request>;
    /// Events per request the SDK really sends with `--batch batch`.
    fn events_per_request(&self, batch: usize) -> usize {
        batch
    }
    /// Whether the SDK takes this 200's body as success (some check it, not only the status).
    fn accepts(&self, _body: &[u8]) -> bool {
        true
    }
    /// The event's row as the inspector stores it.
    fn row<'a>(&self, event: &'a Value) -> Row<'a>;
    /// The persons the vendor's identity rules make of `n` events, where the traffic is built
    /// to make that number plain.
    fn expected_persons(&self, _n: usize) -> Option<usize> {
        None
    }
}

/// An HTTP request prepared before the clock starts.
pub struct Request {
    pub method: reqwest::Method,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub struct Row<'a> {
    pub project: &'a str,
    pub source: &'static str,
    /// `None`: the server makes one up (a v7 UUID), and so does the reference.
    pub uuid: Option<Cow<'a, str>>,
    pub event: Option<&'a str>,
    pub distinct_id: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub properties: String,
}

/// Events per device on average, and the device's event at which it signs in.
const EVENTS_PER_DEVICE: usize = 20;
const SIGN_IN_AT: usize = 5;

/// Where event `i` of `n` falls in a device's life, for the vendors whose identity traffic is
/// modelled on devices: each device browses anonymously, then two devices in three sign in
/// (identify or alias) at their sixth event and stay signed in; three devices belong to one
/// user, so most persons join two devices and every third device stays anonymous.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    pub device: usize,
    pub user: usize,
    pub step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Anonymous,
    /// The sign-in call itself (identify or alias).
    SignIn,
    SignedIn,
}

pub fn visit(i: usize, n: usize) -> Visit {
    let devices = (n / EVENTS_PER_DEVICE).max(3);
    let device = i % devices;
    let nth = i / devices;
    let signs_in = device % 3 != 2;
    let step = match nth {
        _ if !signs_in => Step::Anonymous,
        k if k < SIGN_IN_AT => Step::Anonymous,
        k if k == SIGN_IN_AT => Step::SignIn,
        _ => Step::SignedIn,
    };
    Visit { device, user: device / 3, step }
}

/// The persons `visit` makes of `n` events: one per user with a device that signed in, one per
/// device that did not (yet).
pub fn persons_of_visits(n: usize) -> usize {
    let devices = (n / EVENTS_PER_DEVICE).max(3);
    let signed_in = |d: usize| d % 3 != 2 && SIGN_IN_AT * devices + d < n;
    let users: std::collections::BTreeSet<usize> = (0..devices).filter(|&d| signed_in(d)).map(|d| d / 3).collect();
    users.len() + (0..devices.min(n)).filter(|&d| !signed_in(d)).count()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory gzip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_devices_in_three_sign_in_once_after_browsing() {
        let n = 6_000;
        let visits: Vec<Visit> = (0..n).map(|i| visit(i, n)).collect();
        let signs_in = |d: usize| visits.iter().filter(|v| v.device == d && v.step == Step::SignIn).count();
        assert_eq!((signs_in(0), signs_in(1), signs_in(2)), (1, 1, 0));
        // The first events of every device are anonymous.
        assert!(visits[..n / EVENTS_PER_DEVICE * SIGN_IN_AT].iter().all(|v| v.step == Step::Anonymous));
        assert_eq!(visits.iter().filter(|v| v.step == Step::SignIn).count(), 200);
        assert_eq!(visit(4, n).user, 1);
        // 300 devices: 100 users sign in on two devices each, 100 devices stay anonymous.
        assert_eq!(persons_of_visits(n), 200);
        // Too few events for anyone to sign in: one person per device seen.
        assert_eq!(persons_of_visits(10), 3);
    }
}
