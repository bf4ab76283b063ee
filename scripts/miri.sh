#!/usr/bin/env bash
# Miri over spindle-runtime, the crate with nearly all of spindle's
# `unsafe`, and over the one `unsafe` module of spindle-primitives:
#
#   1. every test of the crate once (unit tests, `tests/miri_tasks.rs`,
#      `tests/miri_races.rs` and the doctests), with strict provenance, on
#      Miri's default seed 0;
#   2. the race tests again on more seeds (`MIRI_SEEDS`, default 1..8): each
#      seed is another thread schedule and other weak-memory outcomes, which
#      is what finds a missing Acquire or a compare-exchange that fails when
#      another thread moves the reference count;
#   3. the race tests once more in a release build: without the runtime's
#      debug assertions, a broken protocol goes on to the unsound access
#      itself, which Miri then reports as undefined behaviour.
##   4. spindle-primitives' `tests/miri_mutex.rs`: the `Mutex` guard's
#      accesses to the data, on one thread and across threads (its `unsafe`
#      is in `primitives/src/mutex.rs`), on seed 0 and two more.
#
# Installs the nightly toolchain's `miri` and `rust-src` components if they
# are missing. Extra arguments go to every `cargo miri test` run, e.g.
# `scripts/miri.sh -- a_wake_merged` to run matching tests only.
#
# Step 4 takes about a minute, most of it building the primitives' tests
# under Miri (4 tests × 3 seeds run in under 3 s).
#
# Time on a shared, loaded 2-core machine, Miri's std already built: where
# every test passes, 6 minutes with MIRI_SEEDS=1..16 (5 minutes of CPU: step
# 1 about 70 s, of which the unit tests 27 s, the doctests 17 s and each
# test file about 12 s; about 12 s per seed in step 2; step 3 about 30 s
# with its first build); 2.5 minutes on code with these races, as step 2
# stops at the first failing seed and step 3 at the first undefined
# behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${MIRI_SEEDS:-1..8}"

installed() {
  rustup component list --toolchain nightly --installed 2>/dev/null | grep -q "^$1"
}
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! installed miri || ! installed rust-src; then
  rustup component add --toolchain nightly miri rust-src
fi

# Miri's own build of std lives in the target directory; it is built once.
cargo +nightly miri setup

# Both steps run whatever the first finds; the script fails if either did.
status=0

printf '\n==> Miri, every test of spindle-runtime (seed 0)\n'
MIRIFLAGS="-Zmiri-strict-provenance" \
  cargo +nightly miri test --no-fail-fast -p spindle-runtime "$@" || status=$?

printf '\n==> Miri, the race tests on seeds %s\n' "$seeds"
MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-many-seeds=$seeds" \
  cargo +nightly miri test -p spindle-runtime --test miri_races "$@" || status=$?

printf '\n==> Miri, the race tests in a release build (seed 0)\n'
MIRIFLAGS="-Zmiri-strict-provenance" \
  cargo +nightly miri test --release -p spindle-runtime --test miri_races "$@" || status=$?

printf '\n==> Miri, the Mutex of spindle-primitives (seeds 0..3)\n'
MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-many-seeds=0..3" \
  cargo +nightly miri test -p spindle-primitives --test miri_mutex "$@" || status=$?

exit "$status"
