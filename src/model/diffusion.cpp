#include "step2motion/model/diffusion.hpp"

#include "step2motion/core/error.hpp"

#include <cmath>

namespace s2m::model {

DiffusionSchedule::DiffusionSchedule(const ModelConfig& c) : DiffusionSchedule(c.diffusion_T, 1e-4, 0.02, c.zero_terminal_snr) {}

DiffusionSchedule::DiffusionSchedule(int steps, double beta_start, double beta_end, bool zero_terminal_snr) : T_(steps) {
    if (steps < 1) fail_input("diffusion steps must be >= 1, got " + std::to_string(steps));
    // float32 throughout, as the reference: at t = 1 the posterior coefficient divides by 1 − ᾱ₁ ≈ 1e-4,
    // so float32 and float64 tables differ by ~2e-4 there and parity needs the same precision.
    auto opts = torch::TensorOptions().dtype(torch::kFloat);
    auto linear = torch::linspace(beta_start, beta_end, steps, opts);
    if (zero_terminal_snr && steps > 1) {
        // Shift and scale √ᾱ so that √ᾱ_1 is kept and √ᾱ_T becomes 0, then back to β (β_T = 1).
        auto s = torch::sqrt(torch::cumprod(1.0 - linear.to(torch::kDouble), 0));
        const double first = s[0].item<double>(), last = s[steps - 1].item<double>();
        auto cum = ((s - last) * (first / (first - last))).pow(2);
        auto a = torch::cat({cum.narrow(0, 0, 1), cum.narrow(0, 1, steps - 1) / cum.narrow(0, 0, steps - 1)});
        linear = (1.0 - a).to(torch::kFloat);
    }
    auto b = torch::cat({torch::zeros({1}, opts), linear});
    auto a = 1.0 - b;
    auto cum = torch::cumprod(a, 0);
    auto cum_prev = torch::cat({torch::ones({1}, opts), cum.narrow(0, 0, steps)});
    // Index 0 divides by 1 − ᾱ₀ = 0 → NaN, as in the reference; it is never used.
    auto c1 = b * torch::sqrt(cum_prev) / (1.0 - cum);
    auto c2 = torch::sqrt(a) * (1.0 - cum_prev) / (1.0 - cum);
    auto var = b * (1.0 - cum_prev) / (1.0 - cum);
    auto f = [&](const char* name, const torch::Tensor& x) { return register_buffer(name, x.to(torch::kFloat)); };
    betas = f("betas", b);
    alphas = f("alphas", a);
    cum_alphas = f("cum_alphas", cum);
    sqrt_cum_alphas = f("sqrt_cum_alphas", torch::sqrt(cum));
    sqrt_one_minus_cum_alphas = f("sqrt_one_minus_cum_alphas", torch::sqrt(1.0 - cum));
    posterior_coeff_1 = f("posterior_coeff_1", c1);
    posterior_coeff_2 = f("posterior_coeff_2", c2);
    posterior_std = f("posterior_std", torch::sqrt(var));
    auto host = [](const torch::Tensor& x) {
        auto d = x.to(torch::kDouble).contiguous();
        return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    };
    sqrt_cum_host_ = host(sqrt_cum_alphas);
    sqrt_one_minus_cum_host_ = host(sqrt_one_minus_cum_alphas);
}

torch::Tensor DiffusionSchedule::gather(const torch::Tensor& table, const torch::Tensor& t) {
    return table.index_select(0, t.to(table.device(), torch::kLong).flatten()).view({-1, 1, 1});
}

torch::Tensor DiffusionSchedule::training_steps(int64_t batch, double power, c10::optional<at::Generator> generator) const {
    if (!(power > 0)) fail_input("timestep power must be > 0, got " + std::to_string(power));
    if (power == 1.0) return torch::randint(0, T_ + 1, {batch}, generator, torch::TensorOptions().dtype(torch::kLong));
    auto u = torch::rand({batch}, generator, torch::TensorOptions().dtype(torch::kDouble));
    return torch::floor(u.pow(power) * (T_ + 1)).clamp_max(T_).to(torch::kLong);
}

torch::Tensor DiffusionSchedule::q_sample(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& eps) const {
    const auto like = x0.options();
    return gather(sqrt_cum_alphas, t).to(like) * x0 + gather(sqrt_one_minus_cum_alphas, t).to(like) * eps;
}

torch::Tensor DiffusionSchedule::posterior_sample(const torch::Tensor& x0_hat, const torch::Tensor& x_t,
                                                  const torch::Tensor& t, const torch::Tensor& z) const {
    const auto like = x_t.options();
    return gather(posterior_coeff_1, t).to(like) * x0_hat + gather(posterior_coeff_2, t).to(like) * x_t +
           gather(posterior_std, t).to(like) * z;
}

torch::Tensor DiffusionSchedule::ddim_step(const torch::Tensor& x0_hat, const torch::Tensor& x_t, int64_t t,
                                           int64_t t_prev) const {
    const auto at = [](const std::vector<double>& v, int64_t i) { return v.at(static_cast<size_t>(i)); };
    const double sa = at(sqrt_cum_host_, t), so = at(sqrt_one_minus_cum_host_, t);
    const double sa_p = at(sqrt_cum_host_, t_prev), so_p = at(sqrt_one_minus_cum_host_, t_prev);
    auto eps_hat = (x_t - sa * x0_hat) / so;  // noise implied by the x̂₀ prediction
    return sa_p * x0_hat + so_p * eps_hat;
}

std::vector<int64_t> DiffusionSchedule::strided_steps(int count) const {
    if (count < 1) count = 1;
    if (count > T_) count = T_;
    if (count == 1) return {int64_t(T_)};
    // Evenly spaced from T (pure noise) down to 1, so that the last prediction is made at the lowest
    // noise level; distinct because count <= T.
    std::vector<int64_t> out;
    for (int i = 0; i < count; ++i)
        out.push_back(T_ - int64_t(std::llround(double(i) * double(T_ - 1) / double(count - 1))));
    return out;
}

torch::Tensor pose_loss(const torch::Tensor& pred, const torch::Tensor& target) {
    return torch::nn::functional::l1_loss(pred, target);
}

}  // namespace s2m::model
