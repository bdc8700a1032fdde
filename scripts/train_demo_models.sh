#!/usr/bin/env bash
# Rebuilds the demo models under data/models/: the dataset from ../shared mocap (make_demo_data.sh), then
# the Step2Motion model and the two regressor baselines, each on one thread so that they can run side
# by side on a 2-core machine (the baselines take about 15 minutes, the Step2Motion model about 3.5 hours).
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
scripts/make_demo_data.sh out/demo-data
cp out/demo-data/heldout.h5 data/demo-heldout.h5
for m in demo demo-mlp demo-transformer; do rm -rf "data/models/$m"; done
# data/models/demo: 13 pose epochs and the root network, then its pose phase extended with --resume to 26
# epochs at the same lr and to 40 at lr 3e-4 (a step decay).
(
  train_demo() { OMP_NUM_THREADS=1 "$s2m" --threads 1 train --config "$1" --data out/demo-data/data.h5 --out data/models/demo "${@:2}"; }
  stage=out/demo-data/demo-stage.json
  train_demo configs/demo.json
  sed 's/"epochs_pose": 13/"epochs_pose": 26/' configs/demo.json >"$stage"
  train_demo "$stage" --resume
  sed -e 's/"epochs_pose": 13/"epochs_pose": 40/' -e 's/"lr": 0.001/"lr": 0.0003/' configs/demo.json >"$stage"
  train_demo "$stage" --resume
) &
( for m in mlp transformer; do
    OMP_NUM_THREADS=1 "$s2m" --threads 1 train --config "configs/demo-$m.json" --data out/demo-data/data.h5 --out "data/models/demo-$m"
  done ) &
wait
rm -f data/models/*/last.pt
