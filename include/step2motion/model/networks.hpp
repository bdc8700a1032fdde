#pragma once
// The three Step2Motion networks together, registered as "prior", "control" and "root" so that
// named_parameters()/named_buffers() give exactly the keys of the reference's plain-dict files.
#include "step2motion/model/conditioning.hpp"
#include "step2motion/model/denoiser.hpp"
#include "step2motion/model/root_net.hpp"

#include <vector>

namespace s2m::model {

class Step2MotionImpl : public torch::nn::Module {
public:
    explicit Step2MotionImpl(const ModelConfig& config);

    // Step-independent conditioning of a window (compute once, reuse for every diffusion step).
    InsoleCondition condition(const torch::Tensor& insoles, const torch::Tensor& c_mask = {});
    // x̂₀ with the insole condition (cond != nullptr) or with no conditioning network at all.
    // `attention` (optional) receives per layer the insole attention weights [B, 8, 3S, S_k];
    // token n < S is frame n of the left leg, S..2S-1 the right leg, 2S..3S-1 the body.
    torch::Tensor denoise(const torch::Tensor& x_t, const torch::Tensor& t, const InsoleCondition* cond,
                          std::vector<torch::Tensor>* attention = nullptr);
    // Classifier-free guidance: uncond + w·(cond − uncond); w = 1 runs the conditioned pass only.
    // `attention` (optional) receives the conditioned pass's attention weights, as in denoise().
    torch::Tensor denoise_guided(const torch::Tensor& x_t, const torch::Tensor& t, const InsoleCondition& cond,
                                 double w, std::vector<torch::Tensor>* attention = nullptr);
    // Normalised root displacement [B, S, 3] from the IMU channels.
    torch::Tensor displacement(const torch::Tensor& insoles) { return root->forward(insoles); }

    ModelConfig config;
    PoseDenoiser prior{nullptr};
    InsoleConditioning control{nullptr};
    RootNet root{nullptr};
};
TORCH_MODULE(Step2Motion);

}  // namespace s2m::model
