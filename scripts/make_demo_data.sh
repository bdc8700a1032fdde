#!/usr/bin/env bash
# Builds the demo models' dataset from the real mocap in ../shared/data/mocap (CMU and SNU, ~100 min):
# insoles synthesised with realistic noise, accelerations rotated to world by the insole-IMU filter
# (as in the wild; their heading turned onto the mocap world), 30 Hz. Clips listed in HELD_OUT go to
# "<source>-test" subjects: the test split, and alone to OUT_DIR/heldout.h5 (data/demo-heldout.h5).
#   scripts/make_demo_data.sh [OUT_DIR]   (default out/demo-data; needs build/bin/s2m)
#   S2M_DEMO_VARIANTS=N (default 1): every training clip also performed by N virtual people of other
#   heights, masses, insole sizes and IMU mountings (`s2m synth --variants`); the held-out clips are not.
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
shared=${S2M_SHARED_DIR:-../shared}
mocap="$shared/data/mocap"
out=${1:-out/demo-data}
[ -d "$mocap" ] || { echo "make_demo_data.sh: $mocap not found" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"

HELD_OUT=(
  cmu/02_02.bvh cmu/05_04.bvh cmu/07_02.bvh cmu/07_11.bvh cmu/08_02.bvh cmu/09_02.bvh
  cmu-69/69_02_1.bvh cmu-69/69_21_1.bvh cmu-69/69_36_1.bvh cmu-69/69_45_1.bvh
  cmu-16-cuts/16_15_1.bvh cmu-16-cuts/16_35_1.bvh cmu-16-cuts/16_47_1.bvh
  cmu-daz/12_02.bvh
  snu-woody2/Walking/lastmotion/woddy2_walk_normal_left_90.bvh
  snu-woody2/Walking/rawmotion/woddy2_walk_straight_fast.bvh
  snu-woody2/Data/woody2/Motion/Physics2/$(ls "$mocap/snu-woody2/Data/woody2/Motion/Physics2" | sed -n 5p)
)
is_held_out() { local f; for f in "${HELD_OUT[@]}"; do [ "$f" = "$1" ] && return 0; done; return 1; }

# shellcheck source=scripts/mocap_sources.sh
. scripts/mocap_sources.sh
sources=("${demo_mocap_sources[@]}")
seed=1
for s in "${sources[@]}"; do
  read -r folder map subject weight size <<<"$s"
  train=() test=()
  while IFS= read -r f; do
    rel=${f#"$mocap/"}
    # cmu-daz also holds two clips in the 31-joint CMU convention.
    if [ "$map" = daz ] && ! grep -q "JOINT lThigh" "$f"; then
      "$s2m" -q synth "$f" --map cmu --subject "$subject" --weight-kg "$weight" --insole-size "$size" \
        --noise realistic --seed $((seed++)) --out "$out/recordings"
      continue
    fi
    if is_held_out "$rel"; then test+=("$f"); else train+=("$f"); fi
  done < <(find "$mocap/$folder" -name '*.bvh' | sort)
  common=(--map "$map" --weight-kg "$weight" --insole-size "$size" --noise realistic)
  if [ ${#train[@]} -gt 0 ]; then
    "$s2m" -q synth "${train[@]}" --subject "$subject" --seed $((seed++)) "${common[@]}" --out "$out/recordings"
    if [ "${S2M_DEMO_VARIANTS:-1}" -gt 0 ]; then
      "$s2m" -q synth "${train[@]}" --subject "$subject" --variants "${S2M_DEMO_VARIANTS:-1}" --seed $((seed++)) \
        --map "$map" --noise realistic --out "$out/recordings"
    fi
  fi
  if [ ${#test[@]} -gt 0 ]; then
    # Also alone in heldout-recordings (same seed, same insoles) for the bundled evaluation file.
    for dir in recordings heldout-recordings; do
      "$s2m" -q synth "${test[@]}" --subject "$subject-test" --seed $seed "${common[@]}" --out "$out/$dir"
    done
    seed=$((seed + 1))
  fi
  echo "$folder: ${#train[@]} training clips, ${#test[@]} held out" >&2
done
"$s2m" preprocess --input "$out/recordings" --out "$out/data.h5" --imu-frame filter \
  --test-subjects cmu-test,cmu69-test,cmu16-test,daz-test,snu-test --val-fraction 0.05 --seed 1
"$s2m" info "$out/data.h5"
# The held-out clips alone (every subject a test subject: an evaluation-only file, no statistics);
# this is data/demo-heldout.h5.
"$s2m" preprocess --input "$out/heldout-recordings" --out "$out/heldout.h5" --imu-frame filter \
  --test-subjects cmu-test,cmu69-test,cmu16-test,daz-test,snu-test --val-fraction 0 --seed 0
printf '%s\n' "${HELD_OUT[@]}" > "$out/held_out.txt"
