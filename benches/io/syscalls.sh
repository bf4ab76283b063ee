#!/usr/bin/env bash
# Syscalls per request of the servers `run.sh` loads, under the same load:
# perf counts each syscall's tracepoint in the server for 2 s while `wrk`
# (HTTP) or `io_client` (echo) drives it, and divides by the responses
# written (one `writev` per HTTP response, one `sendto` per echo).
#
#   bash benches/io/syscalls.sh            # HTTP at 10 and 100 connections, echo at 10 and 50
#
# Needs `perf` (Debian: linux-perf) with tracepoints readable (root, or
# kernel.perf_event_paranoid <= 0) and `wrk`; server on CPU 0, load on CPU 1
# as in `run.sh`. Unlike strace, perf barely slows the server, so the
# batching of events per wait is the real one.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/examples
PORT=18197
cargo build --release -q -p spindle-benches --example io_server --example io_client

EVENTS=$(printf 'syscalls:sys_enter_%s,' recvfrom sendto writev epoll_wait epoll_pwait \
  epoll_ctl timerfd_settime read futex)
echo "workload conns runtime: syscalls per response (those above 0.005)"
for load in "http 10" "http 100" "echo 10" "echo 50"; do
  read -r kind conns <<<"$load"
  for rt in spindle tokio smol; do
    taskset -c 0 "$BIN/io_server" "$rt" "$kind" "$PORT" 2>/dev/null &
    server=$!
    sleep 0.4
    if [ "$kind" = http ]; then
      taskset -c 1 wrk -t1 -c"$conns" -d3s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 &
    else
      taskset -c 1 "$BIN/io_client" echo "127.0.0.1:$PORT" "$conns" 3 >/dev/null &
    fi
    client=$!
    sleep 0.5
    perf stat -x, -e "${EVENTS%,}" -p "$server" -- sleep 2 2>&1 |
      awk -F, -v k="$kind $conns $rt" '
        { split($3, name, "_enter_"); n[name[2]] = $1 }
        END {
          responses = n["writev"] > 0 ? n["writev"] : n["sendto"]
          for (s in n) if (n[s] / responses >= 0.005) { line = line sprintf(" %s %.2f", s, n[s] / responses); total += n[s] }
          printf "%-18s total %.2f:%s\n", k, total / responses, line }'
    wait "$client" 2>/dev/null || true
    kill "$server"
    wait "$server" 2>/dev/null || true
  done
done
