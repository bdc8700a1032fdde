#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, after `scripts/build.sh --torch pip` (which needs
# the network once; nothing below does). About 3-4 minutes on one GPU:
#   1. the `gpu` tests (sampler, training step and reconstruction on CUDA against the CPU);
#   2. the tiny config (wider) trained on CUDA for a minute, on insoles synthesised from the bundled
#      CMU mocap, then stopped as by Ctrl-C: the loss must have gone down;
#   3. a bundled Moticon walk reconstructed with data/models/demo on CUDA and on the CPU, same seed,
#      fp32: the largest distance of a joint between the two BVH files must stay below 1 mm;
#   4. `s2m bench --json --device cuda`.
# Usage: scripts/gpu_check.sh [--cpu-dry-run]
#   --cpu-dry-run  every step on the CPU instead (checks the script itself where there is no GPU)
#   S2M_BUILD_DIR=dir (default build-torch-pip)   S2M_GPU_CHECK_OUT=dir (default out/gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
device=cuda
train_s=60
bench_args=()
case "${1:-}" in
  "") ;;
  --cpu-dry-run) device=cpu; train_s=20; bench_args=(--quick --memory-seconds 60) ;;
  *) echo "gpu_check.sh: unknown option $1 (expected --cpu-dry-run)" >&2; exit 2 ;;
esac
build=${S2M_BUILD_DIR:-build-torch-pip}
s2m=$build/bin/s2m
out=${S2M_GPU_CHECK_OUT:-out/gpu-check}
tolerance_m=0.001
if [ ! -x "$s2m" ]; then
  echo "gpu_check.sh: $s2m not found; build it first with: scripts/build.sh --torch pip" >&2
  exit 2
fi
start=$SECONDS
step() { echo; echo "== [$((SECONDS - start)) s] $*"; }

step "GPU visible to LibTorch"
# --device cuda refuses with one line when this LibTorch has no CUDA or no GPU is visible.
system=$("$s2m" -q info --system --json)
echo "$system" | grep -E '"(cuda_devices|torch_version)"'
if [ "$device" = cuda ]; then
  devices=$(echo "$system" | sed -n 's/.*"cuda_devices": \([0-9]*\).*/\1/p')
  if [ "${devices:-0}" -lt 1 ]; then
    echo "gpu_check.sh: no GPU visible to $s2m (CUDA devices: ${devices:-0})" >&2
    exit 1
  fi
fi

step "1. gpu tests"
if [ "$device" = cuda ]; then
  ctest --test-dir "$build" -L gpu --output-on-failure
else
  ctest --test-dir "$build" -L gpu  # they skip without a GPU
fi

step "2. tiny config trained on $device for ${train_s} s"
rm -rf "$out"
mkdir -p "$out"
cmu=data/mocap/cmu
"$s2m" -q synth "$cmu/07_01.bvh" "$cmu/09_01.bvh" --map cmu --subject S1 --variants 3 --out "$out/synth"
"$s2m" -q synth "$cmu/05_03.bvh" --map cmu --subject S2 --weight-kg 60 --noise realistic --seed 3 --out "$out/synth"
"$s2m" -q preprocess --input "$out/synth" --out "$out/data.h5" --test-subjects S2 --val-fraction 0 --seed 1
# Epochs without end, stopped like Ctrl-C after train_s seconds: the run saves its state and model.pt.
sed -e 's/"epochs_pose": [0-9]*/"epochs_pose": 1000000/' -e 's/"max_windows_per_epoch": [0-9]*/"max_windows_per_epoch": 1024/' \
  -e 's/"hidden_dim": [0-9]*/"hidden_dim": 128/' -e 's/"batch_size": [0-9]*/"batch_size": 32/' configs/tiny.json > "$out/tiny.json"
rc=0
timeout -s INT "$train_s" "$s2m" -q train --config "$out/tiny.json" --data "$out/data.h5" --out "$out/model" \
  --device "$device" --no-tune || rc=$?
if [ "$rc" -ne 124 ] && [ "$rc" -ne 0 ]; then
  echo "gpu_check.sh: training on $device failed (exit code $rc)" >&2
  exit 1
fi
log=$out/model/train_log.jsonl
epochs=$(wc -l < "$log")
first=$(head -n 1 "$log" | sed -n 's/.*"train_loss":\([-0-9.eE+]*\).*/\1/p')
last=$(tail -n 1 "$log" | sed -n 's/.*"train_loss":\([-0-9.eE+]*\).*/\1/p')
echo "$epochs epochs; training loss $first -> $last; last epoch: $(tail -n 1 "$log" | sed -n 's/.*"windows_per_s":\([0-9.]*\).*/\1/p') windows/s"
if [ "$epochs" -lt 2 ] || ! awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'; then
  echo "gpu_check.sh: the training loss on $device did not go down over $epochs epochs" >&2
  exit 1
fi
"$s2m" -q evaluate --model "$out/model" --data "$out/data.h5" --device "$device" --sampler fast --steps 2 \
  --out "$out/report" | head -n 8

step "3. one real walk on $device and on the CPU (fp32, seed 1)"
walk=data/moticon/230927_102114.txt
"$s2m" -q reconstruct --model data/models/demo "$walk" --out "$out/walk-device" --device "$device" --precision fp32 --seed 1
"$s2m" -q reconstruct --model data/models/demo "$walk" --out "$out/walk-cpu" --device cpu --precision fp32 --seed 1
compare=$("$s2m" -q info --compare "$out/walk-device/230927_102114.bvh" "$out/walk-cpu/230927_102114.bvh" --json)
echo "$compare"
max_m=$(echo "$compare" | sed -n 's/.*"max_joint_distance_m": \([-0-9.eE+]*\).*/\1/p')
if ! awk -v d="$max_m" -v t="$tolerance_m" 'BEGIN { exit !(d != "" && d < t) }'; then
  echo "gpu_check.sh: $device and CPU reconstructions differ by ${max_m} m, more than ${tolerance_m} m" >&2
  exit 1
fi
echo "largest joint distance ${max_m} m < ${tolerance_m} m"

step "4. s2m bench --json --device $device"
"$s2m" bench --json --device "$device" "${bench_args[@]}"

step "gpu_check.sh: all passed in $((SECONDS - start)) s"
