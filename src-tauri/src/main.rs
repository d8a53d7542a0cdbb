//! `identity-inspector`: with no argument, the desktop window (when built with `desktop`);
//! `serve` runs the same server headless. Both take the same `--port`, `--bind`, `--data-dir`
//! and `--allow-network` flags (`args.rs`). `mcp` serves the inspector's tools to a coding agent
//! over stdio (`mcp.rs`), for a `--data-dir`. The other subcommands are in `cli/`: moving data
//! in and out of a data dir (`export`, `import`, `replay`), and reading a running inspector
//! (`tail`, `persons`, `devices`, `warnings`, `why`).

/// mimalloc rather than the system allocator: the identity model's thread frees what the
/// store-reading thread allocated, which glibc's malloc does slowly (rebuilding 1M events took
/// twice as long with it; see docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod cli;
#[cfg(feature = "desktop")]
mod desktop;
// Used by the desktop shell only, but display-free and unit-tested in every build.
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
mod embedded;
// `serve` uses the lock and `mcp` reads it; waking a running window is the desktop's.
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
mod instance;
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
mod launch;
mod mcp;
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
mod port;
#[cfg_attr(not(feature = "desktop"), allow(dead_code))]
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use inspector_server::{BoundServer, ServerConfig};

use args::{network_refusal, ServerArgs, DEFAULT_BIND, DEFAULT_PORT};

#[derive(Parser)]
#[command(
    name = "identity-inspector",
    version,
    about = "See how analytics SDKs turn anonymous ids into persons, locally."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The desktop window's flags; also accepted before a subcommand that takes them.
    #[command(flatten)]
    server: ServerArgs,
    /// Test only: the window's page reports what it shows to /api/test/probe (desktop smoke test).
    #[arg(long, hide = true)]
    test_probe: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the capture server and UI headless (CI, containers, a browser tab).
    Serve(ServeCommand),
    /// Serve the inspector's tools to a coding agent over stdio (MCP): forwarded to the inspector
    /// running for the data dir, or over the data dir read-only when none runs.
    Mcp(args::DataDirArg),
    #[command(flatten)]
    Transfer(cli::Transfer),
    #[command(flatten)]
    Query(cli::Query),
    /// Check the running inspector's identity model against an expectations file (CI): exit 0
    /// when every expectation holds, 1 when one does not (with a readable diff), 2 when the
    /// check cannot run.
    Check(cli::CheckArgs),
}

/// `serve`'s flags: the server's address and data dir, and its own options.
#[derive(clap::Args)]
struct ServeCommand {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    options: cli::ServeOptions,
}

fn main() -> ExitCode {
    inspector_server::memory::small_pages();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(ServeCommand { server, options })) => serve(server.or(cli.server), options),
        Some(Command::Mcp(dir)) => mcp::run(dir.or(cli.server.data_dir)),
        Some(Command::Transfer(command)) => cli::run(command, cli.server.data_dir),
        Some(Command::Query(command)) => cli::query(command, cli.server.data_dir),
        Some(Command::Check(args)) => cli::check(args, cli.server.data_dir),
        None => desktop(cli.server, cli.test_probe),
    }
}

#[cfg(feature = "desktop")]
fn desktop(args: ServerArgs, test_probe: bool) -> ExitCode {
    desktop::run(args, test_probe)
}

#[cfg(not(feature = "desktop"))]
fn desktop(_args: ServerArgs, _test_probe: bool) -> ExitCode {
    eprintln!(
        "This build has no desktop window (it was built without the `desktop` feature).\n\
         Run the server headless with:  identity-inspector serve\n\
         or build the desktop app with:  cargo build --release --features desktop"
    );
    ExitCode::from(2)
}

fn serve(args: ServerArgs, options: cli::ServeOptions) -> ExitCode {
    let bind = args.bind.unwrap_or(DEFAULT_BIND);
    if !bind.is_loopback() && !args.allow_network {
        eprintln!("error: {}", network_refusal(bind));
        return ExitCode::from(2);
    }
    // A rule that cannot be is said before anything starts.
    for rule in &options.faults {
        if let Err(e) = inspector_server::faults::parse(rule) {
            eprintln!("error: --fault {rule:?}: {e}");
            return ExitCode::from(2);
        }
    }
    let config =
        ServerConfig { bind, port: args.port.unwrap_or(DEFAULT_PORT), data_dir: args.data_dir(), identity: true };
    // One inspector per data dir, as for the desktop app: two servers writing one store would
    // each show what the other has deleted.
    let lock = match instance::acquire(&config.data_dir) {
        Ok(instance::Acquired::First(lock)) => lock,
        Ok(instance::Acquired::Running(running)) => {
            let whom = match running {
                Some(info) => format!("pid {}, {}", info.pid, info.url),
                None => "it is still starting".to_owned(),
            };
            eprintln!(
                "error: another Identity Inspector is already running for {} ({whom}); \
                 stop it or pass another --data-dir",
                config.data_dir.display()
            );
            return ExitCode::from(3);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, options, lock)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why `serve` stopped or could not start.
#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error(transparent)]
    Server(#[from] inspector_server::ServerError),
    #[error(transparent)]
    Forward(#[from] inspector_server::ForwardError),
}

/// `lock` is held until the server has stopped.
async fn run(
    config: ServerConfig,
    options: cli::ServeOptions,
    mut lock: instance::InstanceLock,
) -> Result<(), ServeError> {
    let mut server = BoundServer::bind(&config).await?;
    if let Err(e) = lock.publish(server.url(), server.handle().control().token()) {
        tracing::warn!("a second launch will not find this one: {e}");
    }
    if let Some(target) = &options.forward {
        server.forward_to(target)?;
        eprintln!("Forwarding every accepted capture request to {target} (status: /api/forward)");
    }
    for rule in &options.faults {
        // Checked before the server started: only a bug makes this fail.
        match inspector_server::faults::add_text(server.handle().faults(), rule) {
            Ok(view) => eprintln!("Fault rule #{} in force: {} ({})", view.id, view.description, view.text),
            Err(e) => eprintln!("error: --fault {rule:?}: {e}"),
        }
    }
    if !config.bind.is_loopback() {
        eprintln!(
            "WARNING: listening on {} — anyone on your network can send events to it and read them.",
            server.local_addr()
        );
    }
    keep_theme_in_settings(&server.handle(), config.data_dir.clone());
    // Scripts wait for this line; it carries the real port when --port 0 was given.
    println!("Identity Inspector listening on {} (data: {})", server.url(), config.data_dir.display());
    server.run_until(shutdown_signal()).await?;
    tracing::info!("stopped; all accepted requests are committed");
    drop(lock);
    Ok(())
}

/// `serve` shares the desktop's settings file for one thing, the UI's theme: the page starts in
/// the saved one, and its toggle is written back (the file is re-read first so that the other
/// fields stay as they are).
fn keep_theme_in_settings(server: &inspector_server::ServerHandle, data_dir: std::path::PathBuf) {
    let control = server.control();
    control.set_theme(settings::SettingsFile::load(&data_dir).settings.theme);
    let mut themes = control.watch_theme();
    tokio::spawn(async move {
        while themes.changed().await.is_ok() {
            let theme = *themes.borrow_and_update();
            let mut file = settings::SettingsFile::load(&data_dir);
            file.settings.theme = theme;
            if let Err(e) = file.save() {
                tracing::warn!("the theme is not saved: {e}");
            }
        }
    });
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("identity-inspector").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The invocations the README, run.sh and the e2e tests use keep working, flags before the
    /// subcommand included (they were global before each subcommand had its own).
    #[test]
    fn existing_invocations_still_parse() {
        let Some(Command::Serve(ServeCommand { server, .. })) =
            parse(&["serve", "--port", "0", "--data-dir", "/d"]).unwrap().command
        else {
            panic!("serve")
        };
        assert_eq!((server.port, server.data_dir.as_deref()), (Some(0), Some(std::path::Path::new("/d"))));

        let cli = parse(&["--port", "9000", "--data-dir", "/d", "serve", "--port", "9001"]).unwrap();
        let Some(Command::Serve(ServeCommand { server, .. })) = cli.command else { panic!("serve") };
        let merged = server.or(cli.server);
        assert_eq!(merged.port, Some(9001), "the subcommand's own flag wins");
        assert_eq!(merged.data_dir.as_deref(), Some(std::path::Path::new("/d")), "the one before fills in");

        for args in [
            &["--data-dir", "/d"][..],
            &["--port", "28121"],
            &["export", "--data-dir", "/d", "--format", "csv", "--out", "-"],
            &["--data-dir", "/d", "export", "--format", "csv", "--out", "-"],
            &["import", "--data-dir", "/d", "file.har", "--name", "n"],
            &["replay", "bundle.json", "--to", "http://127.0.0.1:9"],
            &["mcp", "--data-dir", "/d"],
            &["--data-dir", "/d", "mcp"],
        ] {
            parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }

    #[test]
    fn the_queries_take_a_data_dir_or_a_url() {
        parse(&["tail", "--data-dir", "/d", "--project", "phc", "--format", "logfmt"]).unwrap();
        parse(&["--data-dir", "/d", "persons", "--json"]).unwrap();
        parse(&["why", "anon-1", "user-1", "--url", "http://127.0.0.1:28120", "--project", "phc"]).unwrap();
        let both = parse(&["warnings", "--data-dir", "/d", "--url", "http://127.0.0.1:1"]).err().expect("refused");
        assert_eq!(both.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn a_subcommand_takes_and_shows_only_its_own_flags() {
        let err = parse(&["export", "--port", "1", "--format", "csv", "--out", "-"]).err().expect("refused");
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
        let mut cli = Cli::command();
        let server_flags = &["--port", "--bind", "--allow-network"][..];
        for (name, absent) in [
            ("export", server_flags),
            ("replay", &["--data-dir"]),
            ("tail", server_flags),
            ("persons", server_flags),
            ("why", server_flags),
            ("mcp", server_flags),
        ] {
            let help = cli.find_subcommand_mut(name).expect(name).render_long_help().to_string();
            for flag in absent {
                assert!(!help.contains(flag), "`{name} --help` lists {flag}:\n{help}");
            }
        }
    }
}
