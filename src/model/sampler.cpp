#include "step2motion/model/sampler.hpp"

#include "step2motion/core/error.hpp"

namespace s2m::model {

std::vector<int64_t> sampler_levels(const DiffusionSchedule& schedule, int steps) {
    if (steps <= 0 || steps >= schedule.steps()) {
        std::vector<int64_t> all;
        for (int64_t t = schedule.steps(); t >= 1; --t) all.push_back(t);
        return all;
    }
    return schedule.strided_steps(steps);
}

torch::Tensor sample_poses(Step2Motion& model, const DiffusionSchedule& schedule, const torch::Tensor& insoles,
                           const SamplerOptions& opt, std::vector<torch::Tensor>* attention) {
    if (insoles.dim() != 3 || insoles.size(2) != kInsoleChannels)
        fail_input("sampler: insole windows must be [batch, frames, 50]");
    torch::NoGradGuard no_grad;
    const int64_t B = insoles.size(0), S = insoles.size(1);
    const bool full = opt.steps <= 0 || opt.steps >= schedule.steps();
    const auto levels = sampler_levels(schedule, opt.steps);
    if (opt.inpaint.active() && (opt.inpaint.values.size(0) != B || opt.inpaint.values.size(1) != S))
        fail_input("sampler: inpainting values must match the insole windows' batch and frames");

    // Dropout off while sampling; the caller's mode is restored on the way out.
    struct EvalScope {
        Step2Motion& m;
        bool was;
        explicit EvalScope(Step2Motion& mm) : m(mm), was(mm->is_training()) { m->eval(); }
        ~EvalScope() { m->train(was); }
    } eval_scope(model);

    auto x = torch::randn({B, S, kPoseValues});
    InsoleCondition cond;
    // One autocast scope for the whole loop keeps the bf16 copies of the weights cached across steps.
    CpuAutocast autocast(opt.bf16);
    auto make_condition = [&] { cond = model->condition(insoles, opt.c_mask); };
    if (opt.cache_condition) make_condition();

    auto apply_known = [&](int64_t t) {
        if (!opt.inpaint.active()) return;
        auto mask = opt.inpaint.mask.to(x.dtype());
        auto known = t == 0 ? opt.inpaint.values
                            : schedule.q_sample(opt.inpaint.values, torch::full({B}, t, torch::kLong),
                                                torch::randn_like(x));
        x = mask * known + (1.0 - mask) * x;
    };

    for (size_t i = 0; i < levels.size(); ++i) {
        const int64_t t = levels[i];
        apply_known(t);
        if (opt.on_step) opt.on_step(t, x);
        if (!opt.cache_condition) make_condition();
        auto tt = torch::full({B}, t, torch::kLong);
        torch::Tensor x0;
        {
            const bool last = i + 1 == levels.size();
            if (attention && last && opt.guidance == 1.0) x0 = model->denoise(x, tt, &cond, attention);
            else if (attention && last) {
                auto c_out = model->denoise(x, tt, &cond, attention);
                auto u_out = model->denoise(x, tt, nullptr);
                x0 = u_out + opt.guidance * (c_out - u_out);
            } else x0 = model->denoise_guided(x, tt, cond, opt.guidance);
        }
        x0 = x0.to(torch::kFloat);
        if (i + 1 == levels.size()) {
            x = x0;  // the final step returns the clean prediction (σ₁ = 0, c₂(1) = 0)
        } else if (full) {
            x = schedule.posterior_sample(x0, x, tt, torch::randn_like(x));
        } else {
            x = schedule.ddim_step(x0, x, t, levels[i + 1]);
        }
    }
    apply_known(0);
    if (opt.on_step) opt.on_step(0, x);
    if (attention)
        for (auto& a : *attention) a = a.to(torch::kFloat);
    return x;
}

}  // namespace s2m::model
