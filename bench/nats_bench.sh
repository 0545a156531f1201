#!/usr/bin/env bash
# The NATS client's performance rows (issue 12), each beside the official Go client (nats.go,
# built here from Debian's golang-github-nats-io-go-nats-dev sources) against the same
# nats-server (built by scripts/build-nats-server.sh), in one run, alternating ours and theirs;
# medians of NATS_BENCH_REPS (default 5) repetitions and the median of the per-repetition ratios.
#
#   bench/nats_bench.sh [BUILD_DIR]      (default: build; needs `ninja -C BUILD_DIR nats_bench`)
#
# Rows: publish-only 1M x 16 B untraced (ours ÷ nats.go ≥ 0.9); publish with trace context in a
# header (ours traced ÷ nats.go setting a traceparent header: ≥ 3.5, and ≥ 4 M msg/s); traced
# pub→sub with headers written and read (ours with CONSUMER spans ÷ nats.go reading the header:
# ≥ 4, and ≥ 1 M msg/s); request-reply p50 and p99 (ours traced ≤ nats.go); publisher peak RSS
# (≤ 20 MB); JetStream asynchronous publish (ours traced ÷ nats.go ≥ 1). NATS_BENCH_MSGS (default
# 1000000), NATS_BENCH_REQS (default 10000) and NATS_BENCH_JS_MSGS (default 100000) scale it.
# Everything listens on 127.0.0.1; the server is stopped on exit.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
[[ $build = /* ]] || build=$repo/$build
ours=$build/bench/nats_bench
reps=${NATS_BENCH_REPS:-5}
msgs=${NATS_BENCH_MSGS:-1000000}
reqs=${NATS_BENCH_REQS:-10000}
jsmsgs=${NATS_BENCH_JS_MSGS:-100000}
[ -x "$ours" ] || { echo "nats_bench.sh: build $ours first (ninja -C $build nats_bench)"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$repo/scripts/build-nats-server.sh" "$build/nats-server/nats-server"
mkdir -p "$work/gopath/src"
ln -s "$repo/bench/nats_go_bench" "$work/gopath/src/nats_go_bench"
(cd "$work" && GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" \
   GOCACHE="$build/nats-server/go-cache" go build -o "$work/nats_go_bench" nats_go_bench)
theirs=$work/nats_go_bench

cat > "$work/server.conf" <<CONF
listen: 127.0.0.1:-1
http: 0
jetstream { store_dir: "$work/js" }
CONF
"$build/nats-server/nats-server" -c "$work/server.conf" -l "$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q "Server is ready" "$work/server.log" 2>/dev/null && break
  sleep 0.05
done
url="nats://$(grep -o 'Listening for client connections on [0-9.:]*' "$work/server.log" |
  awk '{print $NF}')"
echo "nats-server $("$build/nats-server/nats-server" --version | awk '{print $NF}') on $url;" \
     "$(nproc) cores; $reps repetitions; $(date -u +%Y-%m-%dT%H:%MZ)"

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }

declare -A vals
run_pair() {  # row our-mode their-mode count field...
  local row=$1 om=$2 tm=$3 n=$4
  shift 4
  for r in $(seq 1 "$reps"); do
    local o t
    o=$("$ours" "$om" "$url" "$n" 16)
    t=$("$theirs" "$tm" "$url" "$n" 16)
    for f in "$@"; do
      vals[$row.ours.$f]+="$(echo "$o" | field "$f") "
      vals[$row.theirs.$f]+="$(echo "$t" | field "$f") "
    done
    vals[$row.ours.rss]+="$(echo "$o" | field rss_kb) "
    local ov tv
    ov=$(echo "$o" | field "$1")
    tv=$(echo "$t" | field "$1")
    vals[$row.ratio]+="$(ratio "$ov" "$tv") "
  done
}
med() { echo "${vals[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }

run_pair pub pub pub "$msgs" msgs_per_sec
run_pair hdr pubtraced pubhdr "$msgs" msgs_per_sec
run_pair pubsub pubsubtraced pubsubhdr "$msgs" msgs_per_sec
run_pair rr reqrep reqrep "$reqs" p50_us p99_us
run_pair js jspub jspub "$jsmsgs" msgs_per_sec

printf '\n| Row | Ours (median) | nats.go (median) | Ratio (median of %s) | Target |\n' "$reps"
printf '|---|---|---|---|---|\n'
printf '| publish 1M x 16 B, untraced | %.0f msg/s | %.0f msg/s | %s | ≥ 0.9 |\n' \
  "$(med pub.ours.msgs_per_sec)" "$(med pub.theirs.msgs_per_sec)" "$(med pub.ratio)"
printf '| publish, trace context in headers | %.0f msg/s | %.0f msg/s (header set) | %s | ≥ 3.5 and ≥ 4,000,000 msg/s |\n' \
  "$(med hdr.ours.msgs_per_sec)" "$(med hdr.theirs.msgs_per_sec)" "$(med hdr.ratio)"
printf '| traced pub→sub, headers written and read | %.0f msg/s | %.0f msg/s | %s | ≥ 4 and ≥ 1,000,000 msg/s |\n' \
  "$(med pubsub.ours.msgs_per_sec)" "$(med pubsub.theirs.msgs_per_sec)" "$(med pubsub.ratio)"
rr_p99_ratio=$(ratio "$(med rr.ours.p99_us)" "$(med rr.theirs.p99_us)")
printf '| request-reply p50 / p99 (µs) | %s / %s | %s / %s | %s / %s (ours ÷ theirs) | ≤ 1 |\n' \
  "$(med rr.ours.p50_us)" "$(med rr.ours.p99_us)" "$(med rr.theirs.p50_us)" \
  "$(med rr.theirs.p99_us)" "$(med rr.ratio)" "$rr_p99_ratio"
printf '| JetStream async publish, %s x 16 B | %.0f msg/s | %.0f msg/s | %s | ≥ 1 |\n' \
  "$jsmsgs" "$(med js.ours.msgs_per_sec)" "$(med js.theirs.msgs_per_sec)" "$(med js.ratio)"
printf '| publisher peak RSS, 1M messages | %.1f MB untraced, %.1f MB traced | | | ≤ 20 MB |\n' \
  "$(awk -v k="$(med pub.ours.rss)" 'BEGIN {print k/1024}')" \
  "$(awk -v k="$(med hdr.ours.rss)" 'BEGIN {print k/1024}')"
