#!/usr/bin/env bash
# Rebuilds the demo models under data/models/: the dataset from ../shared mocap (make_demo_data.sh, with
# one virtual person per training clip), then the Step2Motion model and the two regressor baselines, one
# after another on all cores (about 45 minutes for the Step2Motion model and 10 for the baselines on 2
# cores with bf16; `s2m info --system` says which precision this CPU gets).
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
data=${S2M_DEMO_DATA:-out/demo-data}
[ -n "${S2M_DEMO_DATA:-}" ] || scripts/make_demo_data.sh "$data"
cp "$data/heldout.h5" data/demo-heldout.h5
for m in demo demo-mlp demo-transformer; do rm -rf "data/models/$m"; done
# data/models/demo: 13 pose epochs and the root network, then its pose phase extended with --resume to 26
# epochs at the same lr and to 40 at lr 3e-4 (a step decay); the sampler settings are chosen once, at the end.
stage=$data/demo-stage.json
"$s2m" train --config configs/demo.json --data "$data/data.h5" --out data/models/demo --no-tune
sed 's/"epochs_pose": 13/"epochs_pose": 26/' configs/demo.json >"$stage"
"$s2m" train --config "$stage" --data "$data/data.h5" --out data/models/demo --resume --no-tune
sed -e 's/"epochs_pose": 13/"epochs_pose": 40/' -e 's/"lr": 0.001/"lr": 0.0003/' configs/demo.json >"$stage"
"$s2m" train --config "$stage" --data "$data/data.h5" --out data/models/demo --resume
for m in mlp transformer; do
  "$s2m" train --config "configs/demo-$m.json" --data "$data/data.h5" --out "data/models/demo-$m"
done
rm -f data/models/*/last.pt data/models/*/.lock
