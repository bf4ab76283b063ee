//! The pictures in `docs/` are what the code draws now.
//!
//! `scripts/docs-pictures.sh --check` runs every cheatsheet example under
//! virtual time with a trace, draws each picture into a temporary folder
//! with `spindle-trace`, and compares it byte for byte with the one in
//! `docs/`. Under virtual time a picture depends only on the code (the
//! script's header says why), so any difference means the runtime, an
//! example or the trace tool changed what the picture shows, and the
//! picture, and maybe the text that describes it, must be looked at again.
//!
//! The script builds the examples and `spindle-trace` in the dev profile,
//! which `cargo test` has normally built already, so this test mostly runs
//! six programs that take no real time and draws eight pictures.

use std::process::Command;

#[test]
fn the_pictures_in_docs_are_what_the_examples_draw_now() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/docs-pictures.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg("--check")
        .output()
        .expect("bash runs scripts/docs-pictures.sh");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
