#!/usr/bin/env bash
# Installs the npm test servers the Kinesis and S3 tests start on loopback
# (kinesalite, kinesis-mock, s3rver), ajv with js-yaml (the JSON Schema test)
# and DuckDB (@duckdb/node-api, which reads the archive's Parquet files in
# tests/operators/archive/parquet_duckdb_test.cc), pinned by
# tests/servers/package-lock.json.
# Quiet and idempotent: npm runs only when node_modules is missing or older
# than the lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/servers"

installed=node_modules/.package-lock.json
if [ -f "$installed" ] && [ ! package-lock.json -nt "$installed" ] &&
   [ -x node_modules/.bin/kinesalite ] && [ -f node_modules/kinesis-local/main.js ] &&
   [ -x node_modules/.bin/s3rver ] &&
   [ -f node_modules/ajv/dist/2020.js ] && [ -f node_modules/js-yaml/index.js ] &&
   [ -f node_modules/@duckdb/node-api/lib/index.js ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "test-servers: npm not found (run scripts/setup.sh)" >&2
  exit 1
fi
echo "test-servers: installing kinesalite, kinesis-mock, s3rver, ajv and duckdb (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >/dev/null
# npm ci may keep the lock file's mtime: mark the install as current.
touch "$installed"
