#!/usr/bin/env bash
# Installs the Debian 12 packages step2motion needs (when missing), then configures and builds
# Release into build/ (CLI at build/bin/s2m). Idempotent and incremental.
#   S2M_BUILD_DIR=dir  S2M_JOBS=n  S2M_SKIP_APT=1 (never call apt-get)
#   --torch pip (or S2M_TORCH=pip): against the CUDA LibTorch of PyPI's torch wheel instead, installed
#   into the ignored virtualenv .venv-torch (S2M_TORCH_VENV, S2M_TORCH_VERSION=2.11.0), built in
#   build-torch-pip/. Debian's LibTorch (CPU) stays the default.
#   scripts/build.sh --deps-only   install the packages and stop
#   S2M_CMAKE_ARGS="..."           extra arguments for the first configure (scripts/test.sh --sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."
torch_source=${S2M_TORCH:-debian}
deps_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deps-only) deps_only=1; shift ;;
    --torch) torch_source=${2:-}; shift 2 ;;
    --torch=*) torch_source=${1#--torch=}; shift ;;
    *) echo "build.sh: unknown option $1 (expected --deps-only or --torch debian|pip)" >&2; exit 2 ;;
  esac
done
case "$torch_source" in debian|pip) ;; *) echo "build.sh: --torch $torch_source: expected debian or pip" >&2; exit 2 ;; esac

packages=(
  g++ cmake ninja-build pkg-config ca-certificates
  libtorch-dev libopenblas0-openmp
  libeigen3-dev libhdf5-dev hdf5-tools libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libpugixml-dev libgloo-dev
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

[ "$deps_only" = 1 ] && exit 0

cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
if [ "$torch_source" = pip ]; then
  venv=${S2M_TORCH_VENV:-.venv-torch}
  version=${S2M_TORCH_VERSION:-2.11.0}
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "build.sh: cannot create $venv (Debian: apt-get install python3-venv)" >&2; exit 2; }
  fi
  if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" 2>/dev/null; then
    echo "build.sh: installing torch==$version into $venv (a CUDA build of LibTorch, several GB)" >&2
    "$venv/bin/pip" install -q "torch==$version"
  fi
  # The wheel's share/cmake for TorchConfig, and its root so that its lib/ wins over Debian's libtorch.
  torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
  cmake_args+=("-DCMAKE_PREFIX_PATH=$torch_dir/share/cmake;$torch_dir" "-DTORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-8.0;9.0}")
  build_dir="${S2M_BUILD_DIR:-build-torch-pip}"
else
  build_dir="${S2M_BUILD_DIR:-build}"
fi
jobs="${S2M_JOBS:-$(nproc)}"
if [ ! -f "$build_dir/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build_dir" "${cmake_args[@]}" ${S2M_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" -j "$jobs"
echo "build.sh: built $build_dir/bin/s2m" >&2
