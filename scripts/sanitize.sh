#!/usr/bin/env bash
# ThreadSanitizer over the tests in which threads share memory: handles and
# wakes across threads (`tests/rt_handle.rs`), the join protocol under a
# moving reference count (`tests/rt_join_race.rs`), the primitives used from
# several threads (`tests/prim_queue.rs`, `tests/prim_event.rs`), and the
# runtime crate's own unit tests and Miri-sized race tests.
#
# TSan must see every memory access, std's included, so std is rebuilt with
# the sanitizer (`-Zbuild-std`, nightly, needs `rust-src`, installed here if
# missing). A report makes its test binary exit with status 66 (TSan's
# default), which fails the run; every binary still runs (`--no-fail-fast`),
# so one run shows every report. Suppressions, one justification each, go in
# `scripts/tsan.supp`. Extra arguments go to `cargo test` (not to the test
# binaries), e.g. `--release`.
#
# Time on a shared, loaded 2-core machine: 15 minutes from a cold target
# directory, 14 of them building std and every dev-dependency with the
# sanitizer (the same again for `--release`); 40 s once built.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
  rustup component add --toolchain nightly rust-src
fi

export RUSTFLAGS="-Zsanitizer=thread"
export RUSTDOCFLAGS="-Zsanitizer=thread"
# Backtraces of panics would interleave with TSan's reports; TSan prints
# its own stacks.
export RUST_BACKTRACE=0
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
# Instrumented artifacts must not mix with plain ones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/tsan}"

# rt_handle's `handle_spawn_racing_with_shutdown` is left out: it takes
# 0.02 s natively but about 17 s under TSan, over its 10 s limit (and the
# `within` thread it then leaves behind is reported as a thread leak). Under
# TSan the slowed-down shutdown keeps finding new spawns in the mailbox until
# the spawning thread reaches its cap of 200 000; with a 300 s limit it
# passed, with no race reported.
status=0
printf '\n==> TSan: cross-thread tests of spindle\n'
cargo +nightly test -Zbuild-std --target "$target" --no-fail-fast -p spindle \
  --test rt_handle --test rt_join_race --test prim_queue --test prim_event "$@" \
  -- --skip handle_spawn_racing_with_shutdown || status=$?

printf '\n==> TSan: spindle-runtime (unit tests, miri_races)\n'
cargo +nightly test -Zbuild-std --target "$target" --no-fail-fast -p spindle-runtime \
  --lib --test miri_races "$@" || status=$?

exit "$status"
