#!/usr/bin/env bash
# Runs schemathesis (every check; scripts/schemathesis/schemathesis.toml) against the served OpenAPI document of a real gateway on port 0
# (`cargo run -- serve`, the embedded simulator, in-memory stores, limits raised so the run is not one
# long 429). 0 failures required: every request the spec allows is accepted (no "schema-valid request
# rejected"), every request it forbids is refused, every answer matches its schema, and no 5xx.
# Needs: python3 + pip (schemathesis is installed when missing, pinned below). Run by .ci/run.
# Env: ST_MAX_EXAMPLES (examples per operation, default 40), ST_SEED (fixed seed; printed either way),
#      ST_ARGS (more schemathesis options, word-split), CARGO_TARGET_DIR as usual. Extra args go to cargo (e.g. --release).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/gateway.sh
. scripts/lib/gateway.sh
ST_VERSION=4.32.5
if ! schemathesis --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

WORK=$(mktemp -d)
cat > "$WORK/schemathesis.toml" <<TOML
[server]
listen = "127.0.0.1:0"
drain_delay_ms = 0
shutdown_timeout_s = 2

[log]
filter = "warn"

# Thousands of requests from one tenant in a few minutes: the limits are not what this run tests.
[rate_limit.classes]
read = { rate_per_s = 100000.0, burst = 100000 }
write = { rate_per_s = 100000.0, burst = 100000 }
sensitive = { rate_per_s = 100000.0, burst = 100000 }
heavy = { rate_per_s = 100000.0, burst = 100000 }
TOML

start_gateway "$WORK/schemathesis.toml" auto "$@"
# The bearer token, for the document's `bearer` scheme (schemathesis.toml reads it from the environment).
CARD_GATEWAY_TOKEN=$(gateway_token schemathesis 60m)
export CARD_GATEWAY_TOKEN
SEED=${ST_SEED:-$RANDOM$RANDOM}
echo "schemathesis against $GW_URL (seed $SEED; ST_SEED=$SEED reproduces)"
SCHEMATHESIS_HOOKS=card_gateway_hooks PYTHONPATH=scripts/schemathesis schemathesis --no-color --config-file scripts/schemathesis/schemathesis.toml run "$GW_URL/api-docs/openapi.json" \
  --url "$GW_URL" \
  --max-examples "${ST_MAX_EXAMPLES:-40}" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  ${ST_ARGS:-}
