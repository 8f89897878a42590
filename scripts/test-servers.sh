#!/usr/bin/env bash
# Installs the npm test servers the Kinesis tests start on loopback
# (kinesalite, kinesis-mock), pinned by tests/servers/package-lock.json.
# Quiet and idempotent: npm runs only when node_modules is missing or older
# than the lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/servers"

installed=node_modules/.package-lock.json
if [ -f "$installed" ] && [ ! package-lock.json -nt "$installed" ] &&
   [ -x node_modules/.bin/kinesalite ] && [ -f node_modules/kinesis-local/main.js ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "test-servers: npm not found (run scripts/setup.sh)" >&2
  exit 1
fi
echo "test-servers: installing kinesalite and kinesis-mock (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >/dev/null
# npm ci may keep the lock file's mtime: mark the install as current.
touch "$installed"
