#!/usr/bin/env bash
# Drift check of the TypeScript client (issue 11 item 4), run by CI:
#   1. `npm ci` (the committed package-lock.json; exact versions, so generation is reproducible);
#   2. regenerates the types from openapi/openapi.json into a temp file and fails (exit 1, with the diff)
#      when they differ from the committed src/schema.d.ts: after changing the API, run
#      `npm run generate` here and commit src/schema.d.ts with the new openapi/openapi.json;
#   3. type-checks the client and the example: `npx tsc --noEmit -p .` (strict).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --silent --no-audit --no-fund

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
npx --no-install openapi-typescript ../../openapi/openapi.json -o "$TMP/schema.d.ts"
if ! diff -u src/schema.d.ts "$TMP/schema.d.ts" > "$TMP/drift.diff"; then
  echo "clients/typescript/src/schema.d.ts is stale: it differs from what openapi/openapi.json generates." >&2
  echo "Run \`npm run generate\` in clients/typescript and commit the result. Diff (committed → generated):" >&2
  cat "$TMP/drift.diff" >&2
  exit 1
fi
echo "schema.d.ts matches openapi/openapi.json"

npx --no-install tsc --noEmit -p .
echo "tsc --noEmit: ok"
