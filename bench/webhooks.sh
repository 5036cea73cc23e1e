#!/usr/bin/env bash
# Webhook throughput and latency benchmark (not a test).
#
# Runs examples/webhook_bench.rs in release mode twice: event log on Redis (a private redis-server on a free
# port, started and stopped here) and in memory. Each run prints a baseline (GET /healthz on the same server,
# same concurrency), inbound webhooks/s sustained until every webhook was acknowledged, and the end-to-end
# latency from the platform's POST to the tenant receiver (p50/p99), at saturation and at a paced rate.
#
#   bench/webhooks.sh                 # defaults: BENCH_N=5000 BENCH_CONCURRENCY=32
#   BENCH_N=20000 bench/webhooks.sh
#
# Everything runs on 127.0.0.1; the generator, gateway, receiver and Redis share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

export BENCH_N="${BENCH_N:-5000}" BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-32}" BENCH_RATE="${BENCH_RATE:-200}" BENCH_LAT_N="${BENCH_LAT_N:-1000}"
cargo build --release --example webhook_bench

if command -v redis-server >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
  redis_pid=$!
  trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== event log on Redis =="
  BENCH_REDIS_URL="redis://127.0.0.1:$port/0" target/release/examples/webhook_bench
  kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; trap - EXIT
else
  echo "!!! redis-server not installed: skipping the Redis run (apt-get install redis-server)"
fi
echo "== event log in memory =="
BENCH_REDIS_URL="" target/release/examples/webhook_bench
