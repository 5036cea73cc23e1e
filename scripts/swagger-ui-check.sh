#!/usr/bin/env bash
# Checks that Swagger UI really renders and that its Authorize button works with a printed token:
# starts the gateway, drives Debian's Chromium with playwright-core (installed into a temp dir, not
# the repo), authorizes, executes GET /v1/card-bins, prints the operation count and the status, and
# saves screenshots: the whole page (SHOT), the test-helpers tag and the CreateCardholder model with
# its constraints (beside SHOT: *-test-helpers.png, *-constraints.png). Needs: apt-get install chromium;
# node + npm. Env: PORT, SHOT (/tmp/swagger-ui.png), CARGO_TARGET_DIR as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18181}
cargo build --quiet --bin card-gateway
BIN="${CARGO_TARGET_DIR:-target}/debug/card-gateway"
CARD_GATEWAY__SERVER__LISTEN=127.0.0.1:$PORT CARD_GATEWAY__LOG__FILTER=warn "$BIN" > /tmp/swagger-check-gw.log 2>&1 &
GW=$!; trap 'kill $GW 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$("$BIN" token --tenant demo)
DIR=$(mktemp -d); cp scripts/swagger-ui-check.js "$DIR/"
(cd "$DIR" && npm init -y >/dev/null && npm install --silent playwright-core@1 >/dev/null)
(cd "$DIR" && BASE="http://127.0.0.1:$PORT" TOKEN="$TOKEN" SHOT="${SHOT:-/tmp/swagger-ui.png}" node swagger-ui-check.js)
echo "screenshot: ${SHOT:-/tmp/swagger-ui.png}"
