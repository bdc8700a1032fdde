#!/usr/bin/env bash
# Builds (installing what is missing), then runs the test suite with ctest.
#   scripts/test.sh            every test
#   scripts/test.sh -L unit    a label only (unit, parity, cli, train, fuzz, fault)
#   scripts/test.sh --sanitize the torch-free part of the library (core, io, kinematics, imu, synth,
#                              eval metrics, configs) and its tests under ASan + UBSan, in build-sanitize/
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  shift
  export S2M_BUILD_DIR="${S2M_BUILD_DIR:-build-sanitize}"
  export S2M_CMAKE_ARGS="-DS2M_TORCH=OFF -DS2M_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
  # Any report fails the test that triggered it; leaks included.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
scripts/build.sh
build_dir="${S2M_BUILD_DIR:-build}"
cd "$build_dir"
ctest --output-on-failure --timeout 1800 -j "${S2M_TEST_JOBS:-2}" "$@"
