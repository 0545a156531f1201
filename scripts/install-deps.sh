#!/usr/bin/env bash
# Installs everything otlp-cpp needs to build, test and run its demo on Debian bookworm.
# Run as root (or with sudo). Idempotent: packages already present are skipped by apt.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  g++ clang libclang-rt-14-dev          # g++ 12, clang 14 (+ sanitizer and libFuzzer runtimes)
  libboost1.81-dev                      # Asio, Beast (header-only parts, compiled once by us)
  libssl-dev zlib1g-dev                 # TLS, gzip
  libgtest-dev libgmock-dev libbenchmark-dev
  nginx                                 # real HTTP server for client integration tests
  libnghttp2-dev                        # HTTP/2 engine (client and server sessions)
  libbrotli-dev libzstd-dev             # br and zstd content decoding
  nlohmann-json3-dev                    # JSON bodies of the HTTP client
  nghttp2-server nghttp2-client         # nghttpd (h2c peer in tests), h2load (bench reference)
  websocketd                            # independent WebSocket server for client tests
  libcurl4-openssl-dev                  # libcurl: the in-process reference of the HTTP bench
  libsqlite3-dev                        # otlp view's store
  chromium                              # the browser test of otlp view's web UI (playwright-core)
  golang-go golang-github-nats-io-nats-server-dev  # nats-server, built from source for the tests
  golang-github-nats-io-go-nats-dev     # nats.go: the reference of the NATS benchmark
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the official OpenTelemetry JS decoder in the conformance tests. Images that
# already ship node and npm keep theirs (Debian's npm package conflicts with a newer npm).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx's package starts a default server on :80; tests run their own instances only.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
if [ -f /run/nginx.pid ]; then nginx -s stop >/dev/null 2>&1 || true; fi
echo "install-deps: ok"
