#!/usr/bin/env bash
# Idempotency and rate-limit overhead, end to end against the running gateway (release build, embedded
# simulator), all measured in one run so the ratios compare like with like on this noisy machine:
#   A. first executions (a fresh Idempotency-Key per request) — idempotency + rate limiting on
#   B. replays (one completed key)                             — idempotency + rate limiting on
#   C. first executions with idempotency and rate limiting off (benchmark-only switch)
# Usage: bench/idempotency.sh [seconds=15] [connections=16]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}; CONNS=${2:-16}; PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
cargo build --release --quiet --bins
BIN=target/release/card-gateway
OUT=bench/results; mkdir -p "$OUT"

common_env() {
  export CARD_GATEWAY__SERVER__LISTEN=127.0.0.1:$PORT
  export CARD_GATEWAY__LOG__FILTER=warn
  export CARD_GATEWAY__RATE_LIMIT__CLASSES__WRITE="{rate_per_s=1000000.0,burst=1000000}"
  export CARD_GATEWAY__RATE_LIMIT__CLASSES__READ="{rate_per_s=1000000.0,burst=1000000}"
}

start() { # $1 = extra env assignments
  ( common_env; eval "$1"; exec "$BIN" serve ) > "$OUT/gateway.log" 2>&1 &
  GW=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "gateway did not start"; cat "$OUT/gateway.log"; exit 1
}
stop() { kill "$GW" 2>/dev/null || true; wait "$GW" 2>/dev/null || true; }
trap stop EXIT

new_card() {
  curl -fs "http://127.0.0.1:$PORT/v1/cards" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: card-$RANDOM$RANDOM" -d '{"bin":"222929","currency":"USD","limit":"10.00"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

run() { # $1 label, $2 script
  echo "== $1"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "bench/$2" "http://127.0.0.1:$PORT" | tee "$OUT/$1.txt"
}

summary() { # label → "req/s p50 p99 non2xx"
  local f="$OUT/$1.txt"
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$f")
  p50=$(awk '/ 50%/ {print $2}' "$f"); p99=$(awk '/ 99%/ {print $2}' "$f")
  errs=$(awk '/Non-2xx/ {print $5}' "$f"); echo "$rps ${p50} ${p99} ${errs:-0}"
}

TOKEN=$("$BIN" token --tenant bench --ttl 1h); export TOKEN
start ""
CARD=$(new_card); export PATH_URL="/v1/cards/$CARD/recharges"
export RUN="first-$RANDOM"; run first-execution recharge-unique.lua
export KEY="replay-$RANDOM"
curl -fs "http://127.0.0.1:$PORT$PATH_URL" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: $KEY" -d '{"amount":"0.01"}' >/dev/null
run replay recharge-replay.lua
stop
start "export CARD_GATEWAY__RATE_LIMIT__ENABLED=false CARD_GATEWAY__IDEMPOTENCY__ENABLED=false"
CARD=$(new_card); export PATH_URL="/v1/cards/$CARD/recharges"
export RUN="off-$RANDOM"; run first-execution-off recharge-unique.lua
stop

read -r A_RPS A_P50 A_P99 A_ERR <<<"$(summary first-execution)"
read -r B_RPS B_P50 B_P99 B_ERR <<<"$(summary replay)"
read -r C_RPS C_P50 C_P99 C_ERR <<<"$(summary first-execution-off)"
echo
echo "| run | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
echo "| first execution (idempotency + limits on) | $A_RPS | $A_P50 | $A_P99 | $A_ERR |"
echo "| replay (same key) | $B_RPS | $B_P50 | $B_P99 | $B_ERR |"
echo "| first execution (idempotency + limits off) | $C_RPS | $C_P50 | $C_P99 | $C_ERR |"
python3 - "$A_RPS" "$B_RPS" "$C_RPS" <<'PY'
import sys
a, b, c = map(float, sys.argv[1:])
print(f"\nreplay / first execution throughput: {b / a:.2f}x")
print(f"first execution with idempotency+limits on / off: {a / c:.2f}x")
PY
