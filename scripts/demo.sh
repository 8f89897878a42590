#!/usr/bin/env bash
# Sets up, builds and runs the embedded demo: the built-in generator at 60x
# speed with scheduled incidents, the reference rules, alerts on the console
# and Prometheus metrics on http://127.0.0.1:9464/metrics. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >&2
exec build/vigil run "$@"
