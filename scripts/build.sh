#!/usr/bin/env bash
# Installs the Debian 12 packages step2motion needs (when missing), then configures and builds
# Release into build/ (CLI at build/bin/s2m). Idempotent and incremental.
#   S2M_BUILD_DIR=dir  S2M_JOBS=n  S2M_SKIP_APT=1 (never call apt-get)
#   scripts/build.sh --deps-only   install the packages and stop
#   S2M_CMAKE_ARGS="..."           extra arguments for the first configure (scripts/test.sh --sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config ca-certificates
  libtorch-dev libopenblas0-openmp
  libeigen3-dev libhdf5-dev hdf5-tools libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libpugixml-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && [ -z "${S2M_SKIP_APT:-}" ]; then
  echo "build.sh: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libtorch computes with whatever libblas.so.3 points to: make it the OpenMP OpenBLAS (the
# pthread variant can hang under OpenMP; reference BLAS is 6x slower).
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [ -e "$blas" ] && [ "$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null)" != "$blas" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null
  else
    echo "build.sh: warning: libblas.so.3 is not OpenBLAS-OpenMP; run: sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu $blas" >&2
  fi
fi

[ "${1:-}" = "--deps-only" ] && exit 0

build_dir="${S2M_BUILD_DIR:-build}"
jobs="${S2M_JOBS:-$(nproc)}"
if [ ! -f "$build_dir/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${S2M_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" -j "$jobs"
echo "build.sh: built $build_dir/bin/s2m" >&2
