#!/usr/bin/env bash
# Builds (installing what is missing), then runs the test suite with ctest.
#   scripts/test.sh            every test
#   scripts/test.sh -L unit    a label only (unit, parity, cli, train, gpu)
#   S2M_TORCH=pip scripts/test.sh   the same suite against PyPI's CUDA LibTorch (see build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [ "${S2M_TORCH:-debian}" = pip ]; then build_dir="${S2M_BUILD_DIR:-build-torch-pip}"; else build_dir="${S2M_BUILD_DIR:-build}"; fi
cd "$build_dir"
ctest --output-on-failure --timeout 1800 -j "${S2M_TEST_JOBS:-2}" "$@"
