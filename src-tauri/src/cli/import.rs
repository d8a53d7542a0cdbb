//! `identity-inspector import --data-dir DIR FILE [--name NAME]`

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use transfer::{import_file, ImportOptions};

use super::progress::Bar;

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub(super) dir: crate::args::DataDirArg,
    /// A bundle, a HAR or NDJSON events (gzip'd or not); the format is read from the content.
    /// A FIFO works too, and `-` (or `/dev/stdin`) reads standard input.
    file: PathBuf,
    /// The data set to create (`import:<name>`); default: from the file name.
    #[arg(long)]
    name: Option<String>,
}

pub fn run(args: ImportArgs, data_dir: PathBuf) -> Result<(), String> {
    let file = if args.file.as_os_str() == "-" { PathBuf::from("/dev/stdin") } else { args.file };
    let store = super::open_store(&data_dir, true)?;
    let options = ImportOptions { name: args.name, source_name: None, progress: Arc::new(Bar::new("importing")) };
    let summary =
        import_file(&store, &file, options).map_err(|e| format!("{}: {e} (nothing was imported)", file.display()))?;
    // Close to checkpoint the WAL before exiting.
    tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?.block_on(store.close());
    eprintln!(
        "imported {} requests and {} events into data set {} (projects {}/<token>)",
        summary.requests, summary.events, summary.dataset, summary.dataset
    );
    println!("{}", summary.dataset);
    Ok(())
}
