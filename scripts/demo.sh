#!/usr/bin/env bash
# The main job, on a fresh Debian bookworm machine: installs what it needs, builds otlp-cpp and
# runs `otlp demo` — five traced services (frontend, orders over HTTP/2 with a retried 503,
# inventory with an out-of-stock error, notifications over WebSocket, and a fulfillment worker on
# NATS: queue group, request-reply, JetStream, KV, Object Store) and a client placing one order,
# all received by the built-in `otlp view`: the trace is printed as a waterfall and served in the
# web UI (its address is printed) until Ctrl-C. nats-server is built from Debian's Go sources and
# started (and stopped) by the demo.
#
#   scripts/demo.sh            # keeps serving the web UI until Ctrl-C
#   scripts/demo.sh --once     # prints the trace and exits (for scripts and CI)
#   scripts/demo.sh --endpoint http://collector:4318   # to your own collector instead
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "building otlp (log: build/demo-build.log)"
cmake --build build --target otlp -j "$(nproc)" >build/demo-build.log 2>&1 ||
  { tail -40 build/demo-build.log; exit 1; }
echo "building nats-server from Debian's Go sources"
scripts/build-nats-server.sh build/nats-server/nats-server >>build/demo-build.log 2>&1 ||
  { tail -20 build/demo-build.log; exit 1; }

exec "$root/build/tools/otlp/otlp" demo "$@"
