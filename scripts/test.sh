#!/usr/bin/env bash
# Builds (installing what is missing), then runs the test suite with ctest.
#   scripts/test.sh            every test
#   scripts/test.sh -L unit    a label only (unit, parity, cli, train, fuzz, fault, gpu)
#   S2M_TORCH=pip scripts/test.sh   the same suite against PyPI's CUDA LibTorch (see build.sh)
#   S2M_BROWSER=1 scripts/test.sh   also installs Debian's chromium (when missing) for the browser
#                                   test of `s2m view` pages, which skips without it (~140 MB
#                                   download, ~480 MB on disk, about a minute to install)
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
if [ -n "${S2M_BROWSER:-}" ] && [ -z "${S2M_SKIP_APT:-}" ] && ! command -v chromium >/dev/null; then
  echo "test.sh: installing chromium for the browser test" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if [ "${S2M_TORCH:-debian}" = pip ]; then
  build_dir="${S2M_BUILD_DIR:-build-torch-pip}"
  # torchrun from the same torch as the build (the c10d store protocol changed after 1.13).
  venv=${S2M_TORCH_VENV:-.venv-torch}
  [ -x "$venv/bin/torchrun" ] && export S2M_TORCHRUN="${S2M_TORCHRUN:-$(cd "$venv/bin" && pwd)/torchrun}"
else
  build_dir="${S2M_BUILD_DIR:-build}"
fi
cd "$build_dir"
ctest --output-on-failure --timeout 1800 -j "${S2M_TEST_JOBS:-2}" "$@"
