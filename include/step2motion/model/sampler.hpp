#pragma once
// Sampling pose windows from the diffusion model (reference §7-8), with what makes it fast without
// changing the result: the insole conditioning (embeddings and per-layer keys/values) is computed
// once per window and reused for every step; windows are denoised together as one batch.
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/networks.hpp"

#include <functional>
#include <vector>

namespace s2m::model {

// Known parts of the clean window: where mask = 1, x_t is replaced at every step by the values
// noised to the current level (q_sample), and by the values themselves at the end.
struct Inpainting {
    torch::Tensor mask;    // [B, S, 1] or [B, S, 63], 0/1 (float)
    torch::Tensor values;  // [B, S, 63], normalised clean poses
    bool active() const { return mask.defined() && values.defined(); }
};

// Called with the current sample at noise level t before the denoiser runs at t (t = T..1, or the
// strided levels), and once more with t = 0 on the result. May modify x in place or replace it, e.g.
// to copy the previous window's last frames into the next window's first frames at the same step.
using StepHook = std::function<void(int64_t t, torch::Tensor& x)>;

struct SamplerOptions {
    int steps = 0;                // 0 (or >= T): ancestral DDPM over all T steps; fewer: DDIM striding
    double guidance = 1.0;        // classifier-free guidance weight w (1 = conditioned pass only)
    bool cache_condition = true;  // false recomputes the conditioning at every step (for checking)
    bool bf16 = false;            // bf16 autocast (on the insoles' device) for the network passes
    Inpainting inpaint;
    StepHook on_step;
    // Conditioning drop mask [B] (1 keep, 0 drop); undefined = keep all.
    torch::Tensor c_mask;
    // Standard normal noise shaped like its argument (the initial x_T and each ancestral step's z);
    // empty = torch's global generator. Reconstruction gives every window its own generator, so that a
    // window's sample does not depend on which other windows share its batch.
    std::function<torch::Tensor(const torch::Tensor& like)> noise;
};

// Runs the sampler on insole windows [B, S, 50] (normalised) → clean pose windows [B, S, 63].
// Noise comes from torch's global generator (torch::manual_seed makes it reproducible).
// `attention` (optional) receives the insole attention weights of the last denoiser pass per layer.
torch::Tensor sample_poses(Step2Motion& model, const DiffusionSchedule& schedule, const torch::Tensor& insoles,
                           const SamplerOptions& options = {}, std::vector<torch::Tensor>* attention = nullptr);

// The noise levels the sampler visits, from T down to 1.
std::vector<int64_t> sampler_levels(const DiffusionSchedule& schedule, int steps);

}  // namespace s2m::model
