//! Bundles the web front-end into the binary: every file of `web/static/` plus hls.js
//! (`web/node_modules/hls.js/dist/hls.min.js`) and Redoc's standalone bundle (the API
//! reference page) from npm, pinned in `web/package-lock.json`.
//! When the npm packages are missing, runs `npm ci` in `web/` once; nothing is fetched at run
//! time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const HLS_JS: &str = "web/node_modules/hls.js/dist/hls.min.js";
/// Redoc's standalone bundle, for the API reference page at `/api/docs`.
const REDOC_JS: &str = "web/node_modules/redoc/bundles/redoc.standalone.js";

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=web/static");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed={HLS_JS}");
    println!("cargo:rerun-if-changed={REDOC_JS}");

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root.join("web/static")) {
        for entry in dir.flatten() {
            if entry.path().is_file() {
                files.push((entry.file_name().to_string_lossy().into_owned(), entry.path()));
            }
        }
    }
    if root.join("web/package.json").exists() {
        let (hls, redoc) = (root.join(HLS_JS), root.join(REDOC_JS));
        if !hls.exists() || !redoc.exists() {
            npm_ci(&root.join("web"));
        }
        for (name, path) in [("hls.min.js", hls), ("redoc.standalone.js", redoc)] {
            assert!(
                path.exists(),
                "{} is missing: run `npm ci` in web/ (needs Node.js and npm)",
                path.display()
            );
            files.push((name.into(), path));
        }
    }
    files.sort();

    let mut out =
        String::from("/// Bundled web assets: (file name, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        writeln!(out, "    ({name:?}, include_bytes!({:?})),", path.display().to_string()).unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(dest, out).unwrap();
}

fn npm_ci(dir: &Path) {
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "`npm ci` in {} failed ({other:?}); install Node.js and npm, then retry",
            dir.display()
        ),
    }
}
