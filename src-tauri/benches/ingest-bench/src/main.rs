//! `cargo run --release -p ingest-bench -- [--events N] [--batch 100] [--connections 8] [--vendor segment]`
//!
//! Measures, in one run on one machine:
//! 1. the inspector: N events posted to `/batch/` (`--vendor segment`: analytics-node-like
//!    messages to `/v1/batch`, deduplicated by `messageId` and resolved by Segment's rules) as
//!    gzip batches from C keep-alive connections;
//!    committed events/s and request latency p50/p99 (a 200 means committed);
//! 2. the reference: the same event rows inserted straight into SQLite (same schema, same
//!    pragmas, one process, transactions of 10 000 rows): the limit of this storage here.
//!
//! The ratio between the two is the figure that travels between machines.

/// The allocator the server binary uses, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use inspector_server::{BoundServer, ServerConfig};
use serde_json::{json, Value};

#[derive(Parser)]
struct Opts {
    /// Total events to send.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Rounds of (inspector, raw SQLite), alternated; medians are reported, since a shared
    /// 2-core machine is noisy.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Whose traffic to post.
    #[arg(long, value_enum, default_value_t = Vendor::Posthog)]
    vendor: Vendor,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Vendor {
    Posthog,
    Segment,
}

impl Vendor {
    fn path(self) -> &'static str {
        match self {
            Vendor::Posthog => "/batch/",
            Vendor::Segment => "/v1/batch",
        }
    }

    fn event(self, i: usize, now: &str) -> Value {
        match self {
            Vendor::Posthog => event(i, now),
            Vendor::Segment => segment_message(i, now),
        }
    }

    fn body(self, chunk: &[Value], now: &str) -> Value {
        match self {
            Vendor::Posthog => json!({"api_key": "phc_bench", "batch": chunk, "sent_at": now}),
            Vendor::Segment => json!({"writeKey": "wk_bench", "batch": chunk, "sentAt": now}),
        }
    }

    /// The event's row as the inspector stores it, for the raw SQLite reference.
    fn row(self, e: &Value) -> Row<'_> {
        match self {
            Vendor::Posthog => {
                let p = &e["properties"];
                Row {
                    project: "phc_bench",
                    source: "posthog",
                    uuid: e["uuid"].as_str(),
                    event: e["event"].as_str(),
                    distinct_id: e["distinct_id"].as_str(),
                    device_id: p["$device_id"].as_str(),
                    session_id: p["$session_id"].as_str(),
                    properties: p.to_string(),
                }
            }
            Vendor::Segment => Row {
                project: "wk_bench",
                source: "segment",
                uuid: e["messageId"].as_str(),
                event: if e["type"] == "track" { e["event"].as_str() } else { e["type"].as_str() },
                distinct_id: e["userId"].as_str(),
                device_id: e["context"]["device"]["id"].as_str(),
                session_id: None,
                properties: e.to_string(),
            },
        }
    }
}

struct Row<'a> {
    project: &'static str,
    source: &'static str,
    uuid: Option<&'a str>,
    event: Option<&'a str>,
    distinct_id: Option<&'a str>,
    device_id: Option<&'a str>,
    session_id: Option<&'a str>,
    properties: String,
}

/// An analytics-node-like Segment message of about the same size as `event`'s.
fn segment_message(i: usize, now: &str) -> Value {
    let identify = i.is_multiple_of(7);
    let mut m = json!({
        "type": if identify { "identify" } else { "track" },
        "userId": format!("user-{}", i % 5_000),
        "anonymousId": format!("anon-{}", i % 20_000),
        "messageId": uuid::Uuid::now_v7().to_string(),
        "timestamp": now,
        "context": {
            "library": {"name": "@segment/analytics-node", "version": "3.1.0"},
            "device": {"id": format!("device-{}", i % 20_000)}
        },
        "integrations": {},
    });
    if identify {
        m["traits"] = json!({"email": format!("user-{}@example.com", i % 5_000), "plan": "pro", "seats": i % 40});
    } else {
        m["event"] = json!("viewed page");
        m["properties"] = json!({
            "url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
            "plan": "pro", "seats": i % 40, "experiment": "checkout-v2", "index": i
        });
    }
    m
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// A posthog-node-like event of realistic size (about 500 bytes of JSON).
fn event(i: usize, now: &str) -> Value {
    json!({
        "event": if i.is_multiple_of(7) { "$identify" } else { "viewed page" },
        "distinct_id": format!("user-{}", i % 5_000),
        "uuid": uuid::Uuid::now_v7().to_string(),
        "timestamp": now,
        "properties": {
            "$lib": "posthog-node", "$lib_version": "5.70.0", "$geoip_disable": true,
            "$device_id": format!("device-{}", i % 20_000),
            "$session_id": format!("session-{}", i / 50),
            "$current_url": format!("https://app.example.com/projects/{}/settings?tab=billing", i % 977),
            "plan": "pro", "seats": i % 40, "experiment": "checkout-v2", "index": i,
            "$set": {"email": format!("user-{}@example.com", i % 5_000)}
        }
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory gzip")
}

struct HttpResult {
    elapsed: Duration,
    latency: hdrhistogram::Histogram<u64>,
    stored: i64,
    /// With the identity model: how long after the last 200 it had applied every event.
    identity_lag: Duration,
}

fn run_http(opts: &Opts, bodies: Arc<Vec<Vec<u8>>>, identity: bool) -> HttpResult {
    let dir = tempfile::tempdir().expect("temp dir");
    // The server gets its own runtime (as in the real binary); the load generator another.
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = ServerConfig { bind: [127, 0, 0, 1].into(), port: 0, data_dir: dir.path().to_owned(), identity };
    let server = server_rt.block_on(BoundServer::bind(&config)).expect("bind");
    let url = server.url().to_owned();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = server_rt.spawn(server.run_until(async move {
        let _ = stop_rx.await;
    }));

    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let latency = client_rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..opts.connections {
            let bodies = bodies.clone();
            let next = next.clone();
            let endpoint = format!("{url}{}", opts.vendor.path());
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let sent = Instant::now();
                    let response = client
                        .post(&endpoint)
                        .header("content-type", "application/json")
                        .header("content-encoding", "gzip")
                        .body(body.clone())
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status(), 200, "batch {i} refused: {:?}", response.text().await);
                    let _ = response.bytes().await;
                    hist.record(sent.elapsed().as_micros() as u64).unwrap();
                }
                hist
            }));
        }
        let mut all = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for t in tasks {
            all.add(t.await.unwrap()).unwrap();
        }
        all
    });
    let elapsed = started.elapsed();
    let (stored, identity_lag) = client_rt.block_on(async {
        let done = Instant::now();
        loop {
            let health: Value = reqwest::get(format!("{url}/api/health")).await.unwrap().json().await.unwrap();
            let stored = health["totals"]["events"].as_i64().unwrap_or(-1);
            let applied = health["identity"]["applied_seq"].as_i64().unwrap_or(-1);
            if !identity || applied >= stored || done.elapsed() > Duration::from_secs(120) {
                break (stored, done.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let _ = stop_tx.send(());
    server_rt.block_on(serving).unwrap().unwrap();
    HttpResult { elapsed, latency, stored, identity_lag }
}

/// The same rows, straight into the same schema: the storage's own limit on this machine.
fn run_raw_sqlite(rows: &[Value], batch: usize, vendor: Vendor) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = event_store::Store::open(dir.path()).expect("open");
    rt.block_on(store.close());
    drop(store);
    let mut conn = rusqlite::Connection::open(dir.path().join(event_store::DB_FILE)).unwrap();
    event_store::configure_writer(&conn).unwrap();
    let now = chrono::Utc::now().timestamp_micros();
    let started = Instant::now();
    for chunk in rows.chunks(10_000) {
        let tx = conn.transaction().unwrap();
        {
            let mut req = tx
                .prepare_cached(
                    "INSERT INTO requests (received_at, method, path, headers, body, outcome, status, event_count)
                     VALUES (?1, 'POST', '/batch/', '[]', x'00', 'accepted', 200, ?2)",
                )
                .unwrap();
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO events (uuid, request_id, project, source, event, distinct_id, device_id, session_id,
                     timestamp, original_timestamp, sent_at, received_at, properties, warnings)
                     VALUES (?1, ?2, ?10, ?11, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?7, ?9, NULL)",
                )
                .unwrap();
            let mut request_id = 0;
            for (i, e) in chunk.iter().enumerate() {
                if i % batch == 0 {
                    req.execute(rusqlite::params![now, batch as i64]).unwrap();
                    request_id = tx.last_insert_rowid();
                }
                let row = vendor.row(e);
                ins.execute(rusqlite::params![
                    row.uuid,
                    request_id,
                    row.event,
                    row.distinct_id,
                    row.device_id,
                    row.session_id,
                    now,
                    e["timestamp"].as_str(),
                    row.properties,
                    row.project,
                    row.source,
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    started.elapsed()
}

fn main() {
    let opts = Opts::parse();
    let now = chrono::Utc::now().to_rfc3339();
    eprintln!("generating {} events in gzip batches of {}...", opts.events, opts.batch);
    let rows: Vec<Value> = (0..opts.events).map(|i| opts.vendor.event(i, &now)).collect();
    let bodies: Vec<Vec<u8>> =
        rows.chunks(opts.batch).map(|chunk| gzip(opts.vendor.body(chunk, &now).to_string().as_bytes())).collect();
    let raw_bytes: usize = rows.iter().map(|r| r.to_string().len()).sum();
    eprintln!("average event: {} bytes of JSON", raw_bytes / rows.len().max(1));

    let bodies = Arc::new(bodies);
    let rate = |d: Duration| opts.events as f64 / d.as_secs_f64();
    let mut rounds = Vec::new();
    for round in 1..=opts.runs.max(1) {
        eprintln!(
            "round {round}: capture only, {} connections posting to {} ...",
            opts.connections,
            opts.vendor.path()
        );
        let capture = run_http(&opts, bodies.clone(), false);
        eprintln!("round {round}: capture + identity model ...");
        let full = run_http(&opts, bodies.clone(), true);
        for r in [&capture, &full] {
            assert_eq!(r.stored, opts.events as i64, "every event answered 200 must be stored");
        }
        eprintln!("round {round}: raw SQLite reference ...");
        let raw = rate(run_raw_sqlite(&rows, opts.batch, opts.vendor));
        let (c, f) = (rate(capture.elapsed), rate(full.elapsed));
        eprintln!("round {round}: capture {c:.0}/s, with identity {f:.0}/s, raw {raw:.0}/s");
        rounds.push(Round {
            capture: c,
            full: f,
            raw,
            capture_latency: capture.latency,
            full_latency: full.latency,
            lag: full.identity_lag,
        });
    }
    let pick = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "events / batch / connections / runs     {} / {} / {} / {}",
        opts.events, opts.batch, opts.connections, opts.runs
    );
    println!(
        "capture only (median)                   {:>9.0} events/s   p50 {:.1} ms   p99 {:.1} ms",
        pick(&|r| r.capture),
        pick(&|r| ms(r.capture_latency.value_at_quantile(0.5))),
        pick(&|r| ms(r.capture_latency.value_at_quantile(0.99)))
    );
    println!(
        "capture + identity model (median)       {:>9.0} events/s   p50 {:.1} ms   p99 {:.1} ms",
        pick(&|r| r.full),
        pick(&|r| ms(r.full_latency.value_at_quantile(0.5))),
        pick(&|r| ms(r.full_latency.value_at_quantile(0.99)))
    );
    println!(
        "identity model caught up after          {:>9.0} ms past the last 200 (median)",
        pick(&|r| r.lag.as_secs_f64() * 1000.0)
    );
    println!("raw SQLite inserts (median)             {:>9.0} events/s", pick(&|r| r.raw));
    println!("capture only / raw SQLite               {:.2}", pick(&|r| r.capture / r.raw));
    println!("with identity / raw SQLite              {:.2}", pick(&|r| r.full / r.raw));
    println!("with identity / capture only            {:.2}", pick(&|r| r.full / r.capture));
}

struct Round {
    capture: f64,
    full: f64,
    raw: f64,
    capture_latency: hdrhistogram::Histogram<u64>,
    full_latency: hdrhistogram::Histogram<u64>,
    lag: Duration,
}
