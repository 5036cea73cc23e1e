# Sourced by the scripts that check the gateway from outside (browser CORS check, TypeScript quickstart):
# starts `card-gateway serve` on the embedded simulator with a config, waits for /healthz, stops it on exit.
#
#   WORK=$(mktemp -d); write "$WORK/gateway.toml" (its [server] listen = 127.0.0.1:$GW_PORT)
#   start_gateway "$WORK/gateway.toml" "http://127.0.0.1:$GW_PORT" "$@"   # extra args go to cargo
#   TOKEN=$(gateway_token demo)
#
# With listen = "127.0.0.1:0" pass `auto` as the URL: the port the OS chose is read from the banner
# ("card-gateway listening on http://…") and GW_URL is set to it.
#
# The gateway's log is $WORK/gateway.log; WORK is removed on exit.

start_gateway() {
  GW_CONFIG=$1
  GW_URL=$2
  shift 2
  GW_CARGO_ARGS=("$@")
  cargo build --quiet --bin card-gateway "${GW_CARGO_ARGS[@]}"
  cargo run --quiet --bin card-gateway "${GW_CARGO_ARGS[@]}" -- --config "$GW_CONFIG" serve > "$WORK/gateway.log" 2>&1 &
  GW_PID=$!
  trap stop_gateway EXIT
  for _ in $(seq 150); do
    if [ "$GW_URL" = auto ]; then
      local url
      url=$(sed -n 's/^card-gateway listening on \(http[^ ]*\).*/\1/p' "$WORK/gateway.log" | head -1)
      [ -n "$url" ] && GW_URL=$url
    fi
    [ "$GW_URL" != auto ] && curl -fs "$GW_URL/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$GW_PID" 2>/dev/null || { echo "the gateway did not start:"; cat "$WORK/gateway.log"; exit 1; }
    sleep 0.2
  done
  curl -fs "$GW_URL/healthz" >/dev/null || { echo "the gateway did not answer /healthz:"; cat "$WORK/gateway.log"; exit 1; }
}

stop_gateway() {
  kill "$GW_PID" 2>/dev/null || true
  wait "$GW_PID" 2>/dev/null || true
  rm -rf "$WORK"
}

# A development token for tenant $1 (all tenant scopes), valid $2 (default 10m).
gateway_token() {
  cargo run --quiet --bin card-gateway "${GW_CARGO_ARGS[@]}" -- --config "$GW_CONFIG" token --tenant "$1" --ttl "${2:-10m}"
}
