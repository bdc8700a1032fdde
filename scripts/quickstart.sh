#!/usr/bin/env bash
# The main job on bundled data: builds, maps a bundled CMU walk onto the canonical 22-joint
# skeleton, and prints summaries of the source and the result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
out=out/quickstart
mkdir -p "$out"
clip=data/mocap/cmu/07_01.bvh
build/bin/s2m info "$clip"
echo
build/bin/s2m retarget "$clip" --map cmu --out "$out"
echo
build/bin/s2m info "$out/$(basename "$clip")"
echo
echo "canonical BVH written to $out/$(basename "$clip")"
