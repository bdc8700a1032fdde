#pragma once
// The pose denoiser (reference §4, state_dict prefix "prior."): body-part tokens, pre-LN layers with
// self-attention, a per-layer diffusion-step term, an optional insole cross-attention branch supplied
// by the conditioning network, and a feed-forward block; predicts the clean window x̂₀.
#include "step2motion/model/config.hpp"
#include "step2motion/model/layers.hpp"

#include <functional>

namespace s2m::model {

// The cross-attention residual branch for layer i given the current tokens (un-normalised); empty
// function = unconditioned pass (no cross-attention block runs).
using CrossBranch = std::function<torch::Tensor(int layer, const torch::Tensor& x)>;

// "decoder_layers.<i>": self_attn, linear1, linear2, linear_tmp, norm1, norm3.
class DenoiserLayerImpl : public torch::nn::Module {
public:
    DenoiserLayerImpl(const ModelConfig& c);
    // x [B, N, d]; step [B, d] (the shared step embedding).
    torch::Tensor forward(torch::Tensor x, const torch::Tensor& step, int index, const CrossBranch& cross);
    SelfAttention self_attn{nullptr};
    Linear linear1{nullptr}, linear2{nullptr}, linear_tmp{nullptr};
    torch::nn::LayerNorm norm1{nullptr}, norm3{nullptr};
    double dropout;
};
TORCH_MODULE(DenoiserLayer);

class PoseDenoiserImpl : public torch::nn::Module {
public:
    explicit PoseDenoiserImpl(const ModelConfig& config);
    // x_t [B, S, 63] (S ≤ input_T), t [B] int64 in 0..diffusion_T → x̂₀ [B, S, 63].
    torch::Tensor forward(const torch::Tensor& x_t, const torch::Tensor& t, const CrossBranch& cross = {});
    // The step embedding [B, d] alone (MLP of PE[t]).
    torch::Tensor step_embedding(const torch::Tensor& t);

    ModelConfig config;
    torch::Tensor normalizer_id;
    Linear left_leg_emb{nullptr}, right_leg_emb{nullptr}, body_emb{nullptr};
    torch::nn::Sequential timestep_emb{nullptr};
    PositionalEncoding temporal_pe{nullptr};
    torch::nn::ModuleList decoder_layers;
    Linear out_proj_left_leg{nullptr}, out_proj_right_leg{nullptr}, out_proj_body{nullptr};

private:
    DerivedWeight step_table_;  // inference: step embeddings of every level
};
TORCH_MODULE(PoseDenoiser);

}  // namespace s2m::model
