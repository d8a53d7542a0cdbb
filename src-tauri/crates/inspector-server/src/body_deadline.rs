//! A request body that must keep arriving. The accept loop wraps every request body in
//! [`DeadlineBody`], so a client that sends its headers and then its body slowly (or not at
//! all) cannot hold a connection and a handler for ever: the header timeout alone stops at the
//! end of the head.
//!
//! Invariants:
//! - While a reader waits for the body, it fails with [`BodyTimedOut`] when no byte came for
//!   `timeout`, or when the body is slower than [`MIN_BODY_RATE`] after a grace of `timeout`:
//!   it may take `timeout` plus one second per KiB received. A body at 1 byte/s is cut after
//!   about `timeout`; any client faster than 1 KiB/s never meets the second rule.
//! - Time counts only while a reader is waiting: from the first poll, so a handler that reads
//!   the body late is not blamed on the client.
//! - Capture handlers refuse a timed-out body with 408 in the vendor's error shape and keep the
//!   request as rejected (`handlers::capture`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Buf, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The slowest body accepted after the grace period: 1 KiB/s.
pub const MIN_BODY_RATE: u64 = 1_024;

/// Why a body was cut: it stalled, or it came too slowly.
#[derive(Debug)]
pub struct BodyTimedOut {
    pub received: u64,
    pub waited: Duration,
    pub stalled: bool,
}

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (received, waited) = (self.received, self.waited.as_secs_f64());
        if self.stalled {
            write!(f, "the request body stopped arriving: nothing more after {received} bytes in {waited:.1} s")
        } else {
            write!(
                f,
                "the request body came too slowly: {received} bytes in {waited:.1} s (at least 1 KiB/s is needed)"
            )
        }
    }
}

impl std::error::Error for BodyTimedOut {}

pub struct DeadlineBody<B> {
    inner: B,
    timeout: Duration,
    /// Set at the first poll.
    started: Option<Instant>,
    last_progress: Option<Instant>,
    received: u64,
    timer: Pin<Box<Sleep>>,
}

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, timeout: Duration) -> DeadlineBody<B> {
        DeadlineBody {
            inner,
            timeout,
            started: None,
            last_progress: None,
            received: 0,
            timer: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    /// The earlier of the two rules' deadlines, and whether it is the stall rule's.
    fn deadline(&self, started: Instant, last: Instant) -> (Instant, bool) {
        let stall = last + self.timeout;
        let rate = started + self.timeout + Duration::from_millis(self.received.saturating_mul(1_000) / MIN_BODY_RATE);
        if stall <= rate {
            (stall, true)
        } else {
            (rate, false)
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, Self::Error>>> {
        let this = &mut *self;
        let now = Instant::now();
        let started = *this.started.get_or_insert(now);
        let last = *this.last_progress.get_or_insert(now);
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(|f| f.data_ref().map(Buf::remaining))) {
                    this.received += data.unwrap_or(0) as u64;
                    this.last_progress = Some(now);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let (deadline, stalled) = this.deadline(started, last);
                if this.timer.deadline() != deadline {
                    this.timer.as_mut().reset(deadline);
                }
                match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut {
                        received: this.received,
                        waited: now - started,
                        stalled,
                    })))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` or one of its causes is a [`BodyTimedOut`].
pub fn timed_out<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e BodyTimedOut> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(t) = e.downcast_ref::<BodyTimedOut>() {
            return Some(t);
        }
        cause = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    const TIMEOUT: Duration = Duration::from_millis(300);

    type Fed = http_body_util::StreamBody<
        tokio_stream::wrappers::ReceiverStream<Result<Frame<hyper::body::Bytes>, std::convert::Infallible>>,
    >;

    /// A body whose frames come from a channel the test feeds.
    fn fed_body(
    ) -> (tokio::sync::mpsc::Sender<Result<Frame<hyper::body::Bytes>, std::convert::Infallible>>, DeadlineBody<Fed>)
    {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let body = http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        (tx, DeadlineBody::new(body, TIMEOUT))
    }

    fn data(bytes: &'static [u8]) -> Result<Frame<hyper::body::Bytes>, std::convert::Infallible> {
        Ok(Frame::data(hyper::body::Bytes::from_static(bytes)))
    }

    #[tokio::test]
    async fn a_stalled_body_fails_after_the_timeout() {
        let (tx, mut body) = fed_body();
        tx.send(data(b"abc")).await.unwrap();
        assert_eq!(body.frame().await.unwrap().unwrap().into_data().unwrap(), "abc");
        let started = Instant::now();
        let error = body.frame().await.unwrap().unwrap_err();
        let cut = timed_out(&*error).expect("a BodyTimedOut");
        assert!(cut.stalled && cut.received == 3, "{cut:?}");
        let waited = started.elapsed();
        assert!(waited >= TIMEOUT && waited < TIMEOUT * 3, "{waited:?}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_trickled_body_fails_after_about_the_timeout() {
        let (tx, mut body) = fed_body();
        let started = Instant::now();
        // A byte every 50 ms: never a stall, far below 1 KiB/s.
        let feeder = tokio::spawn(async move {
            while tx.send(data(b"x")).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let error = loop {
            match body.frame().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => break e,
                None => panic!("the body ended"),
            }
        };
        let cut = timed_out(&*error).expect("a BodyTimedOut");
        assert!(!cut.stalled, "{cut:?}");
        let waited = started.elapsed();
        assert!(waited >= TIMEOUT && waited < TIMEOUT * 3, "{waited:?}");
        feeder.abort();
    }

    #[tokio::test]
    async fn a_body_with_pauses_shorter_than_the_timeout_is_read_whole() {
        let (tx, body) = fed_body();
        tokio::spawn(async move {
            for _ in 0..5 {
                tx.send(data(&[b'y'; 2_048])).await.unwrap();
                tokio::time::sleep(TIMEOUT / 2).await;
            }
        });
        let whole = body.collect().await.expect("read whole").to_bytes();
        assert_eq!(whole.len(), 5 * 2_048);
    }
}
