#include "step2motion/model/denoiser.hpp"

#include "step2motion/core/error.hpp"
#include "step2motion/model/kernels.hpp"

namespace s2m::model {

DenoiserLayerImpl::DenoiserLayerImpl(const ModelConfig& c) : dropout(c.dropout) {
    const int64_t d = c.hidden_dim;
    self_attn = register_module("self_attn", SelfAttention(c.hidden_dim, c.n_heads, c.dropout));
    linear1 = register_module("linear1", Linear(d, c.d_ff));
    linear2 = register_module("linear2", Linear(c.d_ff, d));
    linear_tmp = register_module("linear_tmp", Linear(d, d));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-5)));
    norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-5)));
}

torch::Tensor DenoiserLayerImpl::forward(torch::Tensor x, const torch::Tensor& step, int index,
                                         const CrossBranch& cross) {
    // Residual branches with their dropout fused into the addition (model/kernels.hpp).
    const bool train = is_training();
    x = kernels::add_dropout(x, self_attn(norm1(x)), dropout, train);
    x = kernels::add_dropout(x, linear_tmp(step), dropout, train);  // one step term per sample, all tokens
    if (cross) x = kernels::add_dropout(x, cross(index, x), dropout, train);
    x = kernels::add_dropout(x, linear2(kernels::gelu_dropout(linear1(norm3(x)), dropout, train)), dropout, train);
    return x;
}

PoseDenoiserImpl::PoseDenoiserImpl(const ModelConfig& c) : config(c) {
    if (auto why = c.check(); !why.empty()) fail_input("model config: " + why);
    const int64_t d = c.hidden_dim;
    normalizer_id = register_buffer("normalizer_id", normalizer_id_buffer());
    left_leg_emb = register_module("left_leg_emb", Linear(io::kLegValues, d));
    right_leg_emb = register_module("right_leg_emb", Linear(io::kLegValues, d));
    body_emb = register_module("body_emb", Linear(io::kBodyValues, d));
    timestep_emb = register_module("timestep_emb", mlp({d, d, d}));
    temporal_pe = register_module("temporal_pe", PositionalEncoding(c.prior_pe_rows(), c.hidden_dim));
    for (int i = 0; i < c.num_layers; ++i) decoder_layers->push_back(DenoiserLayer(c));
    register_module("decoder_layers", decoder_layers);
    out_proj_left_leg = register_module("out_proj_left_leg", Linear(d, io::kLegValues));
    out_proj_right_leg = register_module("out_proj_right_leg", Linear(d, io::kLegValues));
    out_proj_body = register_module("out_proj_body", Linear(d, io::kBodyValues));
}

torch::Tensor PoseDenoiserImpl::step_embedding(const torch::Tensor& t) {
    if (!inference_only(*this)) return timestep_emb->forward(temporal_pe->at(t));
    // Inference: the MLP of every level 0..T computed once (in the weights' dtype), then rows picked.
    std::vector<torch::Tensor> sources;
    for (const auto& p : timestep_emb->parameters()) sources.push_back(p);
    const auto dtype = sources.front().scalar_type();
    const auto table = step_table_.get(sources, dtype, [&] {
        return timestep_emb->forward(temporal_pe->rows(config.diffusion_T + 1).to(dtype));
    });
    return table.index_select(0, t.to(torch::kLong).flatten().to(table.device()));
}

torch::Tensor PoseDenoiserImpl::forward(const torch::Tensor& x_t, const torch::Tensor& t, const CrossBranch& cross) {
    if (x_t.dim() != 3 || x_t.size(2) != io::kJointValues)
        fail_input("pose window must be [batch, frames, " + std::to_string(io::kJointValues) + "], got " + std::to_string(x_t.dim()) + "-d tensor");
    const int64_t S = x_t.size(1);
    if (S > config.input_T)
        fail_input("window of " + std::to_string(S) + " frames is longer than the model's " +
                   std::to_string(config.input_T));
    auto pe = temporal_pe->rows(S);
    auto tokens = torch::cat({left_leg_emb(x_t.narrow(2, 0, io::kLegValues)) + pe,
                              right_leg_emb(x_t.narrow(2, io::kLegValues, io::kLegValues)) + pe,
                              body_emb(x_t.narrow(2, 2 * io::kLegValues, io::kBodyValues)) + pe},
                             1);  // [B, 3S, d]: left-leg frames, right-leg frames, body frames
    auto step = step_embedding(t);
    int i = 0;
    for (auto& m : *decoder_layers) {
        tokens = m->as<DenoiserLayerImpl>()->forward(tokens, step, i, cross);
        ++i;
    }
    return torch::cat({out_proj_left_leg(tokens.narrow(1, 0, S)), out_proj_right_leg(tokens.narrow(1, S, S)),
                       out_proj_body(tokens.narrow(1, 2 * S, S))},
                      2);
}

}  // namespace s2m::model
