//! `identity-inspector`: with no argument, the desktop window (when built with `desktop`);
//! `serve` runs the same server headless.

/// mimalloc rather than the system allocator: the identity model's thread frees what the
/// store-reading thread allocated, which glibc's malloc does slowly (rebuilding 1M events took
/// twice as long with it; see the README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use inspector_server::{BoundServer, ServerConfig};

/// Chosen because no common dev server uses it (Vite 5173, Next 3000, Django 8000, ...).
const DEFAULT_PORT: u16 = 28120;

#[derive(Parser)]
#[command(name = "identity-inspector", version, about = "See how analytics SDKs turn anonymous ids into persons, locally.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the capture server and UI headless (CI, containers, a browser tab).
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on. Loopback unless --allow-network is also given.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Where the database lives. Default: the platform's data directory for the app.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Allow --bind to a non-loopback address: anyone who can reach it can read captured data.
    #[arg(long)]
    allow_network: bool,
}

fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "IdentityInspector", "identity-inspector")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".identity-inspector"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(args),
        None => {
            eprintln!(
                "This build has no desktop window (it was built without the `desktop` feature).\n\
                 Run the server headless with:  identity-inspector serve"
            );
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    if !args.bind.is_loopback() && !args.allow_network {
        eprintln!(
            "error: --bind {} would expose captured analytics data to your network.\n\
             Add --allow-network if that is really what you want.",
            args.bind
        );
        return ExitCode::from(2);
    }
    let config = ServerConfig {
        bind: args.bind,
        port: args.port,
        data_dir: args.data_dir.unwrap_or_else(default_data_dir),
        identity: true,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: ServerConfig) -> Result<(), inspector_server::ServerError> {
    let server = BoundServer::bind(&config).await?;
    if !config.bind.is_loopback() {
        eprintln!(
            "WARNING: listening on {} — anyone on your network can send events to it and read them.",
            server.local_addr()
        );
    }
    // Scripts wait for this line; it carries the real port when --port 0 was given.
    println!("Identity Inspector listening on {} (data: {})", server.url(), config.data_dir.display());
    server.run_until(shutdown_signal()).await?;
    tracing::info!("stopped; all accepted requests are committed");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
