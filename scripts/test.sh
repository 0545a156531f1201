#!/usr/bin/env bash
# Runs every otlp-cpp test on a fresh Debian bookworm machine (installs what it needs first):
#   1. g++ build (warnings are errors): unit, integration, conformance and CLI tests
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same suite
#   3. clang build with ThreadSanitizer: the same suite
#   4. libFuzzer (clang): the header-extraction and OTLP request decoder fuzz targets, a fixed
#      number of runs each
# Usage: scripts/test.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/install-deps.sh

# The official OpenTelemetry JS packages that decode our OTLP in the conformance tests.
if [ -f tests/conformance/package.json ]; then
  (cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)
fi
# playwright-core drives Debian's chromium in the browser test of otlp view's web UI.
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)  # JS SDK + OTLP exporters
(cd tests/nats-interop && npm ci --no-audit --no-fund --loglevel=error)  # the NATS JS client

summary=()
total_pass=0
total_fail=0

run_ctest() {  # name build-dir ctest-args...
  local name=$1 dir=$2
  shift 2
  local log="$dir/ctest.log"
  set +e
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E '[0-9]+% tests passed' "$log" | tail -1 || true)
  local failed passed_total
  failed=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/p' <<<"$line")
  passed_total=$(sed -nE 's/.* tests failed out of ([0-9]+).*/\1/p' <<<"$line")
  failed=${failed:-0}
  passed_total=${passed_total:-0}
  total_pass=$((total_pass + passed_total - failed))
  total_fail=$((total_fail + failed))
  summary+=("$name: $line")
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
}

configure_build() {  # dir cmake-args...
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

echo "=== [1/4] g++ build + full suite"
configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ -DOTLP_WERROR=ON
run_ctest "g++" build

echo "=== install, then build a program with find_package(otlp)"
prefix=$(mktemp -d)
if cmake --install build --prefix "$prefix" >/dev/null &&
   cmake -S tests/install -B "$prefix/check" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
   cmake --build "$prefix/check" >/dev/null &&
   "$prefix/check/app" 2>&1 | grep -q 'span "installed"'; then
  total_pass=$((total_pass + 1)); summary+=("install: find_package(otlp) consumer builds and exports")
else
  total_fail=$((total_fail + 1)); summary+=("install: find_package(otlp) consumer FAILED")
fi
rm -rf "$prefix"

if [ "${1:-}" != "--quick" ]; then
  echo "=== [2/4] clang + ASan + UBSan"
  configure_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DOTLP_SANITIZE=address,undefined -DOTLP_WERROR=ON -DOTLP_BUILD_BENCHMARKS=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp" \
    run_ctest "asan+ubsan" build-asan

  echo "=== [3/4] clang + TSan: the same suite"
  configure_build build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DOTLP_SANITIZE=thread -DOTLP_WERROR=ON -DOTLP_BUILD_BENCHMARKS=OFF
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/sanitizers/tsan.supp" \
    run_ctest "tsan" build-tsan

  echo "=== [4/4] libFuzzer: header extraction, OTLP request decoder, NATS protocol parser"
  configure_build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DOTLP_BUILD_FUZZERS=ON -DOTLP_WITH_NET=OFF -DOTLP_BUILD_TESTS=OFF \
    -DOTLP_BUILD_BENCHMARKS=OFF -DOTLP_BUILD_TOOLS=OFF
  run_fuzzer() {  # target corpus-folder runs
    local target=$1 seeds=$2 runs=$3 corpus rc
    corpus=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$seeds/." "$corpus/"
    set +e
    "build-fuzz/tests/fuzz/$target" -runs="$runs" -max_len=4096 -seed=1 "$corpus" \
      > "build-fuzz/$target.log" 2>&1
    rc=$?
    set -e
    rm -rf "$corpus"
    tail -3 "build-fuzz/$target.log"
    if [ "$rc" -eq 0 ]; then
      total_pass=$((total_pass + 1)); summary+=("fuzz: $target $runs runs, no crash")
    else
      total_fail=$((total_fail + 1)); summary+=("fuzz: $target FAILED (see build-fuzz/$target.log)")
    fi
  }
  run_fuzzer propagation_fuzz propagation 50000
  run_fuzzer otlp_decoder_fuzz otlp_decoder 100000
  run_fuzzer nats_parser_fuzz nats_parser 200000
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
