#!/usr/bin/env bash
# `otlp view` performance (issue 11, "Performance"), each figure beside a reference measured in
# the same run; results in bench/RESULTS.md ("otlp view").
#
#   bench/view_bench.sh [BUILD_DIR]        (default: build; needs its view_bench and otlp targets:
#                                           ninja -C BUILD_DIR view_bench otlp)
#
# 1. Ingest: `view_bench ingest` — our OtlpHttpExporter (http/protobuf, batch 512, 4 requests in
#    flight) into an otlp::view::Viewer with a file database (until store().Flush() returns and
#    Stats().spans holds every span), beside the same load into tests/conformance/receiver.js
#    (OpenTelemetry JS decoding) and `otlp bench sink` (counting only); then a capped run
#    (max_db_bytes) for peak RSS against the cap.
# 2. and 3. The real `otlp view --db FILE --no-waterfall` on free loopback ports, seeded with
#    10,000 traces and one 1,000-span trace (`view_bench seed`): the trace list's filters timed
#    over HTTP (`view_bench query`, reference: a 404 round trip), and the trace page in headless
#    Chromium (bench/view_page_bench.mjs, playwright-core from tests/browser/node_modules), both
#    idle (reference) and while `view_bench load` ingests in the background at
#    VIEW_BENCH_LOAD_RATE spans/s (default 5000, under what the viewer sustains; "max": full speed).
#
# Environment: VIEW_BENCH_REPS (ingest repetitions, default 5), VIEW_BENCH_RUNS (page and query
# runs, default 7 / 11), VIEW_BENCH_SPANS (spans per ingest run, default 100000),
# VIEW_BENCH_ONLY=ingest|page (one part). Everything listens on 127.0.0.1 only; everything started
# is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
[[ $build = /* ]] || build=$repo/$build
bench=$build/bench/view_bench
otlp=$build/tools/otlp/otlp
reps=${VIEW_BENCH_REPS:-5}
runs=${VIEW_BENCH_RUNS:-7}
spans=${VIEW_BENCH_SPANS:-100000}
rate=${VIEW_BENCH_LOAD_RATE:-5000}
only=${VIEW_BENCH_ONLY:-}
for f in "$bench" "$otlp"; do
  [[ -x $f ]] || { echo "view_bench.sh: $f is missing (ninja -C $build view_bench otlp)" >&2; exit 2; }
done
[[ -d $repo/tests/browser/node_modules/playwright-core ]] ||
  { echo "view_bench.sh: playwright-core missing (npm ci --prefix $repo/tests/browser)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== bench/view_bench.sh, $(date -u '+%F %H:%M UTC'), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo ?)" \
     "(tree $(git -C "$repo" status --porcelain 2>/dev/null | grep -c . || true) files modified), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo "   $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

if [[ -z $only || $only == ingest ]]; then
  echo
  echo "== 1. ingest"
  "$bench" ingest --reps "$reps" --spans "$spans" --dir "$work" \
    --js-receiver "$repo/tests/conformance/receiver.js" --otlp "$otlp" \
    --max-db-mb 1024 --cap-mb 64 --cap-spans $((spans * 2)) || echo "(ingest: some runs incomplete)"
fi

[[ -z $only || $only == page ]] || exit 0

echo
echo "== 2./3. otlp view --db FILE --no-waterfall: 10,000 traces and one 1,000-span trace"
"$otlp" view --db "$work/view.db" --http 0 --no-grpc --ui 0 --no-waterfall >"$work/view.out" 2>"$work/view.err" &
view_pid=$!
pids+=("$view_pid")
for _ in $(seq 100); do grep -q 'UI on' "$work/view.out" 2>/dev/null && break; sleep 0.1; done
http=$(sed -n 's/^otlp view: OTLP\/HTTP on //p' "$work/view.out")
ui=$(sed -n 's/^otlp view: UI on //p' "$work/view.out")
[[ -n $http && -n $ui ]] || { echo "otlp view did not start:"; cat "$work/view.out" "$work/view.err"; exit 1; }
echo "   otlp view pid $view_pid: OTLP/HTTP $http, UI $ui"

t0=$(date +%s.%N)
"$bench" seed --endpoint "$http" --traces 10000 --big-spans 1000 >"$work/seed.out"
big=$(sed -n 's/^big_trace=//p' "$work/seed.out")
# The seed's spans are all answered; wait until the store has written them.
for _ in $(seq 1200); do
  st=$(curl -s "${ui}api/stats")
  [[ $st == *'"traces":10001'* ]] && break
  sleep 0.1
done
echo "   seeded in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s: $st; big trace $big"
echo "   otlp view RSS after seeding: $(grep -E 'VmRSS' /proc/$view_pid/status | tr -s ' ')"

echo
echo "-- idle (reference)"
"$bench" query --ui "$ui" --reps $((runs + 4)) --trace "$big" --label "idle, 10,001 traces" || true
node "$repo/bench/view_page_bench.mjs" --ui "$ui" --trace "$big" --runs "$runs" --label idle \
  --list-service payments

echo
if [[ $rate == max ]]; then
  echo "-- while view_bench load ingests at full speed (traces of 10 spans, 4 requests in flight)"
  "$bench" load --endpoint "$http" --service load >"$work/load.out" 2>&1 &
else
  echo "-- while view_bench load ingests $rate spans/s (traces of 10 spans, 4 requests in flight)"
  "$bench" load --endpoint "$http" --rate "$rate" --service load >"$work/load.out" 2>&1 &
fi
load_pid=$!
pids+=("$load_pid")
sleep 3
s0=$(curl -s "${ui}api/stats")
node "$repo/bench/view_page_bench.mjs" --ui "$ui" --trace "$big" --runs "$runs" \
  --label "ingest $rate spans/s" --list-service payments || echo "(page bench failed under ingest)"
"$bench" query --ui "$ui" --reps 5 --trace "$big" --label "during ingest at $rate spans/s" || true
s1=$(curl -s "${ui}api/stats")
kill -TERM "$load_pid"
wait "$load_pid" || true
cat "$work/load.out"
echo "   stored during the measurement: $s0 → $s1"
echo "   otlp view: $(grep -E 'VmHWM|VmRSS' /proc/$view_pid/status | tr -s ' ' | tr '\n' ' ')"
