#!/usr/bin/env bash
# Runs the TypeScript quickstart (examples/quickstart.ts) against a real gateway, for CI (issue 11 item 4):
# starts `card-gateway serve` (the embedded merchant simulator, in-memory stores; card recharges answered
# asynchronously so the example follows a 202 operation), mints a development token for tenant `demo`,
# compiles the client and the example with tsc into dist/, runs it with node, and stops the gateway.
# Exit code: the example's (or 1 when the gateway does not start).
# Needs: cargo, node >= 20 + npm (npm ci from the committed package-lock.json).
# Env: GW_PORT (18390), ASYNC_RECHARGE (1: the simulator answers recharges `async`, so the gateway gives 202;
# 0: synchronous 200), CARGO_TARGET_DIR as usual. Extra arguments go to cargo (e.g. --offline).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/../.."
GW_PORT=${GW_PORT:-18390}
GATEWAY="http://127.0.0.1:$GW_PORT"
if [ "${ASYNC_RECHARGE:-1}" = 1 ]; then ASYNC_OPS='["card_recharge"]'; else ASYNC_OPS='[]'; fi

[ -d "$HERE/node_modules/openapi-fetch" ] || (cd "$HERE" && npm ci --silent --no-audit --no-fund)
(cd "$HERE" && rm -rf dist && npx --no-install tsc -p .)

WORK=$(mktemp -d)
cat > "$WORK/ts-example.toml" <<TOML
[server]
listen = "127.0.0.1:$GW_PORT"
drain_delay_ms = 0
shutdown_timeout_s = 2

[log]
filter = "warn"

[simulator]
async_operations = $ASYNC_OPS
async_delay_ms = 300
TOML

cargo build --quiet --bin card-gateway "$@"
cargo run --quiet --bin card-gateway "$@" -- --config "$WORK/ts-example.toml" serve > "$WORK/gateway.log" 2>&1 &
GW=$!
cleanup() {
  kill "$GW" 2>/dev/null || true
  wait "$GW" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 150); do
  curl -fs "$GATEWAY/healthz" >/dev/null 2>&1 && break
  kill -0 "$GW" 2>/dev/null || { echo "the gateway did not start:"; cat "$WORK/gateway.log"; exit 1; }
  sleep 0.2
done
curl -fs "$GATEWAY/healthz" >/dev/null || { echo "the gateway did not answer /healthz:"; cat "$WORK/gateway.log"; exit 1; }

TOKEN=$(cargo run --quiet --bin card-gateway "$@" -- --config "$WORK/ts-example.toml" token --tenant demo --ttl 10m)
set +e
CARD_GATEWAY_URL="$GATEWAY" CARD_GATEWAY_TOKEN="$TOKEN" node "$HERE/dist/examples/quickstart.js"
CODE=$?
set -e
if [ "$CODE" != 0 ]; then echo "--- gateway log ---"; tail -50 "$WORK/gateway.log"; fi
exit "$CODE"
