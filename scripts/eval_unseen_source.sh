#!/usr/bin/env bash
# Scores models on a mocap source none of the demo models saw: every 10th clip of SNU basketball
# (../shared/data/mocap/snu-basketball; other players, runs, side shuffles; the clips with the marker
# glitches its README lists are left out), insoles synthesised with realistic noise, accelerations
# rotated by the insole-IMU filter as in the wild. Each model is scored with the network's root and
# the first also with the roots from the feet (zupt, fused).
#   scripts/eval_unseen_source.sh OUT_DIR MODEL_DIR [MODEL_DIR ...]   (needs build/bin/s2m)
#   S2M_EVAL_ARGS="--sampler fast --steps 2"  extra evaluate options (default shown)
set -euo pipefail
cd "$(dirname "$0")/.."
s2m=${S2M:-build/bin/s2m}
shared=${S2M_SHARED_DIR:-../shared}
[ $# -ge 2 ] || { echo "usage: scripts/eval_unseen_source.sh OUT_DIR MODEL_DIR [MODEL_DIR ...]" >&2; exit 2; }
out=$1
shift
src="$shared/data/mocap/snu-basketball"
[ -d "$src" ] || { echo "eval_unseen_source.sh: $src not found" >&2; exit 2; }
glitches='s_006_4_1|s_006_6_2|s_007_1_3|s_009_2_4'
mapfile -t clips < <(find "$src" -maxdepth 1 -name '*.bvh' | sort | grep -v -E "$glitches" | awk 'NR % 10 == 1')
rm -rf "$out"
mkdir -p "$out"
"$s2m" -q synth "${clips[@]}" --map snu --subject basketball --weight-kg 75 --insole-size 8 --noise realistic --seed 11 \
  --out "$out/recordings"
"$s2m" -q preprocess --input "$out/recordings" --out "$out/basketball.h5" --imu-frame filter --test-subjects basketball \
  --val-fraction 0 --seed 0
models=()
for m in "$@"; do models+=(--model "$m"); done
# shellcheck disable=SC2086
"$s2m" -q evaluate "${models[@]}" --data "$out/basketball.h5" --root network --compare-roots zupt,fused --seeds 1 --seed 1 \
  ${S2M_EVAL_ARGS:---sampler fast --steps 2} --out "$out/report"
