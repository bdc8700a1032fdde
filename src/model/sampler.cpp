#include "step2motion/model/sampler.hpp"

#include "step2motion/core/error.hpp"

#include <ATen/Parallel.h>

namespace s2m::model {

namespace {

// Windows are independent within a denoising pass. With several intra-op threads and several windows,
// each thread denoises its own share of the windows with single-threaded kernels: a batch of ~10
// windows threaded op by op leaves the small per-head GEMMs and softmaxes poorly shared out. Shares
// hold at most kMaxWindowsPerPart windows: the attention scores of 120 windows at once (170 MB per
// tensor) were fresh mappings at every operation, and page faults took a third of the time.
constexpr int64_t kMaxWindowsPerPart = 16;

class WindowSplit {
public:
    WindowSplit(int64_t batch, bool enabled) {
        const int64_t by_threads = std::min<int64_t>(batch, at::get_num_threads());
        const int64_t by_size = (batch + kMaxWindowsPerPart - 1) / kMaxWindowsPerPart;
        const int64_t parts = enabled ? std::max(by_threads, by_size) : 1;
        for (int64_t p = 0, start = 0; p < parts; ++p) {
            const int64_t n = batch / parts + (p < batch % parts ? 1 : 0);
            ranges_.push_back({start, n});
            start += n;
        }
    }
    bool active() const { return ranges_.size() > 1; }
    void set_condition(const InsoleCondition& cond) {
        conds_.clear();
        const auto opts = cond.tokens.options().dtype(torch::kLong);
        for (auto [start, n] : ranges_) conds_.push_back(cond.select(torch::arange(start, start + n, opts)));
    }
    torch::Tensor denoise(Step2Motion& model, const torch::Tensor& x, const torch::Tensor& t, double guidance,
                          bool bf16) const {
        std::vector<torch::Tensor> out(ranges_.size());
        at::parallel_for(0, static_cast<int64_t>(ranges_.size()), 1, [&](int64_t begin, int64_t end) {
            c10::InferenceMode inference;  // per thread, as autocast is
            Autocast autocast(bf16, x.device());
            for (int64_t p = begin; p < end; ++p) {
                const auto [start, n] = ranges_[static_cast<size_t>(p)];
                out[static_cast<size_t>(p)] = model->denoise_guided(x.narrow(0, start, n), t.narrow(0, start, n),
                                                                    conds_[static_cast<size_t>(p)], guidance);
            }
        });
        return torch::cat(out, 0);
    }

private:
    std::vector<std::pair<int64_t, int64_t>> ranges_;  // (first window, count) per share
    std::vector<InsoleCondition> conds_;
};

}  // namespace

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
    if (insoles.dim() != 3 || insoles.size(2) != io::kInsoleChannels)
        fail_input("sampler: insole windows must be [batch, frames, 50]");
    c10::InferenceMode inference;
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

    auto noise = [&](const torch::Tensor& like) { return opt.noise ? opt.noise(like) : torch::randn_like(like); };
    // Poses in the insoles' dtype and on their device; bf16 autocast results come back to it.
    const auto dtype = insoles.scalar_type();
    const auto index_opts = insoles.options().dtype(torch::kLong);
    auto x = noise(torch::empty({B, S, io::kJointValues}, insoles.options()));
    InsoleCondition cond;
    // One autocast scope for the whole loop keeps the bf16 copies of the weights cached across steps.
    Autocast autocast(opt.bf16, insoles.device());
    // In bf16 too, each share under its own autocast scope (autocast state is per thread): RTF of the
    // 200-step sampler 0.36 split, 0.38-0.39 threaded op by op (2 threads, AMD Zen 5).
    WindowSplit split(B, insoles.device().is_cpu());
    auto make_condition = [&] {
        cond = model->condition(insoles, opt.c_mask);
        if (split.active()) split.set_condition(cond);
    };
    if (opt.cache_condition) make_condition();

    auto apply_known = [&](int64_t t) {
        if (!opt.inpaint.active()) return;
        auto mask = opt.inpaint.mask.to(x.options());
        auto known = t == 0 ? opt.inpaint.values.to(x.options())
                            : schedule.q_sample(opt.inpaint.values.to(x.options()), torch::full({B}, t, index_opts), noise(x));
        x = mask * known + (1.0 - mask) * x;
    };

    for (size_t i = 0; i < levels.size(); ++i) {
        const int64_t t = levels[i];
        apply_known(t);
        if (opt.on_step) opt.on_step(t, x);
        if (!opt.cache_condition) make_condition();
        auto tt = torch::full({B}, t, index_opts);
        // The attention weights are read on the last pass, over the whole batch.
        const bool last = i + 1 == levels.size();
        torch::Tensor x0 = split.active() && !(attention && last)
                               ? split.denoise(model, x, tt, opt.guidance, opt.bf16)
                               : model->denoise_guided(x, tt, cond, opt.guidance, attention && last ? attention : nullptr);
        x0 = x0.to(dtype);
        if (last) {
            x = x0;  // the final step returns the clean prediction (σ₁ = 0, c₂(1) = 0)
        } else if (full) {
            x = schedule.posterior_sample(x0, x, tt, noise(x));
        } else {
            x = schedule.ddim_step(x0, x, t, levels[i + 1]);
        }
    }
    apply_known(0);
    if (opt.on_step) opt.on_step(0, x);
    if (attention)
        for (auto& a : *attention) a = a.to(dtype);
    return x;
}

}  // namespace s2m::model
