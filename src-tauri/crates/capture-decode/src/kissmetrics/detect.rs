//! KISSmetrics or PostHog? `/e` and `/s` are PostHog's capture and recording paths and
//! KISSmetrics' event and set paths. A KISSmetrics call always carries its API key `_k` and
//! person `_p` (support.kissmetrics.io "API specifications": both are required on every call),
//! in the query (the JS library's image GETs) or a form body; no PostHog SDK sends parameters
//! named with a leading underscore like these, and PostHog's own query parameters are
//! `ip`, `_` (a cache-buster), `ver`, `compression`.

use crate::Incoming;

/// Parameters only KISSmetrics calls carry.
const KISSMETRICS_PARAMS: [&str; 3] = ["_k", "_p", "_n"];

/// Whether a request on `/e` or `/s` is a KISSmetrics call: `_k`, `_p` or `_n` in the query,
/// or in a form-encoded body. `/a` is KISSmetrics' only.
pub fn is_kissmetrics_call(req: &Incoming<'_>) -> bool {
    if KISSMETRICS_PARAMS.iter().any(|k| req.query_param(k).is_some()) {
        return true;
    }
    is_form(req) && form_urlencoded::parse(req.body).any(|(k, _)| KISSMETRICS_PARAMS.contains(&k.as_ref()))
}

pub(crate) fn is_form(req: &Incoming<'_>) -> bool {
    req.header("content-type").is_some_and(|t| t.to_ascii_lowercase().contains("application/x-www-form-urlencoded"))
}
