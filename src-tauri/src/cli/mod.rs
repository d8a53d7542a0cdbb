//! The subcommands besides `serve`, each printing a clear message and exiting non-zero on failure:
//! - `export`, `import` and `replay` move captured traffic in and out of a data dir; long work
//!   shows a progress bar on a terminal (stderr), and nothing when stderr is not one (CI logs).
//! - `tail` (`tail.rs`), `persons`, `devices`, `warnings` and `why` (`query.rs`) read the
//!   inspector running for a data dir (`attach.rs`) through its `/api`, for a terminal (`style.rs`)
//!   or, with `--json`/`--format`, for scripts.

mod attach;
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
