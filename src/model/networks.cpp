#include "step2motion/model/networks.hpp"

namespace s2m::model {

Step2MotionImpl::Step2MotionImpl(const ModelConfig& c) : config(c) {
    prior = register_module("prior", PoseDenoiser(c));
    control = register_module("control", InsoleConditioning(c));
    root = register_module("root", RootNet(c));
}

InsoleCondition Step2MotionImpl::condition(const torch::Tensor& insoles, const torch::Tensor& c_mask) {
    return control->encode(insoles, c_mask);
}

torch::Tensor Step2MotionImpl::denoise(const torch::Tensor& x_t, const torch::Tensor& t, const InsoleCondition* cond,
                                       std::vector<torch::Tensor>* attention) {
    if (!cond) return prior->forward(x_t, t);
    if (attention) attention->assign(size_t(control->num_layers()), torch::Tensor());
    auto* ctl = control.get();
    return prior->forward(x_t, t, [ctl, cond, attention](int layer, const torch::Tensor& x) {
        return ctl->attend(layer, x, *cond, attention ? &(*attention)[size_t(layer)] : nullptr);
    });
}

torch::Tensor Step2MotionImpl::denoise_guided(const torch::Tensor& x_t, const torch::Tensor& t,
                                              const InsoleCondition& cond, double w,
                                              std::vector<torch::Tensor>* attention) {
    if (w == 1.0) return denoise(x_t, t, &cond, attention);
    // One pass over 2B rows: the first B with the insole cross-attention, the last B without it (the
    // branch adds exactly zero there, as a pass that runs no conditioning network).
    const int64_t B = x_t.size(0);
    if (attention) attention->assign(size_t(control->num_layers()), torch::Tensor());
    auto* ctl = control.get();
    auto both = prior->forward(torch::cat({x_t, x_t}), torch::cat({t, t}), [&](int layer, const torch::Tensor& x) {
        auto y = ctl->attend(layer, x.narrow(0, 0, B), cond, attention ? &(*attention)[size_t(layer)] : nullptr);
        return torch::cat({y, torch::zeros_like(y)});
    });
    auto conditioned = both.narrow(0, 0, B), unconditioned = both.narrow(0, B, B);
    return unconditioned + w * (conditioned - unconditioned);
}

}  // namespace s2m::model
