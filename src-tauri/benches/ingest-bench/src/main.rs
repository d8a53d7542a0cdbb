//! `cargo run --release -p ingest-bench -- [--events N] [--batch 100] [--connections 8] [--vendor segment]`
//!
//! Measures, in one run on one machine:
//! 1. the inspector: N events sent from C keep-alive connections as the vendor's SDK sends them
//!    (`traffic::*`: posthog-node gzip batches to `/batch/` by default; `--vendor segment`,
//!    `mixpanel`, `rudderstack`, `kissmetrics`), once without and once with the identity model;
//!    committed events/s and request latency p50/p99 (a 200 means committed), checked
//!    afterwards that exactly N events are stored (none lost, none duplicated) and, with the
//!    model, how long after the last 200 it had applied them all;
//! 2. the reference: the same event rows inserted straight into SQLite (same schema, same
//!    pragmas, one process, transactions of 10 000 rows): the limit of this storage here.
//!
//! The ratio between the two is the figure that travels between machines.
//!
//! With `--tail N`, `--mcp-clients N` or `--mcp-stdio N` it measures instead what following the
//! traffic costs capture: rounds with those readers running beside the posting connections
//! alternate with rounds of capture alone (`overhead.rs`, the readers in `readers.rs`).

/// The allocator the server binary uses, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod overhead;
mod readers;
mod traffic;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use ingest_bench::{cpu_by_thread, cpu_seconds, cpu_spent};
use inspector_server::{BoundServer, ServerConfig};
use readers::{publish_instance, ReaderReport, ReaderSpec, Readers};
use serde_json::Value;
use traffic::{Request, Traffic};

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
    /// `identity-inspector tail --format json` processes reading beside the posting connections.
    #[arg(long, default_value_t = 0)]
    tail: usize,
    /// MCP agents over Streamable HTTP (`/mcp`) reading beside the posting connections.
    #[arg(long, default_value_t = 0)]
    mcp_clients: usize,
    /// MCP agents over stdio, each through its own `identity-inspector mcp` process.
    #[arg(long, default_value_t = 0)]
    mcp_stdio: usize,
    /// The `identity-inspector` binary for `--tail` and `--mcp-stdio` [default: the one next to
    /// this benchmark, `target/release/identity-inspector`].
    #[arg(long)]
    bin_path: Option<PathBuf>,
}

impl Opts {
    /// The readers asked for; the binary is checked here so a missing build fails at once.
    fn readers(&self) -> ReaderSpec {
        let bin = self.bin_path.clone().unwrap_or_else(|| {
            let me = std::env::current_exe().expect("own path");
            me.with_file_name(format!("identity-inspector{}", std::env::consts::EXE_SUFFIX))
        });
        let spec = ReaderSpec { tails: self.tail, mcp_http: self.mcp_clients, mcp_stdio: self.mcp_stdio, bin };
        let needs_bin = spec.tails + spec.mcp_stdio > 0;
        assert!(
            !needs_bin || spec.bin.is_file(),
            "{} not found: build it (cargo build --release -p identity-inspector) or pass --bin-path",
            spec.bin.display()
        );
        spec
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Vendor {
    Posthog,
    Segment,
    Mixpanel,
    Rudderstack,
    Kissmetrics,
}

impl Vendor {
    fn traffic(self) -> &'static dyn Traffic {
        match self {
            Vendor::Posthog => &traffic::posthog::Posthog,
            Vendor::Segment => &traffic::segment::Segment,
            Vendor::Mixpanel => &traffic::mixpanel::Mixpanel,
            Vendor::Rudderstack => &traffic::rudderstack::Rudderstack,
            Vendor::Kissmetrics => &traffic::kissmetrics::Kissmetrics,
        }
    }
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

pub(crate) struct HttpResult {
    elapsed: Duration,
    /// CPU seconds this process (server, load generator) used from the first request to the
    /// last 200, and the readers' processes (tails, `mcp` pipes) over the same time.
    cpu: f64,
    readers_cpu: f64,
    /// The same process's CPU by thread name (`lib.rs`, [`cpu_spent`]).
    threads_cpu: String,
    /// The largest the WAL file was seen during the burst (sampled every 50 ms), bytes.
    wal_peak: u64,
    latency: hdrhistogram::Histogram<u64>,
    stored: i64,
    /// With the identity model: how long after the last 200 it had applied every event.
    identity_lag: Duration,
    /// What the readers beside the posting connections did, if any ran.
    readers: Option<ReaderReport>,
}

/// How long the tails get after the last 200 to print every event.
const TAIL_PATIENCE: Duration = Duration::from_secs(60);

fn run_http(opts: &Opts, requests: Arc<Vec<Request>>, identity: bool, readers: Option<&ReaderSpec>) -> HttpResult {
    let dir = tempfile::tempdir().expect("temp dir");
    // The server gets its own runtime (as in the real binary); the load generator another.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .unwrap();
    let config = ServerConfig { bind: [127, 0, 0, 1].into(), port: 0, data_dir: dir.path().to_owned(), identity };
    let server = server_rt.block_on(BoundServer::bind(&config)).expect("bind");
    let url = server.url().to_owned();
    // `identity-inspector mcp` finds the server through the data dir, as it finds the app.
    let _published = readers
        .filter(|r| r.mcp_stdio > 0)
        .map(|_| publish_instance(dir.path(), &url, server.handle().control().token()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = server_rt.spawn(server.run_until(async move {
        let _ = stop_rx.await;
    }));

    let running = readers.map(|spec| Readers::start(spec, &url, dir.path()));
    let client_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name("load").enable_all().build().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = (cpu_seconds("self"), running.as_ref().map_or(0.0, Readers::cpu_seconds));
    let threads_before = cpu_by_thread();
    let wal_peak = WalPeak::watch(&dir.path().join(format!("{}-wal", event_store::DB_FILE)));
    let started = Instant::now();
    let latency = client_rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..opts.connections {
            let requests = requests.clone();
            let next = next.clone();
            let url = url.clone();
            let traffic = opts.vendor.traffic();
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                let mut hist = hdrhistogram::Histogram::<u64>::new(3).unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else { break };
                    let sent = Instant::now();
                    let mut builder = client.request(request.method.clone(), format!("{url}{}", request.target));
                    for (name, value) in &request.headers {
                        builder = builder.header(*name, value);
                    }
                    if !request.body.is_empty() {
                        builder = builder.body(request.body.clone());
                    }
                    let response = builder.send().await.expect("request");
                    let status = response.status();
                    let reply = response.bytes().await.expect("reply body");
                    assert_eq!(status, 200, "request {i} refused: {}", String::from_utf8_lossy(&reply));
                    assert!(traffic.accepts(&reply), "the SDK would not accept the reply to request {i}: {reply:?}");
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
    let cpu = cpu_seconds("self") - cpu_before.0;
    let readers_cpu = running.as_ref().map_or(0.0, Readers::cpu_seconds) - cpu_before.1;
    let threads_cpu = cpu_spent(&threads_before, &cpu_by_thread());
    let wal_peak = wal_peak.stop();
    let (stored, identity_lag) = client_rt.block_on(async {
        let done = Instant::now();
        loop {
            let health: Value = reqwest::get(format!("{url}/api/health")).await.unwrap().json().await.unwrap();
            let stored = health["totals"]["events"].as_i64().unwrap_or(-1);
            let applied = health["identity"]["applied_seq"].as_i64().unwrap_or(-1);
            if !identity || applied >= stored {
                break (stored, done.elapsed());
            }
            assert!(
                done.elapsed() < Duration::from_secs(120),
                "the identity model had applied {applied} of {stored} events 120 s after the last 200"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    if let (true, Some(expected)) = (identity, opts.vendor.traffic().expected_persons(opts.events)) {
        let persons: Value = client_rt
            .block_on(async { reqwest::get(format!("{url}/api/persons?limit=1")).await?.json().await })
            .expect("persons");
        assert_eq!(persons["total"].as_u64(), Some(expected as u64), "persons made of the traffic");
        eprintln!("identity model: {expected} persons, as the vendor's rules make of this traffic");
    }
    let readers = running.map(|r| r.stop(opts.events as u64, TAIL_PATIENCE));
    let _ = stop_tx.send(());
    server_rt.block_on(serving).unwrap().unwrap();
    HttpResult { elapsed, cpu, readers_cpu, threads_cpu, wal_peak, latency, stored, identity_lag, readers }
}

/// Samples a file's size on its own thread until stopped: how far the WAL grew during a burst
/// (it grows whenever the writer cannot start it again, e.g. while a reader holds a snapshot).
struct WalPeak {
    stop: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl WalPeak {
    fn watch(path: &std::path::Path) -> WalPeak {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (path, stopped) = (path.to_owned(), stop.clone());
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !stopped.load(Ordering::Relaxed) {
                peak = peak.max(std::fs::metadata(&path).map_or(0, |m| m.len()));
                std::thread::sleep(Duration::from_millis(50));
            }
            peak
        });
        WalPeak { stop, sampler }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap_or(0)
    }
}

/// The same rows, straight into the same schema: the storage's own limit on this machine.
fn run_raw_sqlite(rows: &[Value], batch: usize, traffic: &dyn Traffic) -> Duration {
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
                let row = traffic.row(e);
                let uuid = row.uuid.unwrap_or_else(|| uuid::Uuid::now_v7().to_string().into());
                ins.execute(rusqlite::params![
                    uuid,
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
    // As the server binary does: the figures are the server's.
    inspector_server::memory::small_pages();
    let opts = Opts::parse();
    let readers = opts.readers();
    let now = chrono::Utc::now();
    let traffic = opts.vendor.traffic();
    let per_request = traffic.events_per_request(opts.batch);
    eprintln!("generating {} events, {per_request} per request...", opts.events);
    let rows: Vec<Value> = (0..opts.events).map(|i| traffic.event(i, opts.events, now)).collect();
    let requests = traffic.requests(&rows, opts.batch, now);
    let raw_bytes: usize = rows.iter().map(|r| r.to_string().len()).sum();
    eprintln!("average event: {} bytes of JSON", raw_bytes / rows.len().max(1));

    let requests = Arc::new(requests);
    if readers.any() {
        return overhead::compare(&opts, &readers, requests);
    }
    let rate = |d: Duration| opts.events as f64 / d.as_secs_f64();
    let mut rounds = Vec::new();
    for round in 1..=opts.runs.max(1) {
        eprintln!("round {round}: capture only, {} connections posting to {} ...", opts.connections, traffic.path());
        let capture = run_http(&opts, requests.clone(), false, None);
        eprintln!("round {round}: capture + identity model ...");
        let full = run_http(&opts, requests.clone(), true, None);
        for r in [&capture, &full] {
            assert_eq!(r.stored, opts.events as i64, "every event answered 200 must be stored");
        }
        eprintln!("round {round}: raw SQLite reference ...");
        let raw = rate(run_raw_sqlite(&rows, per_request, traffic));
        let (c, f) = (rate(capture.elapsed), rate(full.elapsed));
        eprintln!(
            "round {round}: capture {c:.0}/s, with identity {f:.0}/s, raw {raw:.0}/s; WAL peak {:.0} and {:.0} MB",
            capture.wal_peak as f64 / 1e6,
            full.wal_peak as f64 / 1e6
        );
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
        opts.events,
        opts.vendor.traffic().events_per_request(opts.batch),
        opts.connections,
        opts.runs
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
