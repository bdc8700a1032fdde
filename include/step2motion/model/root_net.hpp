#pragma once
// The IMU-only root displacement network (reference §6, state_dict prefix "root."): embedding MLP of
// the 12 IMU channels + temporal PE → post-LN Transformer encoder → Linear(d, 3) per frame.
#include "step2motion/model/config.hpp"
#include "step2motion/model/layers.hpp"

namespace s2m::model {

// The 12 IMU channels of a [.., 50] insole tensor: left accel+gyro (16..21), right (41..46).
torch::Tensor imu_channels(const torch::Tensor& insoles);

class RootNetImpl : public torch::nn::Module {
public:
    explicit RootNetImpl(const ModelConfig& config);
    // insoles [B, S, 50] (only the IMU channels are read) → normalised displacement [B, S, 3].
    torch::Tensor forward(const torch::Tensor& insoles);
    torch::Tensor forward_imu(const torch::Tensor& imu);  // [B, S, 12]

    ModelConfig config;
    torch::Tensor normalizer_id;
    PositionalEncoding temporal_pe{nullptr};
    torch::nn::Sequential input_emb{nullptr};
    EncoderStack encoder{nullptr};
    Linear linear{nullptr};
};
TORCH_MODULE(RootNet);

// MSE(pred, target) + λ·MSE(cumsum_t(pred), cumsum_t(target)) over [B, S, 3] (time = dim 1).
torch::Tensor translation_loss(const torch::Tensor& pred, const torch::Tensor& target, double lambda = 0.001);

}  // namespace s2m::model
