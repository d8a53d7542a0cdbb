//! `/api/projects/{key}/settings`: per-project identity settings stored before or after a
//! project's first event, the control token, bodies refused naming their field, and the model
//! replayed under a changed setting (its label on persons, projects and the lens follows).

use std::time::Duration;

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use inspector_server::{AppState, TOKEN_HEADER};
use serde_json::{json, Value};

struct Ctl {
    app: App,
    state: AppState,
}

fn ctl() -> Ctl {
    let (app, state) = app_and_state();
    Ctl { app, state }
}

impl Ctl {
    async fn put(&self, project: &str, token: Option<&str>, body: &str) -> Resp {
        let mut b = req("PUT", &format!("/api/projects/{project}/settings"))
            .header("host", HOST)
            .header("content-type", "application/json");
        if let Some(t) = token {
            b = b.header(TOKEN_HEADER, t);
        }
        self.app.send(b.body(Body::from(body.to_owned())).unwrap()).await
    }

    fn token(&self) -> String {
        self.state.control.token().to_owned()
    }

    /// A Mixpanel visitor who then identifies, as mixpanel-browser sends it (stored directly:
    /// the route is not what is under test).
    async fn mixpanel_traffic(&self, project: &str) {
        let event = |i: usize, name: &str, distinct_id: &str, props: Value| {
            stored_event(i, (project, "mixpanel"), name, distinct_id, None, props)
        };
        let events = vec![
            event(1, "Clicked", "$device:d1", json!({"distinct_id": "$device:d1", "$device_id": "d1"})),
            event(
                2,
                "$identify",
                "mu1",
                json!({"distinct_id": "mu1", "$device_id": "d1", "$user_id": "mu1", "$anon_distinct_id": "$device:d1"}),
            ),
        ];
        self.app.store.write(accepted_request("mixpanel"), events).await.unwrap();
    }

    async fn person_label(&self, project: &str) -> Value {
        let persons = self.app.api(&format!("/api/persons?project={project}")).await;
        let id = persons["persons"][0]["id"].as_str().expect("a person").to_owned();
        self.app.api(&format!("/api/persons/{id}")).await["settings_label"].clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_is_configured_before_its_first_event_and_its_events_use_the_setting() {
    let c = ctl();
    let fresh = c.app.api("/api/projects/mp_new/settings").await;
    assert_eq!(fresh["configured"], false);
    assert_eq!(fresh["settings"]["mixpanel_id_merge"], "simplified", "Simplified is Mixpanel's default");
    assert_eq!(fresh["settings"]["segment_blocked_values"], false, "Segment's blocked values are opt-in");

    let r = c.put("mp_new", Some(&c.token()), r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = c.app.api("/api/projects/mp_new/settings").await;
    assert_eq!(
        (got["configured"].clone(), got["settings"]["mixpanel_id_merge"].clone()),
        (json!(true), json!("original"))
    );
    let mixpanel_label = got["labels"].as_array().unwrap().iter().find(|l| l["family"] == "mixpanel").unwrap().clone();
    assert_eq!(mixpanel_label["label"], "Mixpanel, Original ID Merge");
    let listed = c.app.api("/api/projects/settings").await;
    assert_eq!(listed["projects"][0]["project"], "mp_new");

    c.mixpanel_traffic("mp_new").await;
    assert_eq!(c.person_label("mp_new").await, "Mixpanel, Original ID Merge", "the engine applied the stored mode");
    let projects = c.app.api("/api/projects").await;
    assert_eq!(projects["projects"][0]["settings_label"], "Mixpanel, Original ID Merge");

    // The CLI's path (no server): a model rebuilt from the store gets the stored settings too.
    let store = c.app.store.clone();
    let model = tokio::task::spawn_blocking(move || ingest::rebuild_model(&store)).await.unwrap().unwrap();
    assert_eq!(model.engine().settings("mp_new").mixpanel_id_merge, identity_engine::MixpanelIdMerge::Original);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_after_events_replays_the_model_and_is_announced() {
    let c = ctl();
    c.mixpanel_traffic("mp_live").await;
    assert_eq!(c.person_label("mp_live").await, "Mixpanel, Simplified ID Merge");
    assert_eq!(c.app.api("/api/persons?project=mp_live").await["total"], 1, "Simplified: one cluster");
    let rebuilds = c.state.identity.rebuilds();
    let mut changes = c.app.store.subscribe();
    let mut model_changes = c.state.identity.subscribe();

    // Partial bodies: one field at a time, the other kept.
    let r = c.put("mp_live", Some(&c.token()), r#"{"segment_blocked_values":true}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c.put("mp_live", Some(&c.token()), r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!(r.json()["settings"]["segment_blocked_values"], true, "a field left out keeps its value");
    match tokio::time::timeout(Duration::from_secs(5), changes.recv()).await.unwrap().unwrap() {
        event_store::Change::Settings { project } => assert_eq!(project, "mp_live"),
        other => panic!("expected a settings announcement, got {other:?}"),
    }

    assert_eq!(c.person_label("mp_live").await, "Mixpanel, Original ID Merge", "read after the replay");
    let replayed = c.state.identity.rebuilds();
    assert!(replayed > rebuilds, "the model was replayed, not patched");
    // Its announcements say so: `applied_seq` starts again, under a higher `replay` (a follower
    // such as `tail` keeps the newest replay's progress, not the old model's).
    let mut replays = Vec::new();
    while let Ok(change) = model_changes.try_recv() {
        let change = serde_json::to_value(change).unwrap();
        replays.push((change["replay"].as_u64().unwrap(), change["applied_seq"].as_i64().unwrap()));
    }
    assert!(replays.iter().any(|(r, _)| *r > 0), "an announcement of the replay: {replays:?}");
    assert!(
        replays.windows(2).all(|w| w[0].0 <= w[1].0),
        "no old model's announcement after the replay's: {replays:?}"
    );
    let writes = c.app.store.settings_writes();
    let same = c.put("mp_live", Some(&c.token()), r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(c.app.store.settings_writes(), writes, "a PUT that changes nothing writes nothing, replays nothing");
    let persons = c.app.api("/api/persons?project=mp_live").await;
    // Original ID Merge: this `$identify` carries `$anon_distinct_id`, not Mixpanel's own
    // `$identified_id` + `$anon_id`, and `$device_id` + `$user_id` link nothing in that mode
    // (Mixpanel "Identifying Users (Original)"): the replay made two clusters of the one that
    // Simplified ID Merge had.
    assert_eq!(persons["total"], 2, "the replay rebuilt the project's clusters from its events under the new mode");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_need_the_token_and_bad_bodies_name_their_field() {
    let c = ctl();
    let r = c.put("k", None, r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!((r.status, r.json()["code"].clone()), (StatusCode::FORBIDDEN, json!("bad_token")));
    let r = c.put("k", Some("not-the-token"), r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    for (body, field) in [
        (r#"{"mixpanel_id_merge":"guess"}"#, "mixpanel_id_merge"),
        (r#"{"segment_blocked_values":"yes"}"#, "segment_blocked_values"),
        (r#"{"segment_identifier_limits":{"email":0}}"#, "segment_identifier_limits"),
        (r#"{"mixpanel_mode":"original"}"#, "mixpanel_mode"),
    ] {
        let r = c.put("k", Some(&c.token()), body).await;
        let json = r.json();
        assert_eq!((r.status, json["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_body")), "{body}");
        assert!(json["error"].as_str().unwrap().contains(&format!("`{field}`")), "{body}: {json}");
    }
    for body in ["not json", "[1]"] {
        assert_eq!(c.put("k", Some(&c.token()), body).await.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(c.app.api("/api/projects/k/settings").await["configured"], false, "nothing refused was stored");

    // Same Host check as the rest of /api, and no CORS.
    let r = c
        .app
        .send(req("GET", "/api/projects/k/settings").header("host", "evil.example").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.app.get("/api/projects/k/settings").await;
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_carries_its_projects_settings_to_the_imported_data_set_only() {
    let c = ctl();
    c.mixpanel_traffic("mp_x").await;
    let r = c.put("mp_x", Some(&c.token()), r#"{"mixpanel_id_merge":"original"}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    let bundle = c.app.get("/api/export?format=bundle").await.body;
    // The live key changes afterwards: the import must neither take nor touch it.
    c.put("mp_x", Some(&c.token()), r#"{"mixpanel_id_merge":"simplified"}"#).await;

    let import = req("POST", "/api/import?filename=carried.iibundle")
        .header("host", HOST)
        .header(TOKEN_HEADER, c.token())
        .body(Body::from(bundle))
        .unwrap();
    let r = c.app.send(import).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let imported = c.app.api("/api/projects/import:carried%2Fmp_x/settings").await;
    assert_eq!(
        (imported["configured"].clone(), imported["settings"]["mixpanel_id_merge"].clone()),
        (json!(true), json!("original"))
    );
    let live = c.app.api("/api/projects/mp_x/settings").await;
    assert_eq!(live["settings"]["mixpanel_id_merge"], "simplified", "an import never writes a live key's settings");
}
