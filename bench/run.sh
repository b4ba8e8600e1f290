#!/usr/bin/env bash
# Measures what the README promises: component sizes, the rebuild after an
# edit to one process, and how long the harness takes to run the package.
# Writes bench/results.md. Run with `make bench` on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results.md
runs=${RUNS:-5}

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

make -s build >/dev/null
make -s test-guests >/dev/null
cargo build -q -p host-harness

rebuilds=()
for _ in $(seq "$runs"); do
  touch child/src/lib.rs
  start=$(now); make -s build >/dev/null; end=$(now)
  rebuilds+=("$(seconds "$start" "$end")")
done

harness_runs=()
for _ in $(seq "$runs"); do
  start=$(now); target/debug/host-harness run . >/dev/null; end=$(now)
  harness_runs+=("$(seconds "$start" "$end")")
done

size() { awk -v n="$(stat -c %s "$1")" 'BEGIN { printf "%.1f KB", n / 1000 }'; }
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` ($runs runs each, median) on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo
  echo "| what | result | goal |"
  echo "| --- | --- | --- |"
  echo "| \`pkg/parent.wasm\` | $(size pkg/parent.wasm) | ≤ 150 KB |"
  echo "| \`pkg/child.wasm\` | $(size pkg/child.wasm) | ≤ 60 KB |"
  echo "| \`make build\` after touching \`child/src/lib.rs\` | $(printf '%s\n' "${rebuilds[@]}" | median) s | ≤ 10 s |"
  echo "| \`host-harness run .\` (install, spawn, both processes end, report) | $(printf '%s\n' "${harness_runs[@]}" | median) s | |"
} > "$out"
cat "$out"
