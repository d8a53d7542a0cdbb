//! `identity-inspector export --data-dir DIR [--project TOKEN] [--session ID | --device ID |
//! --person ID] [--from T --to T] --format bundle|ndjson|har|csv --out FILE`

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use transfer::{export_with, parse_time, ExportFormat, Scope, Secrets};

use super::progress::Bar;

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Inspector bundle: raw requests as received, rebuilds everything on import.
    Bundle,
    /// One event per line in PostHog's capture format (ready for /batch).
    Ndjson,
    /// HAR 1.2 of the raw HTTP requests (browser devtools, HTTP Toolkit).
    Har,
    /// Events for spreadsheets.
    Csv,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub(super) dir: crate::args::DataDirArg,
    /// Only this project (its token; `import:<name>/<token>` for imported data).
    #[arg(long)]
    project: Option<String>,
    /// Only this imported data set (`import:<name>`); default: live traffic.
    #[arg(long)]
    dataset: Option<String>,
    /// One session (`$session_id`).
    #[arg(long, group = "subject")]
    session: Option<String>,
    /// One device: a `$device_id`, or a lane id from the devices view.
    #[arg(long, group = "subject")]
    device: Option<String>,
    /// One person, by person id or any of its distinct ids: all its distinct ids are exported.
    #[arg(long, group = "subject")]
    person: Option<String>,
    /// Arrival time from (inclusive): RFC 3339, a date (YYYY-MM-DD) or unix milliseconds.
    #[arg(long)]
    from: Option<String>,
    /// Arrival time to (exclusive), same forms as --from.
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum)]
    format: FormatArg,
    /// Where to write; `-` for standard output.
    #[arg(long)]
    out: PathBuf,
    /// Base URL written into HAR request URLs when a request has no Host header.
    #[arg(long, default_value = "http://127.0.0.1:28120")]
    base_url: String,
    /// Write Cookie, Authorization and other secret headers as received (by default they are
    /// redacted, so that the file is safe to share).
    #[arg(long)]
    keep_secrets: bool,
}

pub fn run(args: ExportArgs, data_dir: PathBuf) -> Result<(), String> {
    let store = super::open_store(&data_dir, false)?;
    let time = |t: &Option<String>| t.as_deref().map(parse_time).transpose().map_err(|e| e.to_string());
    let mut scope = Scope {
        project: args.project.clone(),
        dataset: args.dataset.clone(),
        session: args.session.clone(),
        device: None,
        person_distinct_ids: Vec::new(),
        from: time(&args.from)?,
        to: time(&args.to)?,
    };
    if args.person.is_some() || args.device.is_some() {
        // Persons and lanes exist only in the identity model: rebuild it as the server would.
        let model = ingest::rebuild_model(&store).map_err(|e| e.to_string())?;
        if let Some(person) = &args.person {
            scope.person_distinct_ids =
                ingest::person_distinct_ids(&model, args.project.as_deref(), person).map_err(|e| e.to_string())?;
        }
        if let Some(device) = &args.device {
            let (device_id, ids) = ingest::device_scope(&model, device);
            scope.device = device_id;
            scope.person_distinct_ids = ids;
        }
    }
    let selection = scope.selection().map_err(|e| e.to_string())?;
    let format = match args.format {
        FormatArg::Bundle => ExportFormat::Bundle,
        FormatArg::Ndjson => ExportFormat::Ndjson,
        FormatArg::Har => ExportFormat::Har,
        FormatArg::Csv => ExportFormat::Csv,
    };
    let secrets = if args.keep_secrets { Secrets::Keep } else { Secrets::Redact };
    let bar = Bar::new("exporting");
    let summary = if args.out.as_os_str() == "-" {
        export_with(&store, &selection, format, std::io::stdout().lock(), &args.base_url, &bar, secrets)
    } else {
        // Written next to the target and renamed at the end: a failed export leaves no half file.
        let dir = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        let tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
        let summary = export_with(&store, &selection, format, tmp.as_file(), &args.base_url, &bar, secrets);
        if summary.is_ok() {
            tmp.persist(&args.out).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
        }
        summary
    }
    .map_err(|e| e.to_string())?;
    let what = if format.holds_requests() {
        format!("{} requests ({} events)", summary.requests, summary.events)
    } else {
        format!("{} events", summary.events)
    };
    eprintln!("exported {what} as {} to {}", format.as_str(), args.out.display());
    Ok(())
}
