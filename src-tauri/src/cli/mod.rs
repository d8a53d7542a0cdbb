//! The subcommands besides `serve`, each printing a clear message and exiting non-zero on failure:
//! - `export`, `import` and `replay` move captured traffic in and out of a data dir; long work
//!   shows a progress bar on a terminal (stderr), and nothing when stderr is not one (CI logs).
//! - `check --expect FILE` (`check.rs`) asserts what the identity model made of a test's traffic,
//!   for CI: exit code 0, 1 or 2, a readable diff, a JUnit report.
//! - `tail` (`tail/`), `persons`, `devices`, `warnings` and `why` (`query.rs`) read the
//!   inspector running for a data dir (`attach.rs`) through its `/api`, for a terminal (`style.rs`)
//!   or, with `--json`/`--format`, for scripts.

mod attach;
mod check;
mod export;
mod import;
mod progress;
mod query;
mod replay;
mod style;
mod tail;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

pub use check::{run as check, CheckArgs};

#[derive(Subcommand)]
pub enum Transfer {
    /// Export captured traffic: one session, device or person, a project, a time range, or all.
    Export(export::ExportArgs),
    /// Import a bundle, a HAR (e.g. saved from browser devtools) or NDJSON events into a new,
    /// separate data set. The format is detected from the content.
    Import(import::ImportArgs),
    /// Send the events of a file to any capture endpoint (another inspector, a PostHog project).
    Replay(replay::ReplayArgs),
}

/// `serve --fault`'s long help: the rule syntax, with examples.
const FAULT_HELP: &str = "Answer some capture requests like a failing vendor, from the start (repeatable; \
rules are also set with POST /api/faults, listed by GET /api/faults and shown in the UI). A rule is key=value \
items separated by ',' or ':':
  source=posthog|segment|rudderstack|mixpanel|kissmetrics  (or just the name)
  route=/batch        a path prefix, whole segments (a rule without one faults capture routes only)
  project=KEY         only this project key
  status=413|429|500|502|503  (or just the number)   retry_after=SECONDS (with 429 or 503)
  drop                close the connection without an answer
  v1_retry            Capture V1: 200 with every event's result `retry`
  delay_ms=N          wait first (alone: a slow but normal answer)
  count=N             fault the next N matching requests, then expire
  share=0.5           fault this fraction of them (evenly spread: every 2nd)
Examples:
  --fault posthog:503:count=3
  --fault route=/batch,status=429,retry_after=2,share=0.5
  --fault segment:drop:count=1
  --fault posthog:delay_ms=2000";

/// Reading the running inspector.
#[derive(Subcommand)]
pub enum Query {
    /// Follow the running inspector's traffic: one line per event with its person and the merge
    /// or refusal it made, findings and refused requests inline.
    Tail(tail::TailArgs),
    /// The persons of the running inspector's identity model, as the Persons view lists them.
    Persons(query::PersonsArgs),
    /// The device lanes (each device's ids in order), most recently active first.
    Devices(query::DevicesArgs),
    /// The findings: identity mistakes in the traffic, what the vendor will do, how to fix them.
    Warnings(query::WarningsArgs),
    /// Why two distinct ids are one person (the decisions that joined them), or not.
    Why(query::WhyArgs),
}

/// Runs a query command; `before` is a `--data-dir` given before the subcommand.
pub fn query(command: Query, before: Option<PathBuf>) -> ExitCode {
    let result = match command {
        Query::Tail(args) => tail::run(args, before),
        Query::Persons(args) => query::persons(args, before),
        Query::Devices(args) => query::devices(args, before),
        Query::Warnings(args) => query::warnings(args, before),
        Query::Why(args) => query::why(args, before),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `serve` options beyond the server's address and data dir.
#[derive(clap::Args, Default)]
pub struct ServeOptions {
    /// Also pass every accepted capture request on to this vendor host (e.g.
    /// https://us.i.posthog.com), in the background; failures show in /api/forward.
    #[arg(long, value_name = "URL")]
    pub forward: Option<String>,
    /// Answer some capture requests like a failing vendor (repeatable), e.g. posthog:503:count=3
    /// or route=/batch,status=429,retry_after=2,share=0.5; see --help.
    #[arg(long = "fault", value_name = "RULE", long_help = FAULT_HELP)]
    pub faults: Vec<String>,
}

/// Runs a transfer command; `before` is a `--data-dir` given before the subcommand.
pub fn run(command: Transfer, before: Option<PathBuf>) -> ExitCode {
    let result = match command {
        Transfer::Export(args) => {
            let data_dir = args.dir.clone().or(before);
            export::run(args, data_dir)
        }
        Transfer::Import(args) => {
            let data_dir = args.dir.clone().or(before);
            import::run(args, data_dir)
        }
        Transfer::Replay(args) => replay::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the store of an existing data dir (export, import never create one by mistake).
fn open_store(data_dir: &std::path::Path, create: bool) -> Result<event_store::Store, String> {
    if !create && !data_dir.join(event_store::DB_FILE).is_file() {
        return Err(format!("no Identity Inspector database in {} (pass --data-dir)", data_dir.display()));
    }
    event_store::Store::open(data_dir).map_err(|e| e.to_string())
}
