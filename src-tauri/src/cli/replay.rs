//! `identity-inspector replay FILE --to URL [--token NEW] [--rate N]`

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use transfer::{replay_file, ReplayOptions};

use super::progress::Bar;

#[derive(Args)]
pub struct ReplayArgs {
    /// A bundle, a HAR or NDJSON events.
    file: PathBuf,
    /// The receiver: another inspector (http://127.0.0.1:28121) or a PostHog host
    /// (https://us.i.posthog.com).
    #[arg(long)]
    to: String,
    /// Send under this project token instead of the original one.
    #[arg(long)]
    token: Option<String>,
    /// At most N requests per second (default: as fast as the receiver answers).
    #[arg(long)]
    rate: Option<f64>,
}

pub fn run(args: ReplayArgs) -> Result<(), String> {
    let options = ReplayOptions {
        to: args.to.clone(),
        token: args.token,
        rate: args.rate,
        progress: Arc::new(Bar::new("replaying")),
    };
    let summary = replay_file(&args.file, options).map_err(|e| format!("{}: {e}", args.file.display()))?;
    eprintln!("replayed {} events in {} requests to {}", summary.events, summary.requests, args.to);
    Ok(())
}
