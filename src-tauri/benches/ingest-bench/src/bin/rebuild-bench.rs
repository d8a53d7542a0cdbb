//! `cargo run --release -p ingest-bench --bin rebuild-bench -- [--events 1000000] [--devices 100000]`
//!
//! Fills a store with posthog-js-like traffic (anonymous browsing, identify, reset, a second user
//! on some devices), then, in a fresh process so that peak memory is the rebuild's own, rebuilds
//! persons, device lanes and findings from SQLite exactly as the server does at start-up.

/// The allocator the server binary uses, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use clap::Parser;
use event_store::{NewEvent, NewRequest, Outcome, Store};
use ingest_bench::{cpu_seconds, thread_cpu_seconds};
use serde_json::json;

#[derive(Parser)]
struct Opts {
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    #[arg(long, default_value_t = 100_000)]
    devices: usize,
    /// Internal: measure the rebuild of an existing data dir.
    #[arg(long)]
    measure: Option<PathBuf>,
    /// Keep the generated database here (reused when it already exists) instead of a temp dir.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Peak resident memory of this process so far, in MB (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn event_for(d: usize, i: usize, per_device: usize, now: i64) -> (String, String, serde_json::Value) {
    // posthog-js anonymous ids are UUIDs; `$is_identified` tells which ids are users.
    let anon = format!("01a20b8b-{:04x}-7000-8000-{:012x}", 0, d);
    let user = format!("user-{}", d % (per_device.max(1) * 5_000));
    let identify_at = per_device / 3;
    let reset_at = 2 * per_device / 3;
    let ua = format!("Mozilla/5.0 (X11; Linux x86_64) Chrome/{}", 100 + d % 40);
    // posthog-js: the device id is the first anonymous id, and stays through reset().
    let base = json!({
        "$device_id": anon.clone(), "$session_id": format!("sess-{d}-{}", i / 5),
        "$lib": "web", "$raw_user_agent": ua, "$current_url": format!("https://app.example.com/p/{}", i),
        "token": "phc_rebuild"
    });
    let mut props = base.as_object().unwrap().clone();
    let identified = !d.is_multiple_of(3); // two devices in three sign in
    let (event, distinct_id) = if identified && i == identify_at {
        props.insert("$anon_distinct_id".into(), json!(anon));
        props.insert("$set".into(), json!({"email": format!("{user}@example.com")}));
        ("$identify", user.clone())
    } else if identified && i > identify_at && i < reset_at {
        ("$pageview", user.clone())
    } else if identified && i >= reset_at {
        props.insert("$process_person_profile".into(), json!(false));
        ("$pageview", format!("01a20b8b-{:04x}-7000-8000-{:012x}", 1, d))
    } else {
        props.insert("$process_person_profile".into(), json!(false));
        ("$pageview", anon)
    };
    let _ = now;
    let is_user = distinct_id == user;
    props.insert("$is_identified".into(), json!(is_user));
    (event.to_owned(), distinct_id, serde_json::Value::Object(props))
}

fn fill(dir: &std::path::Path, events: usize, devices: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store = Store::open(dir).expect("open store");
    let per_device = (events / devices).max(1);
    let now = chrono::Utc::now().timestamp_micros();
    let started = Instant::now();
    rt.block_on(async {
        let mut batch = Vec::with_capacity(5_000);
        let mut written = 0;
        // Devices interleave as real traffic does: round-robin over blocks of 1000 devices.
        'outer: for block in (0..devices).step_by(1_000) {
            for i in 0..per_device {
                for d in block..(block + 1_000).min(devices) {
                    let (event, distinct_id, properties) = event_for(d, i, per_device, now);
                    batch.push(NewEvent {
                        uuid: uuid::Uuid::now_v7().to_string(),
                        project: "phc_rebuild".into(),
                        source: "posthog".into(),
                        event,
                        distinct_id,
                        device_id: properties["$device_id"].as_str().map(str::to_owned),
                        session_id: properties["$session_id"].as_str().map(str::to_owned),
                        timestamp: now + written as i64,
                        original_timestamp: None,
                        sent_at: None,
                        received_at: now,
                        properties: properties.to_string(),
                        warnings: Vec::new(),
                    });
                    written += 1;
                    if batch.len() == 5_000 || written == events {
                        let request = NewRequest {
                            received_at: now,
                            method: "POST".into(),
                            path: "/e/".into(),
                            query: None,
                            headers: Vec::new(),
                            body: Vec::new(),
                            source: Some("posthog".into()),
                            route: Some("capture".into()),
                            outcome: Outcome::Accepted,
                            status: 200,
                            error: None,
                            error_code: None,
                            note: None,
                            project: None,
                        };
                        store.write(request, std::mem::take(&mut batch)).await.expect("write");
                    }
                    if written == events {
                        break 'outer;
                    }
                }
            }
        }
        store.close().await;
    });
    eprintln!("stored {events} events over {devices} devices in {:.1} s", started.elapsed().as_secs_f64());
}

/// The server's own start-up path: `Identity::start` on the store, timed until the model has
/// applied the last stored event.
fn measure(dir: &std::path::Path) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = Store::open(dir).expect("open store");
    let target = store.last_seq().expect("read");
    let before = peak_rss_mb();
    let cpu_before = cpu_seconds("self");
    let started = Instant::now();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let identity = rt.block_on(async { inspector_server::Identity::start(store.clone(), shutdown.clone(), true) });
    while identity.applied_seq() < target {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds("self") - cpu_before;
    let model_cpu = thread_cpu_seconds("identity-model");
    let (persons, lanes, by_rule) = identity.read(|model| {
        let mut by_rule = std::collections::BTreeMap::new();
        for f in model.findings(Some("phc_rebuild")) {
            *by_rule.entry(f.rule.as_str()).or_insert(0) += 1;
        }
        (model.engine().persons("phc_rebuild").len(), model.devices(Some("phc_rebuild")).len(), by_rule)
    });
    println!(
        "rebuilt {target} events: {persons} persons, {lanes} device lanes, {} findings",
        by_rule.values().sum::<usize>()
    );
    println!("findings by rule    {by_rule:?}");
    println!(
        "rebuild time        {:.2} s ({:.0} events/s, {:.1} µs/event)",
        elapsed.as_secs_f64(),
        target as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / target.max(1) as f64
    );
    println!("cpu time            {cpu:.2} s (both threads: model, and store reading + decoding)");
    println!("model thread cpu    {model_cpu:.2} s (the critical path; the rest is the reading thread)");
    println!("peak memory         {:.0} MB (process; {:.0} MB before the rebuild)", peak_rss_mb(), before);
    shutdown.cancel();
    rt.block_on(store.close());
}

fn main() {
    // As the server binary does: the figures are the server's.
    inspector_server::memory::small_pages();
    let opts = Opts::parse();
    if let Some(dir) = opts.measure {
        return measure(&dir);
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = opts.data_dir.clone().unwrap_or_else(|| temp.path().to_owned());
    if !dir.join(event_store::DB_FILE).exists() {
        fill(&dir, opts.events, opts.devices);
    }
    let status = Command::new(std::env::current_exe().expect("own path"))
        .arg("--measure")
        .arg(&dir)
        .status()
        .expect("run the measuring process");
    assert!(status.success(), "rebuild measurement failed");
}
