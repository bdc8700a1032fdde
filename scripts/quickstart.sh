#!/usr/bin/env bash
# The main job on bundled data: builds (installing what is missing), reconstructs the bundled real
# Moticon walking recordings (slow, normal, fast) with the demo model, and prints the demo models'
# metrics on held-out synthetic clips.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
s2m=build/bin/s2m
out=out/quickstart
mkdir -p "$out"

echo "== Reconstructing the real Moticon walks with data/models/demo (its stored sampler settings: fast, 2 steps, mean of 8 samples)"
"$s2m" -q reconstruct --model data/models/demo data/moticon/230927_102114.txt data/moticon/230927_102137.txt \
  data/moticon/230927_102231.txt --out "$out/bvh" --details
echo "BVH files (30 Hz, 22 joints, root trajectory) and per-frame details are in $out/bvh/"
echo
echo "== Viewer page of the normal-pace walk (skeleton, insole pressure, attention; one self-contained file)"
"$s2m" view "$out/bvh/230927_102114.bvh" --insoles data/moticon/230927_102114.txt --title "Normal-pace walk, data/models/demo" \
  --out "$out/view/normal-walk.html"
echo "Open $(pwd)/$out/view/normal-walk.html in a browser (no network needed)."
echo
# Two fast-sampler steps (t = T, then t = 1), each clip's joints the mean of 8 samples: the settings
# chosen on the validation clips (README: "Sampler steps"); three sampling seeds.
echo "== Demo models on held-out synthetic clips (data/demo-heldout.h5: 17 clips, 3.8 min; fast 2-step sampler, mean of 8 samples, 3 seeds)"
"$s2m" -q evaluate --model data/models/demo --model data/models/demo-mlp --model data/models/demo-transformer \
  --data data/demo-heldout.h5 --double-integration --sampler fast --steps 2 --samples 8 --seeds 3 --out "$out/report"
echo
echo "== data/models/demo with one sample per clip and seed (no averaging)"
"$s2m" -q evaluate --model data/models/demo --data data/demo-heldout.h5 --sampler fast --steps 2 --samples 1 --seeds 3 \
  --out "$out/report-one-sample"
echo "(the 200-step sampler: --sampler ddpm; paper-style table in $out/report/table.tex; plots and players of the worst clips in $out/report/report.html)"
