#pragma once
// Compute thread count for LibTorch and OpenMP, without pulling <torch/torch.h> into callers.
namespace s2m::model {
void set_compute_threads(int threads);
int compute_threads();
}  // namespace s2m::model
