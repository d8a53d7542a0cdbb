//! Tauri's build step runs only for the desktop build: a headless build (`serve`) must compile on
//! a machine without webkit, and `tauri_build` is not even a dependency then.

fn main() {
    #[cfg(feature = "desktop")]
    {
        // The config lives at the repository root (see README, Desktop); paths inside it resolve
        // against that folder.
        let attributes = tauri_build::Attributes::new().config_path("../tauri.conf.json");
        if let Err(e) = tauri_build::try_build(attributes) {
            panic!("tauri build step failed: {e:#}");
        }
        println!("cargo:rerun-if-changed=../tauri.conf.json");
        println!("cargo:rerun-if-changed=shell-page");
    }
}
