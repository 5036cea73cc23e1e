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
# shellcheck source=../../scripts/lib/gateway.sh
. scripts/lib/gateway.sh
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

start_gateway "$WORK/ts-example.toml" "$GATEWAY" "$@"
TOKEN=$(gateway_token demo)
set +e
CARD_GATEWAY_URL="$GATEWAY" CARD_GATEWAY_TOKEN="$TOKEN" node "$HERE/dist/examples/quickstart.js"
CODE=$?
set -e
if [ "$CODE" != 0 ]; then echo "--- gateway log ---"; tail -50 "$WORK/gateway.log"; fi
exit "$CODE"
