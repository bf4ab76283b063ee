//! `docs/STUCK.md` shows what `examples/stuck.rs` prints for each of its four
//! stuck programs under virtual time. This test runs them and checks that the
//! page still shows their output, so the page cannot go stale. The panic
//! line's thread id and the runtime's source line change from run to run
//! and from commit to commit; they are compared as `N` and `L`.

mod support;

use std::process::Command;

use support::example;

/// The panic header with its varying numbers replaced.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("thread 'main' (") {
            Some(rest) => {
                let at = rest.split(" panicked at ").nth(1).unwrap_or("");
                let file = at.split(':').next().unwrap_or("");
                format!("thread 'main' (N) panicked at {file}:L")
            }
            None => line.to_string(),
        })
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

#[test]
fn stuck_md_shows_what_each_stuck_program_prints() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/STUCK.md")).unwrap();
    let page = normalize(&page);
    for program in ["task_done", "handles", "mutexes", "event"] {
        let output = Command::new(example("stuck"))
            .arg(program)
            .env("SPINDLE_CLOCK", "virtual")
            .env("RUST_BACKTRACE", "0")
            .env_remove("SPINDLE_TRACE")
            .env_remove("SPINDLE_SEED")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{program} must panic");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = normalize(&printed);
        assert!(printed.contains("deadlock"), "{program}: {printed}");
        assert!(
            page.contains(&printed),
            "docs/STUCK.md no longer shows what `stuck {program}` prints:\n{printed}"
        );
    }
}
