//! Flags shared by `serve` and the desktop mode, and the `--data-dir` of the commands that
//! work on a data dir. The server flags are `Option`s so the desktop can tell "not given" (use
//! the saved setting) from "given" (overrides it); `serve` fills in the defaults.
//!
//! Each subcommand declares the flags it takes, so its `--help` lists only those. The desktop
//! mode's flags (no subcommand) stay accepted before a subcommand too (`--port 9000 serve`,
//! `--data-dir DIR export ...`, as when they were global): the subcommand's own value wins,
//! the one before it fills in (`ServerArgs::or`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::Args;

/// Chosen because no common dev server uses it (Vite 5173, Next 3000, Django 8000, ...).
pub const DEFAULT_PORT: u16 = 28120;
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1]. Loopback unless --allow-network is also given.
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Port to listen on [default: 28120]; 0 picks a free one.
    #[arg(long)]
    pub port: Option<u16>,
    /// Where the database (and the desktop's settings) live. Default: the platform's data
    /// directory for the app.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Allow --bind to a non-loopback address: anyone who can reach it can read captured data.
    #[arg(long)]
    pub allow_network: bool,
}

pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "IdentityInspector", "identity-inspector")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".identity-inspector"))
}

impl ServerArgs {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// These flags, each one not given taken from `before` (the same flags given before the
    /// subcommand).
    pub fn or(self, before: ServerArgs) -> ServerArgs {
        ServerArgs {
            bind: self.bind.or(before.bind),
            port: self.port.or(before.port),
            data_dir: self.data_dir.or(before.data_dir),
            allow_network: self.allow_network || before.allow_network,
        }
    }
}

/// `--data-dir` of a command that reads or writes a data dir without serving it.
#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct DataDirArg {
    /// The data dir [default: the platform's data directory for the app, as for `serve`].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArg {
    /// The data dir: this flag, else the one given before the subcommand, else the default.
    pub fn or(self, before: Option<PathBuf>) -> PathBuf {
        self.data_dir.or(before).unwrap_or_else(default_data_dir)
    }
}

/// The refusal for a non-loopback address without `--allow-network`, worded for the terminal.
pub fn network_refusal(bind: IpAddr) -> String {
    format!(
        "--bind {bind} would expose captured analytics data to your network.\n\
         Add --allow-network if that is really what you want."
    )
}
