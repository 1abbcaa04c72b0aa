#!/usr/bin/env bash
# PGO training run: drives an instrumented Sluice through the traffic shapes of the bench
# (HTTP/1 keep-alive and close, TCP, TLS keep-alive and handshakes, HTTP/2 over TLS and in
# clear) with the configurations in bench/pgo-train, against three local nginx backends.
# Self-contained, so a release can be built without the shared bench harness.
#
#   bash bench/pgo-train.sh INSTRUMENTED_SLUICE
#
# Needs nginx, wrk, h2load and openssl (apt-get install nginx wrk nghttp2-client openssl).
# Environment: PGO_SECONDS (per load, default 5), PGO_PORT (default 18180; the backends
# take the next three ports).
set -euo pipefail
bin=$1
secs=${PGO_SECONDS:-5}
port=${PGO_PORT:-18180}
here=$(cd "$(dirname "$0")" && pwd)
for tool in nginx wrk h2load openssl; do
  if ! command -v "$tool" > /dev/null && ! [ -x "/usr/sbin/$tool" ]; then
    echo "pgo-train: needs $tool (apt-get install nginx wrk nghttp2-client openssl)" >&2
    exit 1
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
proxy_pid=""
cleanup() {
  if [ -n "$proxy_pid" ]; then kill -TERM "$proxy_pid" 2> /dev/null || true; fi
  if [ -s "$work/nginx.pid" ]; then kill -TERM "$(cat "$work/nginx.pid")" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Backends: one nginx worker answering on three ports, keep-alive without limit.
{
  echo "worker_processes 1;"
  echo "pid $work/nginx.pid;"
  echo "error_log $work/nginx-error.log warn;"
  echo "events { worker_connections 4096; }"
  echo "http {"
  echo "  access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/tmp-$t;"; done
  echo "  keepalive_requests 10000000;"
  echo "  keepalive_timeout 300s;"
  echo "  default_type text/plain;"
  for i in 1 2 3; do
    echo "  server { listen 127.0.0.1:$((port + i)); location / { return 200 \"hello from $i\\n\"; } }"
  done
  echo "}"
} > "$work/nginx.conf"
"$nginx_bin" -q -p "$work" -c "$work/nginx.conf"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" > /dev/null 2>&1
cat "$work/cert.pem" "$work/key.pem" > "$work/cert+key.pem"

port_open() { (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; }

# run CONFIG LOAD...: Sluice with bench/pgo-train/CONFIG.cfg under the load command.
run() {
  local name=$1
  shift
  sed -e "s/{{PORT}}/$port/g; s/{{THREADS}}/1/g; s/{{MAXCONN}}/4000/g" \
    -e "s/{{BACKEND1}}/$((port + 1))/g; s/{{BACKEND2}}/$((port + 2))/g; s/{{BACKEND3}}/$((port + 3))/g" \
    -e "s#{{CERT_PEM}}#$work/cert+key.pem#g" "$here/pgo-train/$name.cfg" > "$work/$name.cfg"
  "$bin" -db -f "$work/$name.cfg" --threads 1 > /dev/null 2> "$work/$name.err" &
  proxy_pid=$!
  for _ in $(seq 100); do port_open && break; sleep 0.1; done
  if ! port_open; then
    echo "pgo-train: sluice did not come up with $name.cfg:" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  echo "pgo-train: $name: $*"
  "$@" > /dev/null
  kill -TERM "$proxy_pid"
  # The profile is written as the process exits.
  wait "$proxy_pid" || true
  proxy_pid=""
}

plain=http://127.0.0.1:$port/
tls=https://127.0.0.1:$port/
run http wrk -t1 -c64 -d"${secs}s" "$plain"
run http wrk -t1 -c64 -d"${secs}s" -H "Connection: close" "$plain"
run tcp wrk -t1 -c64 -d"${secs}s" "$plain"
run tls wrk -t1 -c64 -d"${secs}s" "$tls"
run tls wrk -t1 -c16 -d"${secs}s" -H "Connection: close" "$tls"
run h2 h2load -c64 -m10 -D"$secs" "$tls"
run h2c h2load -c64 -m10 -D"$secs" "$plain"
