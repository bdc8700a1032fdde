#pragma once
// Compute thread count for LibTorch and OpenMP, without pulling <torch/torch.h> into callers.
namespace s2m::model {
void set_compute_threads(int threads);
int compute_threads();

// Flush denormal floats to zero (FTZ/DAZ). Softmax over large attention logits produces denormal
// exponentials that cost ~10x on x86 (measured: 5.3 ms vs 0.6 ms for a 4x300x300 softmax); results
// change only below 1e-38. Per-thread state inherited by threads created afterwards, so call it
// early (before the first parallel torch operation). Returns false when the CPU lacks support.
bool set_flush_denormal(bool on);
}  // namespace s2m::model
