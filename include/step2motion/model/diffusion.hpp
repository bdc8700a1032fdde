#pragma once
// DDPM schedule of the reference (§7): T steps, β linear 1e-4 → 0.02 with β₀ = 0 prepended so that
// index t = 0..T addresses the tables directly and t = 0 is the clean sample.
#include <torch/torch.h>

#include "step2motion/model/config.hpp"

namespace s2m::model {

// A module only for its buffers: `to(device)` moves every table with the model, and the tables stay
// out of the networks' state dicts (they are recomputed from the config).
class DiffusionSchedule : public torch::nn::Module {
public:
    explicit DiffusionSchedule(int steps, double beta_start = 1e-4, double beta_end = 0.02, bool zero_terminal_snr = false);
    // The schedule a model was trained with: T = diffusion_T, the reference's β range, and
    // config.zero_terminal_snr.
    explicit DiffusionSchedule(const ModelConfig& config);
    int steps() const { return T_; }

    // All tables are float32 [T + 1] buffers (computed in float32 as the reference does). Posterior
    // tables are NaN at index 0. Results take the dtype and device of the tensors they combine.
    torch::Tensor betas, alphas, cum_alphas, sqrt_cum_alphas, sqrt_one_minus_cum_alphas;
    torch::Tensor posterior_coeff_1, posterior_coeff_2, posterior_std;

    // Training levels t [B] int64 in 0..T: ⌊(T+1)·u^power⌋, u uniform. power 1 is the reference's
    // uniform draw (the same random stream as randint); power < 1 draws noisier levels more often,
    // the ones where the pose has to come from the insoles rather than from x_t.
    // `generator`: whose stream (default: torch's global one).
    torch::Tensor training_steps(int64_t batch, double power = 1.0, c10::optional<at::Generator> generator = c10::nullopt) const;
    // √ᾱ_t·x0 + √(1−ᾱ_t)·eps, t [B] int64.
    torch::Tensor q_sample(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& eps) const;
    // c₁(t)·x̂₀ + c₂(t)·x_t + σ_t·z: one ancestral step t → t−1 (t ≥ 1).
    torch::Tensor posterior_sample(const torch::Tensor& x0_hat, const torch::Tensor& x_t, const torch::Tensor& t,
                                   const torch::Tensor& z) const;
    // Deterministic DDIM step (η = 0) from level t to level t_prev < t with an x̂₀ prediction.
    torch::Tensor ddim_step(const torch::Tensor& x0_hat, const torch::Tensor& x_t, int64_t t, int64_t t_prev) const;
    // `count` decreasing levels T = s₀ > s₁ > … > s_{count−1} = 1 spread evenly over the schedule.
    std::vector<int64_t> strided_steps(int count) const;

    // table[t] shaped [B, 1, 1] for broadcasting over [B, S, C], on the table's device.
    static torch::Tensor gather(const torch::Tensor& table, const torch::Tensor& t);

private:
    int T_;
    std::vector<double> sqrt_cum_host_, sqrt_one_minus_cum_host_;  // DDIM reads scalars: no device sync
};

// L1 between x̂₀ and x₀ (the pose loss of the reference).
torch::Tensor pose_loss(const torch::Tensor& pred, const torch::Tensor& target);

}  // namespace s2m::model
