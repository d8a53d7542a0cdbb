//! `/mcp`: the tools for coding agents over Streamable HTTP, driven with JSON-RPC through
//! `oneshot`: every tool listed with its schema, answers that carry the ids to follow up and the
//! vendor's reasons (read through the same queries as `/api`), errors an agent can read, the wait
//! that wakes on a commit, the token for clearing, and the Host and Origin checks.

use std::time::{Duration, Instant};

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const P: &str = "phc_mcp";

const TOOLS: [&str; 13] = [
    "add_fault",
    "clear_faults",
    "clear_project",
    "device_timeline",
    "get_person",
    "list_faults",
    "list_projects",
    "list_rejected_requests",
    "list_warnings",
    "search_events",
    "vendor_lens",
    "wait_for_events",
    "why",
];

/// posthog-js on one laptop: identify user-a, `logged_out` without reset(), then alias('user-b')
/// joins the next user to the first (the shared-computer mistake); and an unrelated visitor.
async fn shared_laptop(app: &App) {
    let js = |i: usize, name: &str, id: &str, identified: bool, extra: Value| {
        let mut props =
            json!({"$device_id": "laptop", "$is_identified": identified, "$process_person_profile": identified});
        for (k, v) in extra.as_object().unwrap() {
            props[k] = v.clone();
        }
        stored_event(i, (P, "posthog"), name, id, Some("laptop".into()), props)
    };
    let events = vec![
        js(1, "$pageview", "anon-1", false, json!({})),
        js(2, "$identify", "user-a", true, json!({"$anon_distinct_id": "anon-1", "$set": {"email": "a@example.com"}})),
        js(3, "logged_out", "user-a", true, json!({})),
        js(4, "$create_alias", "user-a", true, json!({"alias": "user-b"})),
        js(5, "$pageview", "user-b", true, json!({})),
        stored_event(6, (P, "posthog"), "$pageview", "visitor-9", None, json!({})),
    ];
    app.store.write(accepted_request("posthog"), events).await.unwrap();
}

/// One JSON-RPC message POSTed to `/mcp` as an MCP client sends it, with `headers` added.
async fn post_mcp(router: &Router, message: &Value, headers: &[(&str, &str)]) -> Resp {
    let mut builder = req("POST", "/mcp")
        .header("host", HOST)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = router.clone().oneshot(builder.body(Body::from(message.to_string())).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Resp { status, headers, body }
}

async fn rpc(router: &Router, method: &str, params: Value, headers: &[(&str, &str)]) -> Value {
    let message = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let resp = post_mcp(router, &message, headers).await;
    assert_eq!(resp.status, StatusCode::OK, "{method}: {}", resp.text());
    resp.json()
}

/// A tool's answer: whether it is an error, and its text.
async fn call(app: &App, tool: &str, arguments: Value) -> (bool, String) {
    call_with(&app.router, tool, arguments, &[]).await
}

async fn call_with(router: &Router, tool: &str, arguments: Value, headers: &[(&str, &str)]) -> (bool, String) {
    let answer = rpc(router, "tools/call", json!({"name": tool, "arguments": arguments}), headers).await;
    let result = &answer["result"];
    assert!(result.is_object(), "{tool}: a result, not a protocol error: {answer}");
    let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{tool}: text content: {answer}"));
    (result["isError"] == true, text.to_owned())
}

/// A call left running (a wait) while the test commits what it waits for.
fn call_in_background(app: &App, tool: &'static str, arguments: Value) -> tokio::task::JoinHandle<(bool, String)> {
    let router = app.router.clone();
    tokio::spawn(async move { call_with(&router, tool, arguments, &[]).await })
}

#[tokio::test]
async fn every_tool_is_listed_with_a_schema_that_refuses_unknown_arguments() {
    let app = app();
    let init = rpc(
        &app.router,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
        &[],
    )
    .await;
    assert_eq!(init["result"]["serverInfo"]["name"], "identity-inspector", "{init}");
    assert!(init["result"]["instructions"].as_str().unwrap().contains("list_projects"), "{init}");
    let list = rpc(&app.router, "tools/list", json!({}), &[]).await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in tools {
        let schema = &tool["inputSchema"];
        assert_eq!(schema["type"], "object", "{tool}");
        assert_eq!(schema["additionalProperties"], false, "a misspelt argument must be an error: {tool}");
        assert!(tool["description"].as_str().is_some_and(|d| d.len() > 40), "{tool}");
    }
    let why = tools.iter().find(|t| t["name"] == "why").unwrap();
    assert_eq!(why["inputSchema"]["required"], json!(["project", "a", "b"]), "{why}");
    let clear = tools.iter().find(|t| t["name"] == "clear_project").unwrap();
    assert_eq!(clear["annotations"]["destructiveHint"], true, "{clear}");
}

#[tokio::test]
async fn answers_carry_the_ids_to_follow_up_and_the_vendors_reasons() {
    let app = app();
    shared_laptop(&app).await;
    let person_b = app.api(&format!("/api/persons?project={P}&distinct_id=user-b")).await["persons"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (error, projects) = call(&app, "list_projects", json!({})).await;
    assert!(!error, "{projects}");
    assert!(projects.contains(&format!("- \"{P}\": source posthog, PostHog identity rules")), "{projects}");
    assert!(projects.contains("Newest event seq: 6"), "{projects}");

    let (_, events) = call(&app, "search_events", json!({"project": P, "limit": 2})).await;
    assert!(events.starts_with("2 events (newest first;"), "{events}");
    assert!(events.contains("- seq 5 ·") && events.contains("distinct_id \"user-b\""), "{events}");
    assert!(events.contains(&format!("person {person_b}")), "the same person as /api/persons: {events}");
    assert!(events.contains("Older events: search_events with cursor=5"), "{events}");

    let (_, person) = call(&app, "get_person", json!({"project": P, "distinct_id": "user-b"})).await;
    assert!(person.starts_with(&format!("Person {person_b}")), "{person}");
    assert!(person.contains("\"user-a\"") && person.contains("\"anon-1\""), "every id of the person: {person}");
    assert!(person.contains("- email = \"a@example.com\""), "{person}");
    assert!(person.contains("rule merge_attached_source"), "the alias decision: {person}");
    assert!(person.contains(&format!("\"{P}/laptop\"")), "its lane: {person}");
    let (_, by_id) = call(&app, "get_person", json!({"person_id": person_b})).await;
    assert_eq!(by_id, person);

    let (_, why) = call(&app, "why", json!({"project": P, "a": "user-a", "b": "user-b"})).await;
    assert!(why.starts_with("'user-a' and 'user-b' are one person: one event joined them."), "{why}");
    assert!(why.contains("\"$create_alias\"") && why.contains("rule merge_attached_source"), "{why}");
    assert!(why.contains(&format!("on lane \"{P}/laptop\"")), "{why}");
    assert!(why.contains("Root cause:") && why.contains("no reset() after `logged_out`"), "{why}");
    let (_, apart) = call(&app, "why", json!({"project": P, "a": "user-a", "b": "visitor-9"})).await;
    assert!(apart.contains("no event ever linked 'user-a' and 'visitor-9'"), "{apart}");

    let (_, timeline) = call(&app, "device_timeline", json!({"device_id": "laptop"})).await;
    assert!(timeline.starts_with(&format!("Lane \"{P}/laptop\"")), "{timeline}");
    let identify = timeline.find("identify").expect("the identify move");
    let user_a = timeline.find("distinct id \"user-a\"").expect("user-a's stretch");
    assert!(identify < user_a, "the move comes before the stretch it starts: {timeline}");
    assert!(timeline.contains(&format!("person {person_b}")), "{timeline}");

    let (_, warnings) = call(&app, "list_warnings", json!({"project": P})).await;
    assert!(warnings.contains("Fix:"), "{warnings}");
    assert!(warnings.contains("\"user-b\"") || warnings.contains("\"user-a\""), "{warnings}");

    let (_, lens) = call(&app, "vendor_lens", json!({"project": P})).await;
    assert!(lens.starts_with(&format!("Vendor lens of \"{P}\"")), "{lens}");
    for vendor in ["PostHog", "Segment", "RudderStack", "Mixpanel", "KISSmetrics"] {
        assert!(lens.contains(&format!("- {vendor}")), "{vendor}: {lens}");
    }
}

#[tokio::test]
async fn rejected_requests_come_with_their_reason() {
    let app = app();
    let refused = app.post("/i/v0/e/", &[("content-type", "application/json")], r#"{"event": "x"}"#).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
    let stored = app.rejected().await;
    let (error, text) = call(&app, "list_rejected_requests", json!({})).await;
    assert!(!error, "{text}");
    assert!(text.starts_with("1 rejected request (newest first):"), "{text}");
    let line = format!("- request {} · POST /i/v0/e/", stored[0]["id"]);
    assert!(text.contains(&line), "{text}");
    assert!(text.contains(stored[0]["error"].as_str().unwrap()), "the stored reason: {text}");
}

#[tokio::test]
async fn bad_arguments_and_unknown_names_are_errors_the_agent_can_read() {
    let app = app();
    shared_laptop(&app).await;
    let (error, text) = call(&app, "search_events", json!({"project": "phc_typo"})).await;
    assert!(error);
    assert_eq!(text, format!("Error (not_found): no project \"phc_typo\" has been seen; known projects: \"{P}\""));
    let (error, text) = call(&app, "search_events", json!({"projct": P})).await;
    assert!(error && text.contains("unknown field `projct`"), "{text}");
    let (error, text) = call(&app, "search_events", json!({"source": ["posthg"]})).await;
    assert!(error && text.contains("unknown source \"posthg\""), "{text}");
    let (error, text) = call(&app, "list_warnings", json!({"rule": "nope"})).await;
    assert!(error && text.contains("unknown rule \"nope\"; the rules are"), "{text}");
    let (error, text) = call(&app, "why", json!({"project": P, "a": "user-a", "b": "nobody"})).await;
    assert!(error && text.contains("'nobody'"), "{text}");
    let (error, text) = call(&app, "get_person", json!({"person_id": "not-a-uuid"})).await;
    assert!(error && text.contains("person_id must be a UUID"), "{text}");
    let (error, text) = call(&app, "device_timeline", json!({})).await;
    assert!(error && text.contains("give lane_id, device_id or distinct_id"), "{text}");

    let unknown = rpc(&app.router, "tools/call", json!({"name": "drop_tables", "arguments": {}}), &[]).await;
    assert_eq!(unknown["error"]["code"], -32602, "an unknown tool is a protocol error: {unknown}");
}

#[tokio::test]
async fn wait_for_events_answers_when_matching_events_are_committed() {
    let app = app();
    shared_laptop(&app).await;
    let (_, timed_out) = call(&app, "wait_for_events", json!({"project": P, "timeout_seconds": 1})).await;
    assert!(timed_out.starts_with("Timed out after 1 s: 0 of 1 matching events arrived after seq 6"), "{timed_out}");

    let started = Instant::now();
    let waiting = call_in_background(
        &app,
        "wait_for_events",
        json!({"project": P, "event": "signup", "after_seq": 6, "timeout_seconds": 30}),
    );
    // Events of another name commit first: they wake the wait, which keeps waiting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = stored_event(7, (P, "posthog"), "$pageview", "user-b", None, json!({}));
    app.store.write(accepted_request("posthog"), vec![other]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "a $pageview is not the signup waited for");
    let signup = stored_event(8, (P, "posthog"), "signup", "user-b", None, json!({"plan": "pro"}));
    app.store.write(accepted_request("posthog"), vec![signup]).await.unwrap();
    let (error, text) = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("answered").unwrap();
    assert!(!error, "{text}");
    assert!(started.elapsed() < Duration::from_secs(10), "woken by the commit, not the timeout");
    assert!(text.starts_with("1 matching event arrived after seq 6"), "{text}");
    assert!(text.contains("\"signup\"") && text.contains("Newest seq: 8"), "{text}");
    assert!(text.contains("wait_for_events with after_seq=8"), "{text}");
}

/// An SDK often sends one action in two requests a moment apart (posthog-js sends `$identify`
/// at once and the events around it with the next flush): the wait settles, so the agent that
/// triggered the action reads both in one answer. Without settling it answered with the first.
#[tokio::test]
async fn wait_for_events_takes_events_arriving_together_in_one_answer() {
    let app = app();
    shared_laptop(&app).await;
    let waiting =
        call_in_background(&app, "wait_for_events", json!({"project": P, "after_seq": 6, "timeout_seconds": 30}));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let identify = stored_event(7, (P, "posthog"), "$identify", "user-c", None, json!({}));
    app.store.write(accepted_request("posthog"), vec![identify]).await.unwrap();
    // Well inside the 100 ms of quiet the wait looks for.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let signup = stored_event(8, (P, "posthog"), "signup", "user-c", None, json!({}));
    app.store.write(accepted_request("posthog"), vec![signup]).await.unwrap();
    let (error, text) = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("answered").unwrap();
    assert!(!error, "{text}");
    assert!(text.starts_with("2 matching events arrived after seq 6"), "{text}");
    assert!(text.contains("\"$identify\"") && text.contains("\"signup\""), "{text}");
}

/// Under a burst the wait answers once matching events have kept coming for a second (with at
/// least as many as it waited for), not when the timeout ends, and says that more may have
/// come than one answer reads.
#[tokio::test]
async fn wait_for_events_answers_a_burst_within_its_settling_time() {
    let app = app();
    shared_laptop(&app).await;
    let burst = {
        let store = app.store.clone();
        tokio::spawn(async move {
            // At least ten seconds of commits, had nothing stopped them.
            for n in 0..1_000 {
                let events = (0..5)
                    .map(|i| {
                        stored_event(100 + n * 5 + i, (P, "posthog"), "tick", &format!("u{n}-{i}"), None, json!({}))
                    })
                    .collect();
                store.write(accepted_request("posthog"), events).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = Instant::now();
    let args = json!({"project": P, "event": "tick", "min_count": 50, "timeout_seconds": 30});
    let (error, text) = call(&app, "wait_for_events", args).await;
    let took = started.elapsed();
    burst.abort();
    assert!(!error, "{text}");
    // A second of settling after the first 50; a wait that settled only on quiet would still
    // be waiting.
    assert!(took < Duration::from_secs(6), "answered while the burst went on, after {took:?}");
    let first = text.lines().next().unwrap_or_default();
    assert!(first.contains("matching events arrived"), "{first}");
    let arrived: usize = first.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or(0);
    assert!(arrived >= 50, "{first}");
    if arrived == 100 {
        assert!(first.starts_with("At least 100 matching events"), "a full page says more may have come: {first}");
    }
}

#[tokio::test]
async fn clearing_a_project_over_http_needs_the_control_token() {
    let (app, state) = app_and_state();
    shared_laptop(&app).await;
    let (error, text) = call(&app, "clear_project", json!({"project": P})).await;
    assert!(error && text.starts_with("Error (bad_token):"), "{text}");
    let (error, text) =
        call_with(&app.router, "clear_project", json!({"project": P}), &[("x-inspector-token", "wrong")]).await;
    assert!(error && text.starts_with("Error (bad_token):"), "{text}");
    let token = state.control.token().to_owned();
    let with_token = [("x-inspector-token", token.as_str())];
    let (error, text) = call_with(&app.router, "clear_project", json!({"project": "phc_typo"}), &with_token).await;
    assert!(error && text.contains("no project \"phc_typo\""), "{text}");
    assert_eq!(app.events(&format!("project={P}")).await.len(), 6, "nothing was deleted yet");
    let (error, text) = call_with(&app.router, "clear_project", json!({"project": P}), &with_token).await;
    assert!(!error && text.starts_with(&format!("Cleared project {P:?}: 6 events and")), "{text}");
    assert!(app.events(&format!("project={P}")).await.is_empty());
    assert!(app.api(&format!("/api/persons?project={P}")).await["persons"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn other_hosts_and_web_pages_are_refused_and_nothing_is_readable_cross_origin() {
    let app = app();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let mut wrong_host = req("POST", "/mcp")
        .header("host", "evil.example:8010")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    wrong_host = wrong_host.header("origin", "http://evil.example:8010");
    let resp = app.send(wrong_host.body(Body::from(list.to_string())).unwrap()).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", resp.text());
    assert_eq!(resp.json()["code"], "wrong_host");

    let resp = post_mcp(&app.router, &list, &[("origin", "http://127.0.0.1:8010")]).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "a page, even one on this origin: {}", resp.text());
    assert!(resp.header("access-control-allow-origin").is_none());

    let preflight = req("OPTIONS", "/mcp")
        .header("host", HOST)
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    let resp = app.send(preflight).await;
    assert!(!resp.status.is_success() || resp.header("access-control-allow-origin").is_none(), "{resp:?}");
    assert!(resp.header("access-control-allow-origin").is_none(), "no CORS on /mcp: {resp:?}");

    let ok = post_mcp(&app.router, &list, &[]).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.header("access-control-allow-origin").is_none(), "no CORS on /mcp");
}
