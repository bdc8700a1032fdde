#pragma once
// The paper's baselines (Tables 1-2). The diffusion model with a standard cross-attention
// ("w/o insole MHA") and the pressure-only / IMU-only conditionings are options of ModelConfig
// (cross_attention, condition_inputs); the regressors and the double integration are here.
#include "step2motion/model/config.hpp"
#include "step2motion/model/layers.hpp"

namespace s2m::model {

struct RegressorConfig {
    int input_T = 100;     // window length
    int hidden_dim = 512;  // MLP width / Transformer d
    int num_layers = 2;    // hidden layers (MLP) or encoder layers (Transformer)
    int n_heads = 4;
    int d_ff = 512;
    double dropout = 0.1;
};

// Window of insoles [B, W, 50] flattened → MLP (GELU) → window of poses [B, W, 63]. Windows shorter
// than W are zero-padded at the end and the output cut back.
class MlpRegressorImpl : public torch::nn::Module {
public:
    explicit MlpRegressorImpl(const RegressorConfig& config);
    torch::Tensor forward(const torch::Tensor& insoles);
    RegressorConfig config;
    torch::nn::Sequential net{nullptr};
};
TORCH_MODULE(MlpRegressor);

// Per-frame Linear(50, d) + temporal PE → post-LN Transformer encoder → Linear(d, 63) per frame.
class TransformerRegressorImpl : public torch::nn::Module {
public:
    explicit TransformerRegressorImpl(const RegressorConfig& config);
    torch::Tensor forward(const torch::Tensor& insoles);
    RegressorConfig config;
    Linear input_emb{nullptr}, output{nullptr};
    PositionalEncoding temporal_pe{nullptr};
    EncoderStack encoder{nullptr};
};
TORCH_MODULE(TransformerRegressor);

// Root displacement by double integration of foot acceleration (Table 2's weakest baseline):
// world-frame, gravity-removed accelerations of both feet in g, [S, 50] raw insole frames (channels
// 16..18 left, 41..43 right), averaged over the feet, integrated twice (semi-implicit Euler, starting
// at rest) → per-frame displacement [S, 3] in metres.
torch::Tensor double_integration_displacement(const torch::Tensor& insoles_world_g, double rate_hz);

}  // namespace s2m::model
