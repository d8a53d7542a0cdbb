//! Which vendor's API a request speaks, and the one entry point that answers it.
//!
//! Paths decide, except where two vendors share a path: `/track` and `/engage` (PostHog legacy
//! and Mixpanel) are decided by the body, `/decide` and `/flags` by the query (see
//! `mixpanel::detect`), `/e` and `/s` (PostHog and KISSmetrics) by KISSmetrics' `_k`/`_p`/`_n`
//! parameters (see `kissmetrics::detect`).
//!
//! Adding a vendor: a folder with its `Route` implementing [`VendorRoute`], a variant of
//! [`Protocol`] and its line in `each_vendor!` below (plus where it sits in [`Protocol::recognise`]'s
//! order, when it shares paths with another vendor).

use crate::payload::Unwrapped;
use crate::{kissmetrics, mixpanel, posthog, segment, Incoming, Outcome, Refusal, Rejection, Reply, Source};

/// One vendor API and route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    Posthog(posthog::Route),
    Segment(segment::Route),
    Mixpanel(mixpanel::Route),
    Kissmetrics(kissmetrics::Route),
}

/// What a vendor's route knows about a request on it. Each vendor folder implements it for its
/// `Route`; [`Protocol`] only dispatches.
///
/// Each `Route` also has inherent `name` (stored in `requests.route`) and `is_capture` (carries
/// events, as opposed to configuration or flags), which [`Protocol`] calls the same way.
pub trait VendorRoute {
    /// The source a request on this route is labelled with before its body is decoded.
    fn source(&self, req: &Incoming<'_>) -> Source;
    /// Decodes the request into events and the vendor's reply, or refuses it as the vendor would.
    fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal>;
    /// The body the vendor's SDK expects with `rejection`.
    fn error_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply;
    /// What the vendor answers when it is failing (`rejection`: a 413, 429 or 5xx the request
    /// itself did not cause, as the inspector's fault rules inject them). The error reply,
    /// unless the vendor words failures otherwise.
    fn failing_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        self.error_reply(req, rejection)
    }
    /// The payload as the SDK meant it (after base64, gzip, forms...), without decoding events.
    fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection>;
    /// How the vendor words a body that was too large to read (`rejection` is a 413).
    fn body_too_large(&self, rejection: Rejection) -> Rejection {
        rejection
    }
    /// The project key the request names where this vendor reads it, found without validating
    /// the rest, so that a refused request (or one that carried no events) is still kept with
    /// its project. `None` when it names none, or the vendor folder does not say.
    fn project_key(&self, _req: &Incoming<'_>) -> Option<String> {
        None
    }
}

/// Runs `$body` with `$route` bound to the route of whichever vendor `$protocol` is.
macro_rules! each_vendor {
    ($protocol:expr, $route:ident => $body:expr) => {
        match $protocol {
            Protocol::Posthog($route) => $body,
            Protocol::Segment($route) => $body,
            Protocol::Mixpanel($route) => $body,
            Protocol::Kissmetrics($route) => $body,
        }
    };
}

impl Protocol {
    /// Recognises the vendor and route of a request (its body already read).
    pub fn recognise(req: &Incoming<'_>) -> Option<Protocol> {
        if let Some(route) = segment::Route::parse(req.path) {
            return Some(Protocol::Segment(route));
        }
        // `/e` and `/s` are PostHog's too: a KISSmetrics call says so by its parameters.
        if let Some(route) = kissmetrics::Route::parse(req.path) {
            if route == kissmetrics::Route::Alias || kissmetrics::is_kissmetrics_call(req) {
                return Some(Protocol::Kissmetrics(route));
            }
        }
        match mixpanel::Route::parse(req.path) {
            Some(route @ (mixpanel::Route::Track | mixpanel::Route::Engage))
                if mixpanel::is_mixpanel_capture(route == mixpanel::Route::Engage, req) =>
            {
                return Some(Protocol::Mixpanel(route));
            }
            Some(route @ (mixpanel::Route::Decide | mixpanel::Route::Flags)) if mixpanel::is_mixpanel_flags(req) => {
                return Some(Protocol::Mixpanel(route));
            }
            Some(
                mixpanel::Route::Track | mixpanel::Route::Engage | mixpanel::Route::Decide | mixpanel::Route::Flags,
            )
            | None => {}
            Some(route) => return Some(Protocol::Mixpanel(route)),
        }
        posthog::Route::parse(req.path, req.query).map(Protocol::Posthog)
    }

    /// The name stored in `requests.route`.
    pub fn route_name(&self) -> &'static str {
        each_vendor!(self, route => route.name())
    }

    pub fn is_capture(&self) -> bool {
        each_vendor!(self, route => route.is_capture())
    }

    /// The source a request is labelled with before its body is decoded (Segment and
    /// RudderStack share routes; the decoded outcome may name the other one).
    pub fn source(&self, req: &Incoming<'_>) -> Source {
        each_vendor!(self, route => route.source(req))
    }

    /// The request's events and reply, or the vendor's refusal.
    pub fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
        each_vendor!(self, route => route.handle(req))
    }

    /// The body the vendor's SDK expects with `rejection`.
    pub fn error_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        each_vendor!(self, route => route.error_reply(req, rejection))
    }

    /// What the vendor answers when it is failing (see [`VendorRoute::failing_reply`]).
    pub fn failing_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        each_vendor!(self, route => route.failing_reply(req, rejection))
    }

    /// Whether this is Capture V1 (per-event results in a 200).
    pub fn is_capture_v1(&self) -> bool {
        matches!(self, Protocol::Posthog(posthog::Route::AnalyticsV1))
    }

    /// Refuses the request for a reason found outside the decoder (a wrong method, a body that
    /// could not be read), in the vendor's words and reply shape.
    pub fn refuse(&self, req: &Incoming<'_>, rejection: Rejection) -> Refusal {
        let rejection = if rejection.status == 413 {
            each_vendor!(self, route => route.body_too_large(rejection))
        } else {
            rejection
        };
        Refusal { source: self.source(req), reply: self.error_reply(req, &rejection), rejection }
    }

    /// The payload as the SDK meant it (after base64, gzip, forms...), without decoding events.
    pub fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
        each_vendor!(self, route => route.unwrap_body(req))
    }

    /// See [`VendorRoute::project_key`].
    pub fn project_key(&self, req: &Incoming<'_>) -> Option<String> {
        each_vendor!(self, route => route.project_key(req))
    }
}

/// The most body bytes worth reading on `path` before anything is decoded: twice the largest
/// decompressed payload any vendor on that path accepts (base64 forms are 4/3 larger), except on
/// Segment's routes whose limits apply to the body as sent. `None` for unknown paths.
pub fn read_limit(path: &str, query: Option<&str>) -> Option<usize> {
    if let Some(route) = segment::Route::parse(path) {
        return Some(route.limit());
    }
    let posthog = posthog::Route::parse(path, query).map(|r| r.limit() * 2);
    let mixpanel = mixpanel::Route::parse(path).map(|r| r.limit() * 2);
    let kissmetrics = kissmetrics::Route::parse(path).map(|r| r.limit());
    posthog.max(mixpanel).max(kissmetrics)
}

/// Whether any vendor's SDKs send to `path` (capture, settings, flags or config routes). Import
/// uses it to find capture requests in a HAR, also behind a reverse-proxy prefix.
pub fn is_known_path(path: &str) -> bool {
    segment::Route::parse(path).is_some()
        || mixpanel::Route::parse(path).is_some()
        || posthog::Route::parse(path, None).is_some()
        || kissmetrics::Route::parse(path).is_some()
}
