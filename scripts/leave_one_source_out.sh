#!/usr/bin/env bash
# Generalisation protocol: train without one whole mocap source (its people never seen) and score on
# it. Every other source of ../shared/data/mocap (CMU in four conversions, SNU woody/woody2, SNU
# basketball without the clips its README lists as glitched) gives the training and validation clips;
# the held-out source, all of it, the test clips. Insoles synthesised with realistic noise, IMU frame
# from the insole filter (as in the wild). Each config is trained (its sampler settings chosen on the
# validation clips), then all models are scored with their stored settings and with one sample.
#   scripts/leave_one_source_out.sh SOURCE OUT_DIR CONFIG.json [CONFIG.json ...]
#     SOURCE: cmu, cmu-69, cmu-16-cuts, cmu-daz, snu-woody2 or snu-basketball
#   S2M_LOSO_TRAIN_ARGS="..."  extra `s2m train` options (e.g. --precision fp32)
#   S2M_LOSO_VARIANTS=N        augmentation: every training source also performed by N virtual people
#                              (`s2m synth --variants`: other heights, masses, insole sizes, IMU mountings)
#   S2M_LOSO_PROPORTIONS=P     bone lengths of every source (`s2m synth --proportions`): source
#                              (default; each mocap's own joint placement) or standard (one skeleton)
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
shared=${S2M_SHARED_DIR:-../shared}
mocap="$shared/data/mocap"
[ $# -ge 3 ] || { echo "usage: scripts/leave_one_source_out.sh SOURCE OUT_DIR CONFIG.json [CONFIG.json ...]" >&2; exit 2; }
held=$1
proportions=${S2M_LOSO_PROPORTIONS:-source}
out=$2
shift 2
[ -d "$mocap" ] || { echo "leave_one_source_out.sh: $mocap not found" >&2; exit 2; }

# shellcheck source=scripts/mocap_sources.sh
. scripts/mocap_sources.sh
sources=("${all_mocap_sources[@]}")
glitches='s_006_4_1|s_006_6_2|s_007_1_3|s_009_2_4'  # marker swaps (snu-basketball/README.md)
known=0
for s in "${sources[@]}"; do [ "${s%% *}" = "$held" ] && known=1; done
[ $known = 1 ] || { echo "leave_one_source_out.sh: unknown source '$held'" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
seed=1
test_subject=""
for s in "${sources[@]}"; do
  read -r folder map subject weight size <<<"$s"
  [ "$folder" = "$held" ] && subject="$subject-test" && test_subject=$subject
  mapfile -t clips < <(find "$mocap/$folder" -name '*.bvh' | sort | grep -v -E "$glitches")
  if [ "$map" = daz ]; then
    # cmu-daz also holds clips in the 31-joint CMU convention.
    daz=() other=()
    for f in "${clips[@]}"; do if grep -q "JOINT lThigh" "$f"; then daz+=("$f"); else other+=("$f"); fi; done
    clips=("${daz[@]}")
    [ ${#other[@]} -gt 0 ] && "$s2m" -q synth "${other[@]}" --map cmu --subject "$subject" --weight-kg "$weight" \
      --insole-size "$size" --noise realistic --seed $((seed++)) --proportions "$proportions" --out "$out/recordings"
  fi
  "$s2m" -q synth "${clips[@]}" --map "$map" --subject "$subject" --weight-kg "$weight" --insole-size "$size" \
    --noise realistic --seed $((seed++)) --proportions "$proportions" --out "$out/recordings"
  if [ "${S2M_LOSO_VARIANTS:-0}" -gt 0 ] && [ "$folder" != "$held" ]; then
    "$s2m" -q synth "${clips[@]}" --map "$map" --subject "$subject" --variants "$S2M_LOSO_VARIANTS" \
      --noise realistic --seed $((seed++)) --proportions "$proportions" --out "$out/recordings"
  fi
  if [ "$folder" = "$held" ]; then echo "$folder: ${#clips[@]} clips, held out" >&2; else echo "$folder: ${#clips[@]} clips" >&2; fi
done
"$s2m" -q preprocess --input "$out/recordings" --out "$out/data.h5" --imu-frame filter --test-subjects "$test_subject" \
  --val-fraction 0.05 --seed 1
"$s2m" info "$out/data.h5" | grep -E '^  (train|val|test):' >&2

models=()
for config in "$@"; do
  name=$(basename "$config" .json)
  # shellcheck disable=SC2086
  "$s2m" train --config "$config" --data "$out/data.h5" --out "$out/models/$name" ${S2M_LOSO_TRAIN_ARGS:-}
  models+=(--model "$out/models/$name")
done
echo "== held out: $held; each model with its stored sampler settings" >&2
"$s2m" -q evaluate "${models[@]}" --data "$out/data.h5" --split test --root network --compare-roots zupt,fused \
  --out "$out/report"
echo "== held out: $held; one sample" >&2
"$s2m" -q evaluate "${models[@]}" --data "$out/data.h5" --split test --samples 1 --out "$out/report-one-sample"
