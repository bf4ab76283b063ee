#!/usr/bin/env bash
# Syscalls per operation of one workload on one runtime, as `strace -c -f`
# counts them: the count at N operations minus the count at 0, divided by N,
# so what setting up the runtime and the connection costs drops out.
#
#   benches/syscalls.sh RUNTIME WORKLOAD [N]
#
# RUNTIME is spindle, tokio or smol; WORKLOAD is `echo` (one tcp_echo round
# trip) or `run` (one fresh runtime running `async {}`); N defaults to 20000.
# Builds `benches/syscalls.rs` first. Needs strace.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=${1:?usage: benches/syscalls.sh spindle|tokio|smol echo|run [N]}
workload=${2:?usage: benches/syscalls.sh spindle|tokio|smol echo|run [N]}
n=${3:-20000}

binary=$(cargo bench -p spindle-benches --bench syscalls --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[ -x "$binary" ] || { echo "could not build benches/syscalls.rs" >&2; exit 1; }

count() { # $1: operations; prints "syscall calls errors" lines
  local out
  out=$(mktemp)
  strace -c -f -o "$out" "$binary" "$runtime" "$workload" "$1" >/dev/null
  awk '$1 ~ /^[0-9]/ && $NF != "total" {
         errors = (NF == 6) ? $5 : 0; print $NF, $4, errors }' "$out"
  rm -f "$out"
}

echo "$runtime $workload: syscalls per operation (strace -c -f, N = $n)"
join -a 2 -e 0 -o 0,1.2,1.3,2.2,2.3 <(count 0 | sort) <(count "$n" | sort) |
  awk -v n="$n" '{ calls = ($4 - $2) / n; errors = ($5 - $3) / n
                   if (calls >= 0.005) { printf "  %-18s %6.2f  (%.2f failed)\n", $1, calls, errors; total += calls } }
                 END { printf "  %-18s %6.2f\n", "total", total }'
