#!/usr/bin/env bash
# Builds (installing what is missing), then runs the test suite with ctest.
#   scripts/test.sh            every test
#   scripts/test.sh -L unit    a label only (unit, parity, cli, train, gpu)
#   S2M_TORCH=pip scripts/test.sh   the same suite against PyPI's CUDA LibTorch (see build.sh)
#   S2M_BROWSER=1 scripts/test.sh   also installs Debian's chromium (when missing) for the browser
#                                   test of `s2m view` pages, which skips without it (~140 MB
#                                   download, ~480 MB on disk, about a minute to install)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [ -n "${S2M_BROWSER:-}" ] && [ -z "${S2M_SKIP_APT:-}" ] && ! command -v chromium >/dev/null; then
  echo "test.sh: installing chromium for the browser test" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ "${S2M_TORCH:-debian}" = pip ]; then build_dir="${S2M_BUILD_DIR:-build-torch-pip}"; else build_dir="${S2M_BUILD_DIR:-build}"; fi
cd "$build_dir"
ctest --output-on-failure --timeout 1800 -j "${S2M_TEST_JOBS:-2}" "$@"
