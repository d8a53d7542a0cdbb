//! What one desktop run uses: command-line flags first, then the saved settings, then defaults.
//! Pure (no I/O), so every precedence rule is unit-tested.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::args::{network_refusal, ServerArgs, DEFAULT_BIND};
use crate::settings::Settings;

#[derive(Debug, Clone, PartialEq)]
pub struct LaunchPlan {
    pub data_dir: PathBuf,
    pub bind: IpAddr,
    /// The port to try first; when it is taken the desktop picks a free one (see `port`).
    pub port: u16,
    /// Warnings for the user about this run's address (shown as notices in the UI).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LaunchError {
    /// A non-loopback `--bind` without `--allow-network`: refused as `serve` does.
    #[error("{0}")]
    NetworkNotAllowed(String),
}

impl LaunchPlan {
    pub fn resolve(args: &ServerArgs, data_dir: PathBuf, settings: &Settings) -> Result<LaunchPlan, LaunchError> {
        let mut warnings = Vec::new();
        let port = args.port.unwrap_or(settings.port);
        let bind = match args.bind {
            Some(bind) if !bind.is_loopback() && !args.allow_network => {
                return Err(LaunchError::NetworkNotAllowed(network_refusal(bind)));
            }
            Some(bind) => bind,
            // A saved non-loopback address counts only if the settings also say the user insists.
            None if !(settings.bind.is_loopback() || settings.allow_network || args.allow_network) => {
                warnings.push(format!(
                    "Settings ask to listen on {} but allow_network is off, so the inspector listens on {} only.",
                    settings.bind, DEFAULT_BIND
                ));
                DEFAULT_BIND
            }
            None => settings.bind,
        };
        if !bind.is_loopback() {
            warnings.push(format!(
                "Listening on {bind}: anyone on your network can send events to this inspector and read everything it captured."
            ));
        }
        Ok(LaunchPlan { data_dir, bind, port, warnings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServerArgs {
        ServerArgs::default()
    }

    fn dir() -> PathBuf {
        PathBuf::from("/data")
    }

    #[test]
    fn defaults_are_loopback_on_the_default_port() {
        let plan = LaunchPlan::resolve(&args(), dir(), &Settings::default()).unwrap();
        assert_eq!((plan.bind, plan.port), (DEFAULT_BIND, 28120));
        assert!(plan.warnings.is_empty());
        assert_eq!(plan.data_dir, dir());
    }

    #[test]
    fn flags_override_saved_settings() {
        let settings = Settings { port: 4000, ..Settings::default() };
        assert_eq!(LaunchPlan::resolve(&args(), dir(), &settings).unwrap().port, 4000);
        let flagged = ServerArgs { port: Some(0), bind: Some("::1".parse().unwrap()), ..args() };
        let plan = LaunchPlan::resolve(&flagged, dir(), &settings).unwrap();
        assert_eq!((plan.bind, plan.port), ("::1".parse().unwrap(), 0));
    }

    #[test]
    fn a_network_flag_without_allow_network_is_refused_like_serve() {
        let flagged = ServerArgs { bind: Some("0.0.0.0".parse().unwrap()), ..args() };
        let err = LaunchPlan::resolve(&flagged, dir(), &Settings::default()).unwrap_err();
        assert!(err.to_string().contains("--allow-network"));
        let allowed = ServerArgs { allow_network: true, ..flagged };
        let plan = LaunchPlan::resolve(&allowed, dir(), &Settings::default()).unwrap();
        assert_eq!(plan.bind.to_string(), "0.0.0.0");
        assert_eq!(plan.warnings.len(), 1, "exposure is warned about");
    }

    #[test]
    fn a_saved_network_address_needs_the_saved_insistence() {
        let settings = Settings { bind: "0.0.0.0".parse().unwrap(), ..Settings::default() };
        let plan = LaunchPlan::resolve(&args(), dir(), &settings).unwrap();
        assert_eq!(plan.bind, DEFAULT_BIND, "falls back to loopback");
        assert!(plan.warnings[0].contains("allow_network is off"));

        let insisted = Settings { allow_network: true, ..settings };
        let plan = LaunchPlan::resolve(&args(), dir(), &insisted).unwrap();
        assert_eq!(plan.bind.to_string(), "0.0.0.0");
        assert!(plan.warnings[0].contains("anyone on your network"));
    }

    #[test]
    fn a_loopback_flag_beats_a_saved_network_address_without_warnings() {
        let settings = Settings { bind: "0.0.0.0".parse().unwrap(), allow_network: true, ..Settings::default() };
        let flagged = ServerArgs { bind: Some(DEFAULT_BIND), ..args() };
        let plan = LaunchPlan::resolve(&flagged, dir(), &settings).unwrap();
        assert_eq!(plan.bind, DEFAULT_BIND);
        assert!(plan.warnings.is_empty());
    }
}
