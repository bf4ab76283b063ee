#!/usr/bin/env bash
# Load comparison, side by side in one run: hyper's hello world on spindle
# (`http_hello.rs`, the example itself), on tokio `current_thread` +
# `LocalSet` and on smol, driven by `wrk` at 1, 10 and 100 connections; a
# 64-byte echo server on the three, driven by `io_client echo` (checks
# every byte) at 1, 10 and 50 connections; and 1 000 sequential
# `Connection: close` requests (`io_client close`). The servers are in
# `io_server.rs`.
#
#   bash benches/io/run.sh [OUT.md]        # from anywhere; ~4 minutes
#   ROUNDS=5 SECS=5 bash benches/io/run.sh # steadier medians, ~8 minutes
#
# Servers run pinned to one core (SERVER_CPU, default 0), every load
# generator to another (CLIENT_CPU, default 1). Each cell is the median of
# ROUNDS (3) runs of SECS (3) seconds; the runtimes take turns within a
# round, in an order that rotates every round, so a slow spell of a shared
# machine does not fall on one runtime alone. Server CPU per request is
# the time the server's threads spent on a CPU (the first field of each
# /proc/PID/task/TID/schedstat, in nanoseconds) during the run, divided by
# the requests served. The tables are printed and written to OUT.md
# (default: benches/io/RESULTS.md, which `cargo bench --bench compare`
# copies into BENCHMARKS.md); the script also puts them in BENCHMARKS.md
# in place of the previous run's. The raw runs go to
# $CARGO_TARGET_DIR/io-bench-raw.txt (default target/).
#
# Targets (issue 17): spindle >= the best peer's req/s and <= its CPU per
# request for HTTP at 10 and 100 connections; echo >= the best peer at 10
# and 50; 1 000 short-lived connections in <= 1.1 x the best peer's time.
# The last table says, per row, spindle's ratio to the best peer.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${SECS:-3}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RUNTIMES=(spindle tokio smol)
TARGET=${CARGO_TARGET_DIR:-target}
OUT=${1:-benches/io/RESULTS.md}
RAW=$TARGET/io-bench-raw.txt
BIN=$TARGET/release/examples

# wrk is a Debian package; install it when missing (as root, like CI).
if ! command -v wrk >/dev/null; then
  echo "==> installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } || true
fi
HAVE_WRK=1
command -v wrk >/dev/null || { HAVE_WRK=0; echo "wrk unavailable: the HTTP keep-alive rows are skipped" >&2; }

echo "==> building the servers and the client (release)" >&2
cargo build --release -q -p spindle-benches --example io_server --example io_client

mkdir -p "$(dirname "$OUT")" "$TARGET"
: >"$RAW"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Ports: HTTP 18080 + i, echo 18090 + i, for runtime i.
declare -A HTTP_PID ECHO_PID HTTP_PORT ECHO_PORT
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  exit 1
}
i=0
for rt in "${RUNTIMES[@]}"; do
  HTTP_PORT[$rt]=$((18080 + i)); ECHO_PORT[$rt]=$((18090 + i)); i=$((i + 1))
  taskset -c "$SERVER_CPU" "$BIN/io_server" "$rt" http "${HTTP_PORT[$rt]}" &
  HTTP_PID[$rt]=$!; PIDS+=($!)
  taskset -c "$SERVER_CPU" "$BIN/io_server" "$rt" echo "${ECHO_PORT[$rt]}" &
  ECHO_PID[$rt]=$!; PIDS+=($!)
done
for rt in "${RUNTIMES[@]}"; do wait_port "${HTTP_PORT[$rt]}"; wait_port "${ECHO_PORT[$rt]}"; done

# Nanoseconds the process's threads have spent on a CPU so far.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ ns += $1 } END { printf "%.0f", ns }'; }

# wrk's "50%   85.00us" → microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000
    printf "%.1f", n }'
}

# One run: prints "rate p50_us p99_us requests".
run_wrk() { # port conns
  local out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${SECS}s" --latency "http://127.0.0.1:$1/")
  local rate p50 p99 reqs
  rate=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "wrk reported errors: $out" >&2; fi
  echo "$rate $p50 $p99 $reqs"
}
run_client() { # io_client args...
  local out
  out=$(taskset -c "$CLIENT_CPU" "$BIN/io_client" "$@")
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["rate"], v["p50_us"], v["p99_us"], v["count"] }' <<<"$out"
}

# measure WORKLOAD CONNS RT ROUND PID -- command...: one run, one raw line.
measure() {
  local workload=$1 conns=$2 rt=$3 round=$4 pid=$5; shift 6
  local before after rate p50 p99 reqs cpu
  before=$(cpu_ns "$pid")
  read -r rate p50 p99 reqs < <("$@")
  after=$(cpu_ns "$pid")
  cpu=$(awk -v t=$((after - before)) -v n="$reqs" 'BEGIN { printf "%.2f", t / 1000 / n }')
  echo "$workload $conns $rt $round $rate $p50 $p99 $cpu" | tee -a "$RAW" >&2
}

# The order of the runtimes in round r: rotated by r.
order() {
  local r=$1 n=${#RUNTIMES[@]}
  for k in $(seq 0 $((n - 1))); do echo "${RUNTIMES[$(((k + r) % n))]}"; done
}

echo "==> warm-up" >&2
for rt in "${RUNTIMES[@]}"; do
  [ "$HAVE_WRK" = 1 ] && taskset -c "$CLIENT_CPU" wrk -t1 -c10 -d1s "http://127.0.0.1:${HTTP_PORT[$rt]}/" >/dev/null
  taskset -c "$CLIENT_CPU" "$BIN/io_client" echo "127.0.0.1:${ECHO_PORT[$rt]}" 10 1 >/dev/null
done

echo "==> workload conns runtime round rate p50_us p99_us cpu_us_per_req" >&2
if [ "$HAVE_WRK" = 1 ]; then
  for conns in 1 10 100; do
    for round in $(seq "$ROUNDS"); do
      for rt in $(order "$round"); do
        measure http "$conns" "$rt" "$round" "${HTTP_PID[$rt]}" -- run_wrk "${HTTP_PORT[$rt]}" "$conns"
      done
    done
  done
fi
for conns in 1 10 50; do
  for round in $(seq "$ROUNDS"); do
    for rt in $(order "$round"); do
      measure echo "$conns" "$rt" "$round" "${ECHO_PID[$rt]}" -- \
        run_client echo "127.0.0.1:${ECHO_PORT[$rt]}" "$conns" "$SECS" 64
    done
  done
done
for round in $(seq "$ROUNDS"); do
  for rt in $(order "$round"); do
    measure close 1000 "$rt" "$round" "${HTTP_PID[$rt]}" -- \
      run_client close "127.0.0.1:${HTTP_PORT[$rt]}" 1000
  done
done

# Medians per (workload, conns, runtime), each column on its own; then
# spindle against the best peer.
table=$(
  sort -k1,1 -k2,2n -k3,3 "$RAW" | awk -v rounds="$ROUNDS" '
    # mawk has no asort: an insertion sort of a handful of numbers.
    function med(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return a[int((n + 1) / 2)] }
    { key = $1 " " $2 " " $3
      if (!(key in seen)) { seen[key] = 1; keys[++k] = key }
      r[key] = r[key] " " $5; p50[key] = p50[key] " " $6; p99[key] = p99[key] " " $7; c[key] = c[key] " " $8 }
    END {
      name["http"] = "HTTP hello (wrk)"; name["echo"] = "echo 64 B (io_client)"; name["close"] = "1 000 × Connection: close"
      print "| workload | conns | runtime | req/s | p50 µs | p99 µs | server CPU µs/req |"
      print "|---|---:|---|---:|---:|---:|---:|"
      nw = split("http echo close", wanted, " ")
      for (w = 1; w <= nw; w++) for (i = 1; i <= k; i++) {
        split(keys[i], f, " ")
        if (f[1] != wanted[w]) continue
        printf "| %s | %s | %s | %.0f | %.1f | %.1f | %.2f |\n", name[f[1]], f[2], f[3], med(r[keys[i]]), med(p50[keys[i]]), med(p99[keys[i]]), med(c[keys[i]])
        M[f[1] " " f[2], f[3], "r"] = med(r[keys[i]]); M[f[1] " " f[2], f[3], "c"] = med(c[keys[i]])
        if (!((f[1] " " f[2]) in rows)) { rows[f[1] " " f[2]] = 1; order[++nr] = f[1] " " f[2] }
      }
      print ""
      print "| workload | conns | spindle req/s ÷ best peer | spindle CPU/req ÷ that peer | best peer | target |"
      print "|---|---:|---:|---:|---|---|"
      target["http 10"] = target["http 100"] = "req/s ≥ 1, CPU ≤ 1"
      target["echo 10"] = target["echo 50"] = "req/s ≥ 1"
      target["close 1000"] = "time ≤ 1.1 (req/s ≥ 0.91)"
      for (i = 1; i <= nr; i++) {
        w = order[i]; best = ""
        if (M[w, "tokio", "r"] >= M[w, "smol", "r"]) best = "tokio"; else best = "smol"
        split(w, f, " ")
        printf "| %s | %s | %.2f | %.2f | %s | %s |\n", name[f[1]], f[2], M[w, "spindle", "r"] / M[w, best, "r"], M[w, "spindle", "c"] / M[w, best, "c"], best, (w in target) ? target[w] : "–"
      }
    }'
)
{
  echo "## I/O under load"
  echo
  echo "Written by \`ROUNDS=$ROUNDS SECS=$SECS bash benches/io/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(nproc) cores; servers on CPU $SERVER_CPU, \`wrk\` and \`io_client\` on CPU $CLIENT_CPU). Each cell is the median of $ROUNDS alternating runs of ${SECS} s; the short-lived row makes 1 000 connections per run (req/s = connections/s). Server CPU is the time its threads spent on a CPU (schedstat) per request."
  echo
  echo "$table"
} >"$OUT"
cat "$OUT"

# BENCHMARKS.md: this section replaces the previous run's (or goes before
# "## Sleep lateness" the first time).
if [ -f BENCHMARKS.md ] && [ "$OUT" != BENCHMARKS.md ]; then
  awk -v file="$OUT" '
    function put() { while ((getline line < file) > 0) print line; print ""; done = 1 }
    /^## I\/O under load/ { skip = 1; put(); next }
    skip && /^## / { skip = 0 }
    !done && /^## Sleep lateness/ { put() }
    !skip { print }' BENCHMARKS.md >BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md
  echo "updated BENCHMARKS.md" >&2
fi
