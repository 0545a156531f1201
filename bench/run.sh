#!/usr/bin/env bash
# Runs every benchmark the project reports and prints results beside their references.
#   bench/run.sh [build-dir] [--quick]   (default: build-bench, configured Release; --quick: short
#                                        HTTP rows)
# Spans: Google Benchmark medians of 15 randomly interleaved repetitions, through the real
# BatchSpanProcessor, with in-process references (clock_gettime, malloc+free) so runs on noisy
# machines can be compared as ratios.
# Encoding: spans/s serialized on one core. Pipeline: one thread → batch processor →
# OTLP/HTTP → `otlp bench sink` on loopback, paced at 1 M spans/s and at full speed.
# Chunk reuse: what a thread pays to write memory another core has just read, by reuse depth.
# HTTP: the client against libcurl, Beast, h2load and curl on a local nginx (bench/http_bench.sh,
# which takes --quick; its rows are listed in bench/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-bench}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOTLP_BUILD_BENCHMARKS=ON \
  -DOTLP_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" --target span_bench encode_bench chunk_reuse_bench export_bench otlp >/dev/null
# The HTTP benchmark exists only when libcurl was found (its script says so otherwise).
cmake --build "$dir" --target http_bench >/dev/null 2>&1 || true

echo "== span hot path (median and coefficient of variation of 15 runs, interleaved at random so"
echo "   every row sees the same host; allocs/span counted with glibc malloc; the clock_gettime"
echo "   and malloc+free rows are in-process references)"
"$dir/bench/span_bench" --benchmark_repetitions=15 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "_median|_cv"
echo "   reference (opentelemetry-cpp 1.28 on these machines): start+end 311 ns / 8 allocs,"
echo "   5 attributes 600 ns / 16 allocs, unsampled 94 ns, disabled 16 ns"

echo
echo "== OTLP encoding (spans/s on one core)"
"$dir/bench/encode_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  2>/dev/null | grep -E "_median"
echo "   reference (opentelemetry-cpp): 4.3 M spans/s just to fill protobuf objects"

echo
echo "== pipeline: 1 thread → batch processor (queue 65536, batch 8192) → OTLP/HTTP → sink"
otlp="$dir/tools/otlp/otlp"
port_file=$(mktemp)
"$otlp" bench sink --port 0 --seconds 60 >"$port_file" 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(head -1 "$port_file" | grep -oE '[0-9]+' | tail -1)
for rate in 1000000 0; do
  label=$([ "$rate" = 0 ] && echo "full speed" || echo "paced at $rate/s")
  echo "-- $label"
  args=(--seconds 5 --attrs 5 --queue 65536 --batch 8192 --endpoint "http://127.0.0.1:$port")
  [ "$rate" != 0 ] && args+=(--rate "$rate")
  "$otlp" bench trace "${args[@]}" 2>&1 | sed 's/^/   /'
done
echo "   reference (opentelemetry-cpp): 52 k spans/s exported, 86 % dropped"

echo
echo "== CPU per exported span against hot path + encoding, every protocol (issue 15)"
"$dir/bench/export_bench" --spans 200000 --reps 5 | sed 's/^/   /'
echo
echo "== writing memory another core has read (why chunks are reused 16 deep; bench/RESULTS.md)"
"$dir/bench/chunk_reuse_bench" | sed 's/^/   /'

echo
echo "== HTTP client against libcurl, Beast, h2load and curl (local nginx, one core; bench/http_bench.sh)"
bench/http_bench.sh "$dir" "${@:2}"
