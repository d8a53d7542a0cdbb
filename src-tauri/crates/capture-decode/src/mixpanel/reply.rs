//! What Mixpanel answers: `1`/`0` as text, or with `verbose=1` a JSON status; `/import` its own.

use serde_json::json;

use super::Route;
use crate::posthog::Reply;
use crate::{Incoming, Rejection};

fn verbose(req: &Incoming<'_>) -> bool {
    req.query_param("verbose").is_some_and(|v| v.trim() == "1")
}

fn text(status: u16, body: &str) -> Reply {
    Reply { status, content_type: "text/plain; charset=utf-8", body: body.as_bytes().to_vec() }
}

pub fn success(route: Route, req: &Incoming<'_>, records: usize) -> Reply {
    match route {
        Route::Import => Reply::json(200, json!({"code": 200, "num_records_imported": records, "status": "OK"})),
        _ if verbose(req) => Reply::json(200, json!({"status": 1, "error": null})),
        _ => text(200, "1"),
    }
}

pub fn error(route: Option<Route>, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
    match route {
        Some(Route::Import) => Reply::json(
            rejection.status,
            json!({"code": rejection.status, "error": rejection.message, "status": if rejection.status == 401 { "Unauthorized" } else { "Bad Request" }}),
        ),
        _ if verbose(req) => Reply::json(rejection.status, json!({"status": 0, "error": rejection.message})),
        _ => text(rejection.status, "0"),
    }
}

/// `/decide`, `/settings`, `/record`: nothing configured. `/flags`: no flags.
pub fn empty(route: Route) -> Reply {
    match route {
        Route::Flags => Reply::json(200, json!({"flags": {}})),
        _ => Reply::json(200, json!({})),
    }
}
