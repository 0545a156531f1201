#!/usr/bin/env bash
# Builds nats-server 2.9 from Debian's Go sources (golang-github-nats-io-nats-server-dev, with
# golang-go), offline, into the given path (default build/nats-server/nats-server). The NATS
# tests, the benchmarks and the demo run this server. A binary newer than the sources is kept.
set -euo pipefail
out=${1:-build/nats-server/nats-server}
src=/usr/share/gocode/src/github.com/nats-io/nats-server
if [ ! -d "$src" ] || ! command -v go >/dev/null 2>&1; then
  echo "build-nats-server: needs golang-go and golang-github-nats-io-nats-server-dev" \
       "(scripts/install-deps.sh installs them)" >&2
  exit 1
fi
if [ -x "$out" ] && [ "$out" -nt "$src/main.go" ]; then exit 0; fi
mkdir -p "$(dirname "$out")"
cache="$(cd "$(dirname "$out")" && pwd)/go-cache"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$cache" GOFLAGS= \
  go build -o "$out.tmp" github.com/nats-io/nats-server
mv "$out.tmp" "$out"
