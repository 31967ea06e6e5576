//! Bundles the web front-end into the binary: every file of `web/static/` plus hls.js
//! (`web/node_modules/hls.js/dist/hls.min.js`), Redoc's standalone bundle (the API reference page),
//! tus-js-client's browser bundle (resumable uploads), uPlot's script and stylesheet (the
//! Analytics page's charts) and Media Chrome's IIFE bundle (the player's controls) from npm,
//! pinned in `web/package-lock.json`.
//! The build itself is hermetic: it reads files and fetches nothing. When the npm packages
//! are missing it stops and says to run `./scripts/setup.sh` (which runs `npm ci` in `web/`);
//! nothing is fetched at run time either.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const HLS_JS: &str = "web/node_modules/hls.js/dist/hls.min.js";
/// Redoc's standalone bundle, for the API reference page at `/api/docs`.
const REDOC_JS: &str = "web/node_modules/redoc/bundles/redoc.standalone.js";
/// tus-js-client's browser bundle, for resumable uploads on the Upload page.
const TUS_JS: &str = "web/node_modules/tus-js-client/dist/tus.min.js";
/// uPlot's browser bundle (the global `uPlot`) and stylesheet, for the Analytics page's charts.
const UPLOT_JS: &str = "web/node_modules/uplot/dist/uPlot.iife.min.js";
const UPLOT_CSS: &str = "web/node_modules/uplot/dist/uPlot.min.css";
/// Media Chrome's web components in one classic script (the global `MediaChrome`), for the
/// player's controls on the watch and embed pages.
const MEDIA_CHROME_JS: &str = "web/node_modules/media-chrome/dist/iife/all.js";

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=web/static");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed={HLS_JS}");
    println!("cargo:rerun-if-changed={REDOC_JS}");
    println!("cargo:rerun-if-changed={TUS_JS}");
    println!("cargo:rerun-if-changed={UPLOT_JS}");
    println!("cargo:rerun-if-changed={UPLOT_CSS}");
    println!("cargo:rerun-if-changed={MEDIA_CHROME_JS}");

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root.join("web/static")) {
        for entry in dir.flatten() {
            if entry.path().is_file() {
                files.push((entry.file_name().to_string_lossy().into_owned(), entry.path()));
            }
        }
    }
    if root.join("web/package.json").exists() {
        for (name, path) in [
            ("hls.min.js", root.join(HLS_JS)),
            ("redoc.standalone.js", root.join(REDOC_JS)),
            ("tus.min.js", root.join(TUS_JS)),
            ("uPlot.iife.min.js", root.join(UPLOT_JS)),
            ("uPlot.min.css", root.join(UPLOT_CSS)),
            ("media-chrome.js", root.join(MEDIA_CHROME_JS)),
        ] {
            assert!(
                path.exists(),
                "{} is missing: run ./scripts/setup.sh (or `npm ci` in web/; needs Node.js and npm)",
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
