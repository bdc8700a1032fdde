#!/usr/bin/env bash
# libFuzzer campaigns on the readers of outside data (tests/fuzz/README.md).
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]   one target, e.g. scripts/fuzz.sh bvh 600
#   scripts/fuzz.sh all SECONDS [options...]                 every target in turn (a CI smoke run)
#   scripts/fuzz.sh --list                                    the targets
#   scripts/fuzz.sh --seeds                                   regenerate the generated seeds in tests/fuzz/corpus/
# Builds build-fuzz/ with clang (ASan + UBSan + libFuzzer; installs clang from Debian when missing).
# New inputs go to build-fuzz/corpus/TARGET (the repository's seeds are read, never written); a crash,
# leak, UB report, timeout (> 10 s) or out-of-memory (> 2 GB, or one allocation > 256 MB) stops the run,
# leaves the input in build-fuzz/crashes/TARGET/ and exits non-zero. Copy it to tests/fuzz/regressions/TARGET/
# once fixed: ctest replays it on every build (fuzz_replay.TARGET).
#   S2M_FUZZ_BUILD_DIR=dir  S2M_SKIP_APT=1  S2M_JOBS=n
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
if [ "${1:-}" = "--list" ]; then echo "$targets"; exit 0; fi
if [ $# -lt 1 ] || { [ "$1" != "--seeds" ] && [ $# -lt 2 ]; }; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer options...] | --list | --seeds" >&2
  exit 2
fi

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  if [ -n "${S2M_SKIP_APT:-}" ]; then echo "fuzz.sh: clang and libclang-rt-14-dev are needed" >&2; exit 2; fi
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
S2M_SKIP_APT=${S2M_SKIP_APT:-} scripts/build.sh --deps-only

build="${S2M_FUZZ_BUILD_DIR:-build-fuzz}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DS2M_FUZZ=ON >/dev/null
fi

if [ "$1" = "--seeds" ]; then
  cmake --build "$build" -j "${S2M_JOBS:-$(nproc)}" --target make_seeds
  "$build/bin/make_seeds" tests/fuzz/corpus
  echo "fuzz.sh: generated seeds written under tests/fuzz/corpus/" >&2
  exit 0
fi

name=$1; seconds=$2; shift 2
if [ "$name" = "all" ]; then run=$targets; else run=$name; fi
for t in $run; do
  echo "$targets" | grep -qx "$t" || { echo "fuzz.sh: unknown target '$t' (scripts/fuzz.sh --list)" >&2; exit 2; }
done
cmake --build "$build" -j "${S2M_JOBS:-$(nproc)}" $(for t in $run; do echo --target fuzz_$t; done)

# UB reports stop the run (built with -fno-sanitize-recover); leaks are checked at every input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in $run; do
  work="$build/corpus/$t"; crashes="$build/crashes/$t"
  mkdir -p "$work" "$crashes"
  seeds=(); [ -d "tests/fuzz/corpus/$t" ] && seeds+=("tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && seeds+=("tests/fuzz/regressions/$t")
  dict=(); [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "fuzz.sh: $t for ${seconds}s" >&2
  # libhdf5 (C, malloc) sizes its cache entries from the file and gives up when malloc fails, as
  # glibc's does for an impossible size; ASan would abort there instead (allocations that succeed
  # are still capped by -malloc_limit_mb). That error path leaks a few bytes inside libhdf5
  # (tests/fuzz/lsan-hdf5.supp).
  asan=$ASAN_OPTIONS lsan=${LSAN_OPTIONS:-}
  [ "$t" = dataset_h5 ] && asan="$asan:allocator_may_return_null=1" && lsan="suppressions=$root/tests/fuzz/lsan-hdf5.supp"
  if ! ASAN_OPTIONS=$asan LSAN_OPTIONS=$lsan "$build/bin/fuzz_$t" "$work" "${seeds[@]}" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 -artifact_prefix="$crashes/" "$@"; then
    echo "fuzz.sh: $t FAILED: see $crashes/" >&2
    status=1
  fi
done
exit $status
