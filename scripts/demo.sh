#!/usr/bin/env bash
# The main job, on a fresh Debian bookworm machine: installs what it needs, builds otlp-cpp,
# starts an OTLP/HTTP receiver that decodes with the official OpenTelemetry JS definitions,
# traces a small shell pipeline with `otlp exec` / `otlp span`, and prints the spans the
# receiver got (as a tree), then the same spans as the console exporter writes them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
(cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "building otlp (log: build/demo-build.log)"
cmake --build build --target otlp -j "$(nproc)" >build/demo-build.log 2>&1 ||
  { tail -40 build/demo-build.log; exit 1; }
otlp="$root/build/tools/otlp/otlp"

work=$(mktemp -d)
out="$work/received.jsonl"
coproc RECEIVER { exec node tests/conformance/receiver.js --out="$out" --exit-on-stdin-eof; }
read -r port <&"${RECEIVER[0]}"
cleanup() { kill "$RECEIVER_PID" 2>/dev/null || true; wait "$RECEIVER_PID" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port"
export OTEL_SERVICE_NAME=otlp-demo
export OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=demo"
export PATH="$root/build/tools/otlp:$PATH"

echo "=== tracing a build-like script (receiver on 127.0.0.1:$port)"
otlp exec --name "demo pipeline" --attr demo.run=1 -- sh -c '
  echo "  child sees TRACEPARENT=$TRACEPARENT"
  step=$(otlp span --name "fetch sources" --kind client --attr url.full=https://example.invalid/src.tar)
  TRACEPARENT=$step otlp span --name "verify checksum" --attr file.size:int=1048576 >/dev/null
  otlp exec --name "compile" -- sh -c "for i in 1 2 3; do :; done"
  otlp exec --name "run tests" -- sh -c "exit 3" || echo "  tests exited with $? (span marked as error)"
'

echo
echo "=== spans received by the OTLP/HTTP receiver (decoded by @opentelemetry/otlp-transformer)"
node tests/conformance/print_spans.js "$out"

echo
echo "=== the same kind of span through the console exporter (OTEL_TRACES_EXPORTER=console)"
OTEL_TRACES_EXPORTER=console otlp span --name "console demo" --attr k=v >/dev/null
