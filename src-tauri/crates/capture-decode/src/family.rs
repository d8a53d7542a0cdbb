//! Which vendor's API a request speaks. Paths decide, except where two vendors share a path:
//! `/track` and `/engage` (PostHog legacy and Mixpanel) are decided by the body, `/decide` and
//! `/flags` by the query (see `mixpanel::detect`).

use crate::{mixpanel, posthog, segment, Incoming};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Family {
    Posthog(posthog::Route),
    Segment(segment::Route),
    Mixpanel(mixpanel::Route),
}

impl Family {
    /// The name stored in `requests.route`.
    pub fn route_name(&self) -> &'static str {
        match self {
            Family::Posthog(r) => r.name(),
            Family::Segment(r) => r.name(),
            Family::Mixpanel(r) => r.name(),
        }
    }

    pub fn is_capture(&self) -> bool {
        match self {
            Family::Posthog(r) => r.is_capture(),
            Family::Segment(r) => r.is_capture(),
            Family::Mixpanel(r) => r.is_capture(),
        }
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
    posthog.max(mixpanel)
}

/// Whether any vendor's SDKs send to `path` (capture, settings, flags or config routes). Import
/// uses it to find capture requests in a HAR, also behind a reverse-proxy prefix.
pub fn is_known_path(path: &str) -> bool {
    segment::Route::parse(path).is_some()
        || mixpanel::Route::parse(path).is_some()
        || posthog::Route::parse(path, None).is_some()
}

/// Recognises the vendor and route of a request (its body already read).
pub fn recognise(req: &Incoming<'_>) -> Option<Family> {
    if let Some(route) = segment::Route::parse(req.path) {
        return Some(Family::Segment(route));
    }
    match mixpanel::Route::parse(req.path) {
        Some(route @ (mixpanel::Route::Track | mixpanel::Route::Engage))
            if mixpanel::is_mixpanel_capture(route == mixpanel::Route::Engage, req) =>
        {
            return Some(Family::Mixpanel(route));
        }
        Some(route @ (mixpanel::Route::Decide | mixpanel::Route::Flags)) if mixpanel::is_mixpanel_flags(req) => {
            return Some(Family::Mixpanel(route));
        }
        Some(mixpanel::Route::Track | mixpanel::Route::Engage | mixpanel::Route::Decide | mixpanel::Route::Flags)
        | None => {}
        Some(route) => return Some(Family::Mixpanel(route)),
    }
    posthog::Route::parse(req.path, req.query).map(Family::Posthog)
}
