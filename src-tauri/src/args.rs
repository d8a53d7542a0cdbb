//! Flags shared by `serve` and the desktop mode. They are `Option`s so the desktop can tell "not
//! given" (use the saved setting) from "given" (overrides it); `serve` fills in the defaults.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::Args;

/// Chosen because no common dev server uses it (Vite 5173, Next 3000, Django 8000, ...).
pub const DEFAULT_PORT: u16 = 28120;
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[derive(Args, Debug, Clone, Default, PartialEq)]
pub struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1]. Loopback unless --allow-network is also given.
    #[arg(long, global = true)]
    pub bind: Option<IpAddr>,
    /// Port to listen on [default: 28120]; 0 picks a free one.
    #[arg(long, global = true)]
    pub port: Option<u16>,
    /// Where the database (and the desktop's settings) live. Default: the platform's data
    /// directory for the app.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Allow --bind to a non-loopback address: anyone who can reach it can read captured data.
    #[arg(long, global = true)]
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
}

/// The refusal for a non-loopback address without `--allow-network`, worded for the terminal.
pub fn network_refusal(bind: IpAddr) -> String {
    format!(
        "--bind {bind} would expose captured analytics data to your network.\n\
         Add --allow-network if that is really what you want."
    )
}
