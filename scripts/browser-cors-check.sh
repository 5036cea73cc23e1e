#!/usr/bin/env bash
# Checks CORS end to end with a real headless Chromium: starts the gateway (`cargo run -- serve`, the
# embedded simulator, in-memory stores) with a config allowing the page origin http://127.0.0.1:$PAGE_PORT,
# mints a development token, runs scripts/browser-cors-check.mjs (a page on that origin fetch()es
# GET /v1/cards with the token and must read X-Request-Id), and stops the gateway.
# Needs: apt-get install -y chromium; node + npm (playwright-core is installed from scripts/package-lock.json).
# Run by .ci/run. Env: GW_PORT (18380), PAGE_PORT (18381), CARGO_TARGET_DIR as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/gateway.sh
. scripts/lib/gateway.sh
GW_PORT=${GW_PORT:-18380}
PAGE_PORT=${PAGE_PORT:-18381}
PAGE_ORIGIN="http://127.0.0.1:$PAGE_PORT"
GATEWAY="http://127.0.0.1:$GW_PORT"

[ -d scripts/node_modules/playwright-core ] || (cd scripts && npm ci --silent --no-audit --no-fund)

WORK=$(mktemp -d)
cat > "$WORK/cors-check.toml" <<EOF
[server]
listen = "127.0.0.1:$GW_PORT"
drain_delay_ms = 0
shutdown_timeout_s = 2

[log]
filter = "warn"

[cors]
allowed_origins = ["$PAGE_ORIGIN"]
EOF

start_gateway "$WORK/cors-check.toml" "$GATEWAY" "$@"
TOKEN=$(gateway_token demo)
node scripts/browser-cors-check.mjs "$GATEWAY" "$TOKEN" "$PAGE_ORIGIN"
