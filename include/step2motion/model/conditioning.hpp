#pragma once
// The insole conditioning network (reference §5, state_dict prefix "control."): 8 component MLPs and,
// per denoiser layer, a cross-attention whose head i attends only to insole component i.
#include "step2motion/model/config.hpp"
#include "step2motion/model/layers.hpp"

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace s2m::model {

// The 8 components in the reference's registration order (= head order), with their channels in
// the 50-channel insole frame (reference §2; right foot = left + 25).
struct InsoleComponent {
    const char* name;  // "lpressure_toes" → module "condition_emb_lpressure_toes"
    int offset, count;
    bool pressure, imu;  // pressure cells / force+CoP count as pressure for the ablations
};
const std::array<InsoleComponent, io::kInsoleComponents>& insole_components();

// Everything the cross-attention needs from a window's insoles. It does not depend on the diffusion
// step, so a sampler computes it once per window and reuses it for all steps.
struct InsoleCondition {
    torch::Tensor tokens;                             // [B, 8, S, d]: masked embeddings + PE
    std::vector<torch::Tensor> keys, values;          // per layer, [B, 8, S_k, d/8]
    int64_t batch() const { return tokens.size(0); }
    // Rows b of every tensor (for the windows of a batch that differ in guidance, etc.).
    InsoleCondition select(const torch::Tensor& rows) const;
};

// Parameters proj_q/k/v [8, d, d/8], bias_q/k/v [1, 8, 1, d/8], buffer scale (float64 √(d/8)),
// output_proj Linear(d, d, bias=false).
class InsoleCrossAttentionImpl : public torch::nn::Module {
public:
    InsoleCrossAttentionImpl(int dim, CrossAttentionKind kind, bool locality = false);
    // tokens [B, 8, S, d] → keys, values [B, 8, S_k, d/8] (S_k = S per component, 8·S for Standard).
    std::pair<torch::Tensor, torch::Tensor> keys_values(const torch::Tensor& tokens) const;
    // x: layer-normalised pose tokens [B, N, d]. `weights` (optional) receives [B, 8, N, S_k].
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keys, const torch::Tensor& values,
                          torch::Tensor* weights = nullptr);
    torch::Tensor proj_q, bias_q, proj_k, bias_k, proj_v, bias_v, scale;
    // With ModelConfig::cross_attention_locality: [1, 8, 1, 1], the logit penalty per frame of
    // distance between a pose token's frame and an insole token's frame (its magnitude is used).
    torch::Tensor locality;
    Linear output_proj{nullptr};
    int dim;
    CrossAttentionKind kind;

private:
    // |pose frame − insole frame| [N, Sk] for the locality penalty, built once per window length.
    torch::Tensor frame_distance(int64_t N, int64_t Sk) const;
    mutable std::mutex distance_mutex_;
    mutable std::map<std::pair<int64_t, int64_t>, torch::Tensor> distance_cache_;
    DerivedWeight folded_q_, folded_bias_q_;  // inference: query projection with 1/√dh folded in
};
TORCH_MODULE(InsoleCrossAttention);

// "decoder_layers.<i>": the cross-attention and its own LayerNorm "norm".
class ConditionLayerImpl : public torch::nn::Module {
public:
    ConditionLayerImpl(int dim, CrossAttentionKind kind, bool locality = false);
    InsoleCrossAttention cross_attn{nullptr};
    torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(ConditionLayer);

class InsoleConditioningImpl : public torch::nn::Module {
public:
    explicit InsoleConditioningImpl(const ModelConfig& config);
    // c: normalised insoles [B, S, 50]; c_mask: [B] (1 keep, 0 drop), undefined = all kept.
    InsoleCondition encode(const torch::Tensor& c, const torch::Tensor& c_mask = {});
    // The residual branch of denoiser layer `layer`: CrossAttention(LN(x)). `weights` as above.
    torch::Tensor attend(int layer, const torch::Tensor& x, const InsoleCondition& cond,
                         torch::Tensor* weights = nullptr);
    int num_layers() const { return int(decoder_layers->size()); }

    ModelConfig config;
    torch::Tensor normalizer_id;
    PositionalEncoding temporal_pe{nullptr};
    std::vector<torch::nn::Sequential> condition_emb;  // in insole_components() order
    EncoderStack insole_encoder{nullptr};              // with config.insole_encoder_layers > 0
    torch::nn::ModuleList decoder_layers;
};
TORCH_MODULE(InsoleConditioning);

}  // namespace s2m::model
