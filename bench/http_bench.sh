#!/usr/bin/env bash
# The HTTP performance rows of issue 10, each beside its reference measured in the same run:
# starts nginx on free loopback ports (plain HTTP/1.1, and TLS with HTTP/2) with a temporary
# config, docroot and self-signed certificate, pins nginx and the benchmark to one core (the
# issue's condition: cross-core wake-ups in these VMs cost ~100 µs), runs bench/http_bench.cc
# row by row, and stops nginx.
#
#   bench/http_bench.sh [build-dir] [--quick]     (default build-dir: build-bench)
#
# --quick: 200 requests per loop and a 64 MiB download instead of 1,000 and 1 GiB. Finer
# control through the environment: HTTP_BENCH_N, HTTP_BENCH_REPS (≥ 5), HTTP_BENCH_BURSTS
# (≥ 20), HTTP_BENCH_SIZE_MB, HTTP_BENCH_CORE (the core to pin to, default 0), HTTP_BENCH_ROWS
# (a subset of "seq burst stream idle": rows 1+5, 2, 3, 4).
# A row whose tool is missing (nginx, openssl, h2load, curl, taskset) says so and the others
# still run; the exit status is non-zero when a row failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

dir=build-bench
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) dir=$arg ;;
  esac
done
n=${HTTP_BENCH_N:-$([ $quick = 1 ] && echo 200 || echo 1000)}
reps=${HTTP_BENCH_REPS:-5}
bursts=${HTTP_BENCH_BURSTS:-20}
size_mb=${HTTP_BENCH_SIZE_MB:-$([ $quick = 1 ] && echo 64 || echo 1024)}
core=${HTTP_BENCH_CORE:-0}
rows=" ${HTTP_BENCH_ROWS:-seq burst stream idle} "

bench="$dir/bench/http_bench"
if [ ! -x "$bench" ]; then
  cmake --build "$dir" --target http_bench >/dev/null 2>&1 || true
fi
if [ ! -x "$bench" ]; then
  echo "HTTP rows not run: $bench is not built (it needs libcurl: Debian libcurl4-openssl-dev)"
  exit 0
fi
for tool in nginx openssl; do
  if ! command -v "$tool" >/dev/null; then
    echo "HTTP rows not run: $tool is not installed"
    exit 0
  fi
done
pin=()
if command -v taskset >/dev/null; then
  pin=(taskset -c "$core")
else
  echo "(taskset not installed: client and nginx are NOT pinned to one core)"
fi
command -v h2load >/dev/null || echo "(h2load not installed, Debian nghttp2-client: row 2 has no reference)"
command -v curl >/dev/null || echo "(curl not installed: row 3 has no reference)"

tmp=$(mktemp -d)
chmod 755 "$tmp"  # nginx workers run as another user when started by root
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A loopback port nothing listens on (bound by nginx right after; a race is reported below).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  return 1
}

mkdir -p "$tmp/www" "$tmp/temp"
chmod 755 "$tmp/www"
head -c 100 /dev/zero | tr '\0' 'x' >"$tmp/www/100b"
truncate -s "$((size_mb * 1024 * 1024))" "$tmp/www/big"  # sparse: no disk, read as zeros
chmod 644 "$tmp/www/100b" "$tmp/www/big"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >"$tmp/openssl.log" 2>&1; then
  echo "HTTP rows not run: openssl could not make a certificate"; cat "$tmp/openssl.log"
  exit 1
fi
http_port=$(free_port)
https_port=$(free_port)
while [ "$https_port" = "$http_port" ]; do https_port=$(free_port); done
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $tmp/temp/body;
  proxy_temp_path $tmp/temp/proxy;
  fastcgi_temp_path $tmp/temp/fastcgi;
  uwsgi_temp_path $tmp/temp/uwsgi;
  scgi_temp_path $tmp/temp/scgi;
  server {
    listen 127.0.0.1:$http_port;
    listen 127.0.0.1:$https_port ssl http2;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    root $tmp/www;
  }
}
EOF
"${pin[@]}" nginx -c "$tmp/nginx.conf" -p "$tmp/" -e "$tmp/error.log" >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
up=0
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null &&
     (exec 3<>"/dev/tcp/127.0.0.1/$https_port") 2>/dev/null; then
    up=1; break
  fi
  kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.1
done
if [ $up != 1 ]; then
  echo "HTTP rows not run: nginx did not start"; cat "$tmp/nginx.out" "$tmp/error.log" 2>/dev/null
  exit 1
fi

http="http://127.0.0.1:$http_port"
https="https://127.0.0.1:$https_port"
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $http and $https (TLS, h2 by ALPN); client and" \
     "nginx pinned to core $core; load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
run() {
  [[ "$rows" == *" $1 "* ]] || return 0
  echo
  "${pin[@]}" "$bench" "$@" || { status=1; echo "   (this row failed)"; }
}
run seq --http "$http/100b" --https "$https/100b" --ca "$tmp/cert.pem" --n "$n" --reps "$reps"
run burst --https "$https/100b" --ca "$tmp/cert.pem" --bursts "$bursts" --reps "$reps"
run stream --http "$http/big" --https "$https/big" --ca "$tmp/cert.pem" \
  --size "$((size_mb * 1024 * 1024))" --reps "$reps"
run idle --http "$http/100b" --reps "$reps"
exit $status
