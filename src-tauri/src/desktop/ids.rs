//! The ids of the menu bar's and the tray's items, shared by the code that builds the menus
//! (`menu`, `tray`) and the code that carries them out (`actions`), so neither depends on the other.

use crate::settings::Theme;

pub const QUIT: &str = "quit";
pub const OPEN_WINDOW: &str = "open-window";
pub const COPY_URL: &str = "copy-url";
pub const OPEN_DATA_FOLDER: &str = "open-data-folder";
pub const CLEAR_DATA: &str = "clear-data";
pub const EXPORT: &str = "export";
pub const IMPORT: &str = "import";
pub const PAUSE: &str = "pause";
pub const KEEP_IN_TRAY: &str = "keep-in-tray";
pub const RELOAD: &str = "reload";
pub const OPEN_IN_BROWSER: &str = "open-in-browser";
pub const EDIT_SETTINGS: &str = "edit-settings";
pub const ABOUT: &str = "about";
pub const THEME_PREFIX: &str = "theme:";
pub const RETENTION_PREFIX: &str = "retention:";

pub const THEMES: [(Theme, &str); 3] = [(Theme::System, "System"), (Theme::Light, "Light"), (Theme::Dark, "Dark")];

pub fn theme_id(theme: Theme) -> String {
    format!("{THEME_PREFIX}{}", theme.as_str())
}
