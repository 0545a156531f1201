#!/usr/bin/env bash
# Compares two commits with the project's own benchmarks in one script run, so that both see
# the same host: span hot path (span_bench), OTLP encoding (encode_bench) and the export
# pipeline (`otlp bench trace` into `otlp bench sink`).
#   bench/compare.sh BASE [TARGET] [ROUNDS]   (TARGET defaults to HEAD, ROUNDS to 5)
#   bench/compare.sh --build-only BASE [TARGET]   (builds both now, e.g. while the host is
#                                                  busy; a later run reuses the builds)
# Each revision is checked out into a temporary worktree and built in Release under
# build-compare/<revision>. Each round runs the base and the target one after the other (the
# order alternates between rounds); each run is a benchmark program's median of its own
# repetitions. Printed per row: the median over the rounds for each revision and the median of
# the per-round ratios target ÷ base (below 1 = the target is faster, for times).
# Needs python3 (to read Google Benchmark's JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_only=0
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
base=${1:?usage: bench/compare.sh BASE [TARGET] [ROUNDS]}
target=${2:-HEAD}
rounds=${3:-5}
jobs=$(nproc)

build_rev() {  # rev -> prints the build dir
  local rev sha dir src
  rev=$1
  sha=$(git rev-parse --short=12 "$rev^{commit}")
  dir="$root/build-compare/$sha"
  src="$dir/src"
  if [ ! -x "$dir/build/bench/span_bench" ] || [ ! -x "$dir/build/tools/otlp/otlp" ]; then
    mkdir -p "$dir"
    rm -rf "$src"
    git worktree add --detach -f "$src" "$sha" >/dev/null 2>&1
    cmake -S "$src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DOTLP_BUILD_BENCHMARKS=ON -DOTLP_BUILD_TESTS=OFF >/dev/null
    cmake --build "$dir/build" -j "$jobs" --target span_bench encode_bench otlp >/dev/null
    git worktree remove --force "$src" >/dev/null 2>&1 || true
  fi
  echo "$dir/build"
}

echo "building $base and $target (Release)..." >&2
dir_a=$(build_rev "$base")
dir_b=$(build_rev "$target")
if [ "$build_only" = 1 ]; then
  echo "built: $dir_a $dir_b" >&2
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"; [ -n "${sink:-}" ] && kill "$sink" 2>/dev/null || true' EXIT

run_bench() {  # label build-dir round
  local label=$1 dir=$2 r=$3
  "$dir/bench/span_bench" --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_format=json \
    >"$out/span.$label.$r.json" 2>/dev/null
  "$dir/bench/encode_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_format=json >"$out/encode.$label.$r.json" 2>/dev/null
}

# One sink (the target's) receives both revisions' pipelines.
port_file="$out/sink"
"$dir_b/tools/otlp/otlp" bench sink --port 0 --seconds $((rounds * 60 + 120)) >"$port_file" 2>&1 &
sink=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(head -1 "$port_file" | grep -oE '[0-9]+' | tail -1)

run_pipeline() {  # label build-dir round
  local label=$1 dir=$2 r=$3
  for rate in 1000000 0; do
    args=(--seconds 3 --attrs 5 --queue 65536 --batch 8192 --endpoint "http://127.0.0.1:$port")
    [ "$rate" != 0 ] && args+=(--rate "$rate")
    "$dir/tools/otlp/otlp" bench trace "${args[@]}" >"$out/pipe.$label.$r.$rate.txt" 2>&1 || true
  done
}

for r in $(seq "$rounds"); do
  echo "round $r of $rounds..." >&2
  if [ $((r % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
  for who in $order; do
    d=$([ "$who" = a ] && echo "$dir_a" || echo "$dir_b")
    run_bench "$who" "$d" "$r"
    run_pipeline "$who" "$d" "$r"
  done
done

python3 - "$out" "$rounds" "$base" "$target" <<'EOF'
import glob, json, os, re, statistics, sys
out, rounds, base, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def medians(kind, who, r):
    path = os.path.join(out, f"{kind}.{who}.{r}.json")
    try:
        data = json.load(open(path))
    except Exception:
        return {}
    rows = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        if kind == "encode" and "items_per_second" in b:
            rows[name] = b["items_per_second"] / 1e6
        else:
            rows[name] = b["real_time"]
    return rows

def pipeline(who, r, rate):
    try:
        text = open(os.path.join(out, f"pipe.{who}.{r}.{rate}.txt")).read()
    except Exception:
        return {}
    rows = {}
    for key, pattern, scale in (("exported M spans/s", r"exported/s:\s*([\d.]+)", 1e-6),
                                ("created M spans/s", r"created/s:\s*([\d.]+)", 1e-6),
                                ("dropped", r"dropped:\s*(\d+)", 1),
                                ("producer ns/span", r"producer ns/span:\s*(\d+)", 1)):
        m = re.search(pattern, text)
        if m:
            rows[key] = float(m.group(1)) * scale
    return rows

def table(title, unit, get, higher_is_better):
    per = {"a": [get("a", r) for r in range(1, rounds + 1)],
           "b": [get("b", r) for r in range(1, rounds + 1)]}
    names = []
    for d in per["a"] + per["b"]:
        for n in d:
            if n not in names:
                names.append(n)
    print(f"\n== {title} ({unit}; median of {rounds} rounds; ratio = {target} / {base}, "
          f"median of per-round ratios; {'higher' if higher_is_better else 'lower'} is better)")
    print(f"{'row':48} {base[:12]:>12} {target[:12]:>12} {'ratio':>7}")
    for n in names:
        va = [d[n] for d in per["a"] if n in d]
        vb = [d[n] for d in per["b"] if n in d]
        ratios = [b[n] / a[n] for a, b in zip(per["a"], per["b"]) if n in a and n in b and a[n]]
        fa = f"{statistics.median(va):.3g}" if va else "-"
        fb = f"{statistics.median(vb):.3g}" if vb else "-"
        fr = f"{statistics.median(ratios):.3f}" if ratios else "-"
        print(f"{n:48} {fa:>12} {fb:>12} {fr:>7}")

table("span hot path, span_bench", "ns", lambda w, r: medians("span", w, r), False)
table("OTLP encoding, encode_bench", "M spans/s", lambda w, r: medians("encode", w, r), True)
for rate in ("1000000", "0"):
    label = "full speed" if rate == "0" else "paced at 1 M spans/s"
    table(f"pipeline {label}, otlp bench trace", "see row",
          lambda w, r, rate=rate: pipeline(w, r, rate), True)
EOF
