//! Builds the Svelte UI (`ui/` at the repository root) into `ui/dist`, which `src/ui.rs` embeds in
//! the binary. Runs `npm ci` only when `ui/node_modules` is missing or older than the lockfile,
//! and `npm run build` only when `ui/dist` is missing or older than a UI source file, so a Rust-only
//! change never rebuilds the UI.
//!
//! `INSPECTOR_SKIP_UI_BUILD=1` skips all of this (the binary then serves whatever `ui/dist` holds,
//! or a page saying the UI was not built): for Rust-only work on a machine without Node.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// What the build reads, relative to `ui/`: a change to any of them rebuilds the UI.
const INPUTS: &[&str] =
    &["src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "svelte.config.js", "tsconfig.json"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let ui = manifest.join("../../../ui");
    let ui = ui.canonicalize().unwrap_or(ui);
    let dist = ui.join("dist");
    println!("cargo:rerun-if-env-changed=INSPECTOR_SKIP_UI_BUILD");
    for input in INPUTS {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    // Missing (deleted, or never built) also reruns this script.
    println!("cargo:rerun-if-changed={}", dist.join("index.html").display());

    if std::env::var_os("INSPECTOR_SKIP_UI_BUILD").is_some_and(|v| v != "0" && !v.is_empty()) {
        std::fs::create_dir_all(&dist).expect("create ui/dist");
        return;
    }
    if !ui.join("package.json").exists() {
        panic!("the UI sources are missing: expected {}", ui.join("package.json").display());
    }
    let built = modified(&dist.join("index.html"));
    let newest_input = INPUTS.iter().filter_map(|i| newest(&ui.join(i))).max();
    if built.is_some() && built >= newest_input {
        return;
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        panic!(
            "\n\nbuilding the inspector's UI needs Node.js (20.19 or newer) and npm, and `npm` is not on PATH.\n\
             Debian: `apt-get install nodejs npm`, or install Node from nodejs.org.\n\
             (Set INSPECTOR_SKIP_UI_BUILD=1 to build the server without its UI.)\n"
        );
    }
    let installed = modified(&ui.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < modified(&ui.join("package-lock.json")) {
        run(&ui, npm, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    }
    run(&ui, npm, &["run", "build"]);
    if !dist.join("index.html").exists() {
        panic!("`npm run build` in {} produced no dist/index.html", ui.display());
    }
}

/// Runs npm in `ui/` with its output on stderr (stdout is cargo's channel): cargo shows it if the
/// build fails.
fn run(ui: &Path, npm: &str, args: &[&str]) {
    let status = Command::new(npm)
        .args(args)
        .current_dir(ui)
        .stdout(std::io::stderr())
        .stderr(Stdio::inherit())
        .status()
        .unwrap_or_else(|e| panic!("cannot run `{npm} {}`: {e}", args.join(" ")));
    if !status.success() {
        panic!("`{npm} {}` in {} failed ({status}); its output is above", args.join(" "), ui.display());
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of any file below a directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
}
