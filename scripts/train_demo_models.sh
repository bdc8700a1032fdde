#!/usr/bin/env bash
# Rebuilds the demo models under models/: the dataset from ../shared mocap (make_demo_data.sh), then
# the Step2Motion model and the two regressor baselines, each on one thread so that they can run side
# by side on a 2-core machine (the baselines take about 15 minutes, the Step2Motion model about 90).
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
scripts/make_demo_data.sh out/demo-data
cp out/demo-data/heldout.h5 data/demo-heldout.h5
for m in demo demo-mlp demo-transformer; do rm -rf "models/$m"; done
OMP_NUM_THREADS=1 "$s2m" --threads 1 train --config configs/demo.json --data out/demo-data/data.h5 --out models/demo &
( for m in mlp transformer; do
    OMP_NUM_THREADS=1 "$s2m" --threads 1 train --config "configs/demo-$m.json" --data out/demo-data/data.h5 --out "models/demo-$m"
  done ) &
wait
rm -f models/*/last.pt
