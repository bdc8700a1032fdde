#pragma once
// Fused CPU kernels for the operations LibTorch 1.13 runs slowly here: softmax (its float kernel
// runs at 1-3 ns per element), dropout (a serial Bernoulli draw per element: a third of a bf16
// training step) and the residual/GELU steps around it, which cost one memory pass each. Float32
// and bfloat16 storage, float maths; differentiable where a gradient is needed. The instruction
// set (AVX-512, AVX2 or generic) is picked at run time from the CPU.
//
// Dropout masks are a hash of (seed, element index): forward and backward regenerate the same
// mask without storing it, the result does not depend on the thread count, and the seed is drawn
// from torch's default CPU generator, so torch::manual_seed and a saved generator state make runs
// repeatable.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace s2m::model::kernels {

// "avx512", "avx2" or "generic": the variant in use. S2M_KERNELS=avx2|generic in the environment
// forces a lower one (for comparisons).
std::string isa();
// Switches to variant `name` ("avx512", "avx2", "generic") when this CPU runs it; false otherwise.
// For tests and comparisons; not thread-safe against kernels running at the same time.
bool use_isa(const std::string& name);

// Softmax over the last dimension (float or bfloat16; result in the input's dtype). Differentiable.
torch::Tensor softmax(const torch::Tensor& logits);

// Inference form, in place: x [..., H, N, K] contiguous; with `bias` ([N, K] float), head h's
// logits get −|head_scales[h]|·bias added first (the cross-attention locality penalty).
void softmax_(torch::Tensor& x, const torch::Tensor& bias = {}, const std::vector<float>& head_scales = {});

// Inverted dropout (kept elements scaled by 1/(1−p)); returns x unchanged when !training or p = 0.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// residual + dropout(y) in one pass, in residual's dtype. y has residual's shape [B, N, C], or is
// [B, C]: one vector per sample added to all its N rows (as x + linear_tmp(step).unsqueeze(1)).
torch::Tensor add_dropout(const torch::Tensor& residual, const torch::Tensor& y, double p, bool training);

// dropout(gelu(x)) with the exact (erf) GELU, in x's dtype.
torch::Tensor gelu_dropout(const torch::Tensor& x, double p, bool training);

}  // namespace s2m::model::kernels
