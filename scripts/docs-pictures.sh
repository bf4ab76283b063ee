#!/usr/bin/env bash
# Draws every picture in docs/: runs each cheatsheet example under virtual
# time with a trace, and draws the trace with spindle-trace.
#
#   scripts/docs-pictures.sh           # rewrite docs/*.svg
#   scripts/docs-pictures.sh --check   # change nothing; fail naming each stale picture
#
# Under virtual time a trace's timestamps are the program's own timeline and
# spindle-trace leaves out the real time polls took (trace-tool/src/trace.rs),
# so a picture depends only on the code: the same on every run and machine,
# in the dev and the release profile alike. That is what lets
# tests/docs_pictures.rs run the --check form as an ordinary test.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: scripts/docs-pictures.sh [--check]"
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

# Each picture: its file in docs/, the example whose trace it draws, and the
# spindle-trace options. The examples' titles come from the trace's file
# name, `NN_name.json`. The two close-ups draw the one instant (`--at`) in
# which a whole hand-off happens under virtual time, event by event.
pictures=(
  "01_gather.svg      01_gather"
  "02_call_later.svg  02_call_later"
  "03_queue.svg       03_queue"
  "03_queue_zoom.svg  03_queue       --at 1s"
  "04_event.svg       04_event"
  "04_event_zoom.svg  04_event       --at 2s"
  "05_timeout.svg     05_timeout"
  "06_stream.svg      06_stream"
)
examples=(01_gather 02_call_later 03_queue 04_event 05_timeout 06_stream)

# The dev profile: quick to build, and `cargo test` has usually built it
# already. ${CARGO} is the cargo that runs the test, when a test runs this.
cargo=${CARGO:-cargo}
"$cargo" build --quiet -p spindle-examples -p spindle-trace --examples --bins
target=$("$cargo" metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target/debug"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for example in "${examples[@]}"; do
  SPINDLE_CLOCK=virtual SPINDLE_TRACE="$work/$example.json" \
    "$bin/examples/$example" > /dev/null
done

out=docs
if $check; then
  out="$work/svg"
  mkdir "$out"
fi
for picture in "${pictures[@]}"; do
  read -r svg example options <<< "$picture"
  # $options is deliberately unquoted: it is zero or more words.
  # shellcheck disable=SC2086
  "$bin/spindle-trace" "$work/$example.json" "$out/$svg" $options > /dev/null
done

if ! $check; then
  echo "drew ${#pictures[@]} pictures in docs/"
  exit 0
fi
stale=0
for picture in "${pictures[@]}"; do
  read -r svg _ <<< "$picture"
  if ! cmp -s "docs/$svg" "$out/$svg"; then
    stale=1
    echo "docs/$svg is stale: it is not what scripts/docs-pictures.sh draws now."
    diff -u "docs/$svg" "$out/$svg" | head -n 12 || true
  fi
done
# A picture in docs/ that no line above draws would go stale unnoticed.
for file in docs/*.svg; do
  if [ ! -e "$out/$(basename "$file")" ]; then
    stale=1
    echo "$file is drawn by nothing: add it to the list in scripts/docs-pictures.sh, or delete it."
  fi
done
if [ "$stale" = 1 ]; then
  echo
  echo "To fix: scripts/docs-pictures.sh (then look at the pictures and commit them)."
  exit 1
fi
echo "all ${#pictures[@]} pictures in docs/ are up to date"
