#!/usr/bin/env bash
# Installs the Debian 12 packages vigil builds and tests with. Safe to re-run:
# it only calls apt-get when something is missing.
#
#   scripts/setup.sh          # everything: the build's and the tests'
#   scripts/setup.sh build    # only what configuring and building need
#                             # (scripts/test.sh installs the rest meanwhile)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  librdkafka-dev libboost1.81-dev libabsl-dev prometheus-cpp-dev libyaml-cpp-dev
  libsimdjson-dev libzstd-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcrypt-dev  # bcrypt (crypt_r)
  libpq-dev  # the results database
  libre2-dev  # Go-syntax regular expressions of annotation templates (reReplaceAll, match)
  clang-format  # scripts/check-format.sh (scripts/test.sh)
)
test_packages=(
  zstd curl time openssl  # openssl: test certificates
  postgresql  # the server the results database's tests start
  procps  # ps and pgrep: tests/runtime/allocator_test.cc checks the process name
  tzdata  # time zones of silences' time_intervals (location:) and of calendar windows
  groff-base  # renders vigil man in tests/runtime/cli_help_test.cc
  kcat prometheus prometheus-alertmanager
  chromium  # headless, renders the status page in tests/runtime/status_page_test.cc
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and the sanitizers
  clang-tidy  # scripts/lint.sh
)
case "${1:-}" in
  "") packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  build) packages=("${build_packages[@]}") ;;
  *)
    echo "usage: scripts/setup.sh [build]" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js runs the Kinesis-API test servers (npm packages). A Node.js from
# another origin (e.g. NodeSource, which bundles npm) is used as it is.
if [ -z "${1:-}" ] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
