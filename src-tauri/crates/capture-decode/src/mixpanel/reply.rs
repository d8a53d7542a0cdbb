//! What Mixpanel answers: `1`/`0` as text, or with `verbose=1` a JSON status; `/import` its own.

use serde_json::json;

use super::Route;
use crate::{Incoming, Rejection, Reply};

/// `verbose=1` in the query (mixpanel-browser) or in the form body beside `data` (the Python SDK
/// posts `data=..&verbose=1&ip=0` and reads the JSON status; the text `1` breaks it).
fn verbose(req: &Incoming<'_>) -> bool {
    let is_one = |v: &str| v.trim() == "1";
    if req.query_param("verbose").is_some_and(|v| is_one(&v)) {
        return true;
    }
    let form = req
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("application/x-www-form-urlencoded"));
    form && form_urlencoded::parse(req.body).any(|(k, v)| k == "verbose" && is_one(&v))
}

/// `data=` in a form body or the query: how mixpanel for Node's `import()` and mixpanel-python's
/// `import_data`/`merge` post to `/import`. Both read the `/track`-style reply: Node wants the
/// text `1` (or with `verbose=1` a JSON `status` of 1), Python always sends `verbose=1` and
/// raises unless `status` is 1 (mixpanel-node `lib/mixpanel-node.js` `send_request`,
/// mixpanel-python `Consumer._write_request`). A JSON body gets the Import API's own reply.
fn form_data(req: &Incoming<'_>) -> bool {
    if req.query_param("data").is_some() {
        return true;
    }
    let form = req
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("application/x-www-form-urlencoded"));
    form && form_urlencoded::parse(req.body).any(|(k, _)| k == "data")
}

pub fn success(route: Route, req: &Incoming<'_>, records: usize) -> Reply {
    match route {
        Route::Import if !form_data(req) => {
            Reply::json(200, json!({"code": 200, "num_records_imported": records, "status": "OK"}))
        }
        _ if verbose(req) => Reply::json(200, json!({"status": 1, "error": null})),
        _ => Reply::text(200, "1"),
    }
}

pub fn error(route: Option<Route>, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
    match route {
        Some(Route::Import) if !form_data(req) => Reply::json(
            rejection.status,
            json!({"code": rejection.status, "error": rejection.message, "status": if rejection.status == 401 { "Unauthorized" } else { "Bad Request" }}),
        ),
        _ if verbose(req) => Reply::json(rejection.status, json!({"status": 0, "error": rejection.message})),
        _ => Reply::text(rejection.status, "0"),
    }
}

/// `/decide`, `/settings`, `/record`: nothing configured. `/flags`: no flags.
pub fn empty(route: Route) -> Reply {
    match route {
        Route::Flags => Reply::json(200, json!({"flags": {}})),
        _ => Reply::json(200, json!({})),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn incoming<'a>(query: Option<&'a str>, headers: &'a [(String, String)], body: &'a [u8]) -> Incoming<'a> {
        Incoming { method: "POST", path: "/track", query, headers, body, received_at: Utc::now() }
    }

    #[test]
    fn verbose_is_read_from_the_query_or_the_form_body() {
        let form = [("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
        let json_body = [("Content-Type".to_owned(), "application/json".to_owned())];
        assert_eq!(
            success(Route::Track, &incoming(Some("verbose=1&ip=1"), &[], b""), 1).body,
            br#"{"error":null,"status":1}"#
        );
        assert_eq!(
            success(Route::Track, &incoming(None, &form, b"data=e30%3D&verbose=1&ip=0"), 1).body,
            br#"{"error":null,"status":1}"#
        );
        assert_eq!(success(Route::Track, &incoming(None, &form, b"data=e30%3D&verbose=0"), 1).body, b"1");
        // Only a form body carries parameters; a JSON body mentioning verbose=1 does not.
        assert_eq!(success(Route::Track, &incoming(None, &json_body, b"verbose=1"), 1).body, b"1");
    }

    /// mixpanel-node `import()` posts `data=<base64>` with `verbose=0` in the query and wants `1`;
    /// mixpanel-python `import_data`/`merge` post `data=..&verbose=1&ip=0` and want `status: 1`.
    /// A JSON body keeps the Import API's reply.
    #[test]
    fn import_with_a_data_form_gets_the_reply_the_libraries_accept() {
        let form = [("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
        let json_body = [("Content-Type".to_owned(), "application/json".to_owned())];
        let node = incoming(Some("ip=0&verbose=0&api_key=k"), &form, b"data=e30%3D");
        assert_eq!(success(Route::Import, &node, 1).body, b"1");
        let python = incoming(None, &form, b"data=%7B%7D&verbose=1&ip=0");
        assert_eq!(success(Route::Import, &python, 1).body, br#"{"error":null,"status":1}"#);
        let rejection = Rejection::bad_request("x", "bad");
        assert_eq!(error(Some(Route::Import), &python, &rejection).body, br#"{"error":"bad","status":0}"#);
        let api = incoming(None, &json_body, b"[]");
        assert_eq!(success(Route::Import, &api, 2).body, br#"{"code":200,"num_records_imported":2,"status":"OK"}"#);
    }
}
