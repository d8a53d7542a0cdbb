//! The desktop app's settings, saved as `settings.json` in the data dir (so each data dir, like
//! each side-by-side test instance, has its own). Command-line flags override them for one run
//! (see `launch`); they are never written back.
//!
//! Invariants:
//! - Loading never fails the launch: a missing file means defaults; an unreadable or invalid one
//!   is kept aside as `settings.json.invalid` and replaced by defaults, with a notice.
//! - Saving is atomic (write a temporary file, then rename): a crash never leaves half a file.
//! - Unknown fields are ignored, so an older build can read a newer build's file.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use event_store::Retention;
use serde::{Deserialize, Serialize};

use crate::args::{DEFAULT_BIND, DEFAULT_PORT};

pub const FILE_NAME: &str = "settings.json";

/// Window sizes outside this range are ignored when restoring (a corrupt or foreign value).
const MIN_WINDOW: (f64, f64) = (480.0, 320.0);
const MAX_WINDOW: f64 = 16_384.0;
pub const DEFAULT_WINDOW: (f64, f64) = (1280.0, 820.0);

/// `system`, `light` or `dark`: the server's own type, so the page's toggle (`PUT
/// /api/control/theme`) and this file speak the same values.
pub use inspector_server::UiTheme as Theme;

/// The main window's last size and place, in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowGeometry {
    pub width: f64,
    pub height: f64,
    pub x: f64,
    pub y: f64,
    #[serde(default)]
    pub maximized: bool,
}

impl WindowGeometry {
    /// Whether the values are worth restoring.
    pub fn is_sane(&self) -> bool {
        let finite = [self.width, self.height, self.x, self.y].iter().all(|v| v.is_finite());
        finite
            && (MIN_WINDOW.0..=MAX_WINDOW).contains(&self.width)
            && (MIN_WINDOW.1..=MAX_WINDOW).contains(&self.height)
            && self.x.abs() <= MAX_WINDOW
            && self.y.abs() <= MAX_WINDOW
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub port: u16,
    pub bind: IpAddr,
    /// Must be true for a non-loopback `bind` to be used: the user insists.
    pub allow_network: bool,
    pub retention: Retention,
    pub theme: Theme,
    /// Closing the window hides it and capture goes on (quit from the tray or the menu).
    pub keep_running_in_tray: bool,
    pub window: Option<WindowGeometry>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            port: DEFAULT_PORT,
            bind: DEFAULT_BIND,
            allow_network: false,
            retention: Retention::default(),
            theme: Theme::System,
            keep_running_in_tray: false,
            window: None,
        }
    }
}

/// Retention choices the menus offer (the file may hold any other positive values).
pub const RETENTION_PRESETS: &[(&str, Retention)] = &[
    ("Keep everything", Retention { max_events: None, max_age_days: None }),
    ("Newest 100 000 events", Retention { max_events: Some(100_000), max_age_days: None }),
    ("Newest 1 000 000 events", Retention { max_events: Some(1_000_000), max_age_days: None }),
    ("Last 7 days", Retention { max_events: None, max_age_days: Some(7) }),
    ("Last 30 days", Retention { max_events: None, max_age_days: Some(30) }),
];

impl Settings {
    /// Repairs values that cannot be used, saying what was changed.
    pub fn sanitize(&mut self) -> Vec<String> {
        let mut fixed = Vec::new();
        if self.retention.max_events == Some(0) {
            self.retention.max_events = None;
            fixed.push("retention.max_events was 0 (would keep nothing); ignored".to_owned());
        }
        if self.retention.max_age_days == Some(0) {
            self.retention.max_age_days = None;
            fixed.push("retention.max_age_days was 0 (would keep nothing); ignored".to_owned());
        }
        if self.window.is_some_and(|w| !w.is_sane()) {
            self.window = None;
            fixed.push("the saved window size was out of range; using the default".to_owned());
        }
        fixed
    }
}

/// The settings file of one data dir, with what loading it found.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    pub settings: Settings,
    /// Problems found while loading (shown to the user as notices).
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot save settings to {path}: {source}")]
    Save { path: PathBuf, source: std::io::Error },
}

impl SettingsFile {
    pub fn load(data_dir: &Path) -> SettingsFile {
        let path = data_dir.join(FILE_NAME);
        let mut problems = Vec::new();
        let mut settings = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(e) => {
                problems.push(format!("could not read {}: {e}; using defaults", path.display()));
                Settings::default()
            }
            Ok(bytes) => match serde_json::from_slice::<Settings>(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    let aside = path.with_extension("json.invalid");
                    let _ = std::fs::rename(&path, &aside);
                    problems.push(format!(
                        "{} is not valid ({e}); it was moved to {} and defaults are used",
                        path.display(),
                        aside.display()
                    ));
                    Settings::default()
                }
            },
        };
        problems.extend(settings.sanitize());
        SettingsFile { path, settings, problems }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn save(&self) -> Result<(), SettingsError> {
        let err = |source| SettingsError::Save { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut text = serde_json::to_vec_pretty(&self.settings).expect("settings serialise");
        text.push(b'\n');
        let mut file = std::fs::File::create(&tmp).map_err(err)?;
        file.write_all(&text).and_then(|_| file.sync_all()).map_err(err)?;
        std::fs::rename(&tmp, &self.path).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_defaults_and_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::load(dir.path());
        assert_eq!(file.settings, Settings::default());
        assert!(file.settings.bind.is_loopback());
        assert_eq!(file.settings.port, 28120);
        assert!(file.problems.is_empty());
    }

    #[test]
    fn saved_settings_load_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = SettingsFile::load(&dir.path().join("nested"));
        file.settings.port = 3999;
        file.settings.theme = Theme::Dark;
        file.settings.keep_running_in_tray = true;
        file.settings.retention = Retention { max_events: Some(1000), max_age_days: Some(3) };
        file.settings.window = Some(WindowGeometry { width: 900.0, height: 700.0, x: 10.0, y: 20.0, maximized: false });
        file.save().unwrap();
        let again = SettingsFile::load(&dir.path().join("nested"));
        assert_eq!(again.settings, file.settings);
        assert!(!dir.path().join("nested/settings.json.tmp").exists(), "no temporary file left behind");
    }

    #[test]
    fn partial_files_fill_in_defaults_and_unknown_fields_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), r#"{"theme":"light","from_the_future":1}"#).unwrap();
        let file = SettingsFile::load(dir.path());
        assert_eq!(file.settings.theme, Theme::Light);
        assert_eq!(file.settings.port, 28120);
        assert!(file.problems.is_empty());
    }

    #[test]
    fn an_invalid_file_is_kept_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "{ not json").unwrap();
        let file = SettingsFile::load(dir.path());
        assert_eq!(file.settings, Settings::default());
        assert_eq!(file.problems.len(), 1, "{:?}", file.problems);
        assert!(dir.path().join("settings.json.invalid").exists());
        assert!(!dir.path().join(FILE_NAME).exists());
    }

    #[test]
    fn unusable_values_are_repaired_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            r#"{"retention":{"max_events":0,"max_age_days":0},"window":{"width":5,"height":5,"x":0,"y":0}}"#,
        )
        .unwrap();
        let file = SettingsFile::load(dir.path());
        assert_eq!(file.settings.retention, Retention::default());
        assert_eq!(file.settings.window, None);
        assert_eq!(file.problems.len(), 3, "{:?}", file.problems);
    }

    #[test]
    fn presets_are_valid_policies() {
        for (name, policy) in RETENTION_PRESETS {
            assert_ne!(policy.max_events, Some(0), "{name}");
            assert_ne!(policy.max_age_days, Some(0), "{name}");
        }
        assert!(RETENTION_PRESETS[0].1.keeps_everything());
    }
}
