#include "step2motion/model/conditioning.hpp"

#include "step2motion/core/error.hpp"
#include "step2motion/model/kernels.hpp"
#include "step2motion/model/torch_compat.hpp"

#include <cmath>

namespace s2m::model {

const std::array<InsoleComponent, io::kInsoleComponents>& insole_components() {
    static const std::array<InsoleComponent, io::kInsoleComponents> c{{
        {"lpressure_toes", io::kToesOffset, io::kCellsPerRegion, true, false},
        {"lpressure_heel", io::kHeelOffset, io::kCellsPerRegion, true, false},
        {"limu", io::kAccOffset, 6, false, true},
        {"lothers", io::kForceOffset, 3, true, false},
        {"rpressure_toes", io::kRightFootOffset + io::kToesOffset, io::kCellsPerRegion, true, false},
        {"rpressure_heel", io::kRightFootOffset + io::kHeelOffset, io::kCellsPerRegion, true, false},
        {"rimu", io::kRightFootOffset + io::kAccOffset, 6, false, true},
        {"rothers", io::kRightFootOffset + io::kForceOffset, 3, true, false},
    }};
    return c;
}

InsoleCondition InsoleCondition::select(const torch::Tensor& rows) const {
    InsoleCondition out;
    out.tokens = tokens.index_select(0, rows);
    for (auto& k : keys) out.keys.push_back(k.index_select(0, rows));
    for (auto& v : values) out.values.push_back(v.index_select(0, rows));
    return out;
}

InsoleCrossAttentionImpl::InsoleCrossAttentionImpl(int dim_, CrossAttentionKind kind_, bool with_locality)
    : dim(dim_), kind(kind_) {
    const int64_t H = io::kInsoleComponents, dh = dim / H;
    // Uniform init with the fan-in bound a Linear(d, d/8) would use.
    const double bound = 1.0 / std::sqrt(double(dim));
    auto uni = [&](std::vector<int64_t> shape) { return torch::empty(shape).uniform_(-bound, bound); };
    proj_q = register_parameter("proj_q", uni({H, dim, dh}));
    bias_q = register_parameter("bias_q", uni({1, H, 1, dh}));
    proj_k = register_parameter("proj_k", uni({H, dim, dh}));
    bias_k = register_parameter("bias_k", uni({1, H, 1, dh}));
    proj_v = register_parameter("proj_v", uni({H, dim, dh}));
    bias_v = register_parameter("bias_v", uni({1, H, 1, dh}));
    scale = register_buffer("scale", torch::scalar_tensor(std::sqrt(double(dh)), torch::kDouble));
    output_proj = register_module("output_proj", Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
    // One logit per frame of distance: at the start a frame reads mostly the insoles within ±2 frames.
    if (with_locality) locality = register_parameter("locality", torch::ones({1, H, 1, 1}));
}

torch::Tensor InsoleCrossAttentionImpl::frame_distance(int64_t N, int64_t Sk) const {
    std::lock_guard<std::mutex> lock(distance_mutex_);
    const auto device = proj_q.device();
    auto& d = distance_cache_[{N, Sk}];
    if (!d.defined() || d.device() != device) {
        // Pose tokens are 3 body parts x S frames, insole keys (per head) S frames or 8 x S (standard).
        // Built where the weights live (float32: the in-place softmax reads it as such).
        const int64_t S = N / 3;
        // A normal tensor even when first asked for while sampling: training reuses the cache, and
        // autograd cannot save an inference tensor.
        c10::InferenceMode normal_tensors(false);
        torch::NoGradGuard no_grad;
        const auto opts = torch::TensorOptions().device(device).dtype(torch::kLong);
        auto pose_frame = torch::arange(N, opts).remainder(S).to(torch::kFloat);
        auto key_frame = torch::arange(Sk, opts).remainder(S).to(torch::kFloat);
        d = (pose_frame.unsqueeze(1) - key_frame.unsqueeze(0)).abs().contiguous();  // [N, Sk]
    }
    return d;
}

std::pair<torch::Tensor, torch::Tensor> InsoleCrossAttentionImpl::keys_values(const torch::Tensor& tokens) const {
    // Per component: [B, 8, S, d] @ [8, d, dh] → [B, 8, S, dh]. Standard: all 8·S tokens for every head.
    auto src = tokens;
    if (kind == CrossAttentionKind::Standard)
        src = tokens.reshape({tokens.size(0), 1, tokens.size(1) * tokens.size(2), tokens.size(3)});
    // Biases in the product's dtype: under autocast the keys stay bfloat16 (no float32 copy to cast back).
    auto k = torch::matmul(src, proj_k), v = torch::matmul(src, proj_v);
    return {k + bias_k.to(k.scalar_type()), v + bias_v.to(v.scalar_type())};
}

torch::Tensor InsoleCrossAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& keys,
                                                const torch::Tensor& values, torch::Tensor* weights) {
    const int64_t B = x.size(0), N = x.size(1), H = io::kInsoleComponents, dh = dim / H;
    // One GEMM for the 8 query projections: [d, 8·dh] with head-major columns. The 1/√dh scale is
    // folded into the weights (d·d values) rather than put on the logits (N·S_k values); for
    // inference the folded weights are kept in the compute dtype.
    const double scale = 1.0 / std::sqrt(double(dh));
    const bool infer = inference_only(*this);
    auto fold_q = [&] { return proj_q.permute({1, 0, 2}).reshape({dim, H * dh}) * scale; };
    auto fold_bias = [&] { return bias_q * scale; };
    const auto dt = compute_dtype(x);
    const auto wq = infer ? folded_q_.get({proj_q}, dt, fold_q) : fold_q().to(dt);
    const auto bq = infer ? folded_bias_q_.get({bias_q}, dt, fold_bias) : fold_bias().to(dt);
    const auto q = torch::matmul(x.to(dt), wq).view({B, N, H, dh}).transpose(1, 2) + bq;  // [B, 8, N, dh]
    const int64_t Sk = keys.size(2);
    const bool per_head = keys.size(1) == H;  // Standard: one key set [B, 1, 8·S, dh] for all heads
    const auto k = keys.to(q.dtype());  // a no-op for keys made under the same autocast
    if (infer && per_head && !weights && compat::use_fused_attention(q)) {
        torch::Tensor bias;  // the locality penalty as an additive mask [1, 8, N, S_k]
        if (locality.defined())
            bias = (locality.detach().abs().to(torch::kFloat).view({1, H, 1, 1}) * frame_distance(N, Sk).neg()).to(q.dtype());
        const auto heads = compat::fused_attention(q, k, values.to(q.dtype()), bias);  // [B, 8, N, dh]
        return output_proj(heads.transpose(1, 2).reshape({B, N, dim}));
    }
    auto logits = per_head ? torch::bmm(q.reshape({B * H, N, dh}), k.reshape({B * H, Sk, dh}).transpose(1, 2)).view({B, H, N, Sk})
                           : torch::matmul(q, k.transpose(-2, -1));
    torch::Tensor attn;
    if (!locality.defined()) {
        attn = kernels::softmax(logits);
    } else if (!infer) {
        attn = kernels::softmax(logits - locality.abs().to(logits.dtype()) * frame_distance(N, Sk));
    } else {  // inference: the penalty fused into an in-place softmax
        const auto scale = locality.detach().to(torch::kCPU, torch::kFloat).contiguous();
        attn = logits.contiguous();
        kernels::softmax_(attn, frame_distance(N, Sk), std::vector<float>(scale.data_ptr<float>(), scale.data_ptr<float>() + H));
    }
    if (weights) *weights = attn.detach();
    const auto v = values.to(attn.dtype());
    auto heads = per_head ? torch::bmm(attn.reshape({B * H, N, Sk}), v.reshape({B * H, Sk, dh})).view({B, H, N, dh})
                          : torch::matmul(attn, v);  // [B, 8, N, dh]
    return output_proj(heads.transpose(1, 2).reshape({B, N, dim}));
}

ConditionLayerImpl::ConditionLayerImpl(int dim, CrossAttentionKind kind, bool locality) {
    cross_attn = register_module("cross_attn", InsoleCrossAttention(dim, kind, locality));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
}

InsoleConditioningImpl::InsoleConditioningImpl(const ModelConfig& cfg) : config(cfg) {
    if (auto why = cfg.check(); !why.empty()) fail_input("model config: " + why);
    normalizer_id = register_buffer("normalizer_id", normalizer_id_buffer());
    temporal_pe = register_module("temporal_pe", PositionalEncoding(cfg.input_T, cfg.hidden_dim));
    const int64_t d = cfg.hidden_dim;
    for (const auto& comp : insole_components())
        condition_emb.push_back(register_module(std::string("condition_emb_") + comp.name, mlp({comp.count, d, d, d})));
    if (cfg.insole_encoder_layers > 0)
        insole_encoder = register_module("insole_encoder", EncoderStack(cfg.insole_encoder_layers, int(d), cfg.n_heads, cfg.d_ff, cfg.dropout));
    for (int i = 0; i < cfg.num_layers; ++i) decoder_layers->push_back(ConditionLayer(cfg.hidden_dim, cfg.cross_attention, cfg.cross_attention_locality));
    register_module("decoder_layers", decoder_layers);
}

InsoleCondition InsoleConditioningImpl::encode(const torch::Tensor& c, const torch::Tensor& c_mask) {
    if (c.dim() != 3 || c.size(2) != io::kInsoleChannels)
        fail_input("insole window must be [batch, frames, 50], got " + std::to_string(c.dim()) + "-d tensor");
    const int64_t B = c.size(0), S = c.size(1);
    auto pe = temporal_pe->rows(S);
    std::vector<torch::Tensor> toks;
    toks.reserve(io::kInsoleComponents);
    const auto& comps = insole_components();
    for (size_t i = 0; i < comps.size(); ++i) {
        auto e = condition_emb[i]->forward(c.narrow(2, comps[i].offset, comps[i].count));  // [B, S, d]
        bool keep = config.condition_inputs == ConditionInputs::All ||
                    (config.condition_inputs == ConditionInputs::PressureOnly && comps[i].pressure) ||
                    (config.condition_inputs == ConditionInputs::ImuOnly && comps[i].imu);
        if (!keep) e = torch::zeros_like(e);
        else if (c_mask.defined()) e = e * c_mask.to(e.dtype()).view({B, 1, 1});
        // In the compute dtype, which the keys' GEMM reads, unless the encoder's residual stream
        // (float32 under autocast, as its LayerNorms need) reads them first.
        toks.push_back(insole_encoder ? e + pe : e + pe.to(e.dtype()));
    }
    InsoleCondition out;
    torch::Tensor by_component;  // [8, B, S, d]
    if (insole_encoder) {  // each component's sequence on its own: [B·8, S, d]
        out.tokens = torch::stack(toks, 1);
        out.tokens = insole_encoder->forward(out.tokens.reshape({B * io::kInsoleComponents, S, -1})).view(out.tokens.sizes());
        by_component = out.tokens.transpose(0, 1).contiguous();
    } else {
        by_component = torch::stack(toks, 0);
        out.tokens = by_component.transpose(0, 1);  // [B, 8, S, d]
    }
    if (config.cross_attention != CrossAttentionKind::PerComponent) {
        for (auto& m : *decoder_layers) {
            auto kv = m->as<ConditionLayerImpl>()->cross_attn->keys_values(out.tokens);
            out.keys.push_back(kv.first);
            out.values.push_back(kv.second);
        }
        return out;
    }
    // Per component, the keys and values of every layer in one batched GEMM:
    // [8, B·S, d] @ [8, d, 2·layers·dh] (instead of 2·layers broadcast matmuls over B·8 small ones).
    std::vector<torch::Tensor> weights, biases;
    for (auto& m : *decoder_layers) {
        const auto& ca = m->as<ConditionLayerImpl>()->cross_attn;
        weights.insert(weights.end(), {ca->proj_k, ca->proj_v});
        biases.insert(biases.end(), {ca->bias_k.view({io::kInsoleComponents, 1, -1}), ca->bias_v.view({io::kInsoleComponents, 1, -1})});
    }
    const int64_t dh = config.hidden_dim / io::kInsoleComponents;
    auto kv = torch::bmm(by_component.view({io::kInsoleComponents, B * S, -1}), torch::cat(weights, 2));
    kv = kv + torch::cat(biases, 2).to(kv.scalar_type());  // bfloat16 keys under autocast, as keys_values
    auto part = [&](int64_t i) { return kv.narrow(2, i * dh, dh).view({io::kInsoleComponents, B, S, dh}).transpose(0, 1).contiguous(); };
    for (int64_t l = 0; l < static_cast<int64_t>(weights.size() / 2); ++l) {
        out.keys.push_back(part(2 * l));
        out.values.push_back(part(2 * l + 1));
    }
    return out;
}

torch::Tensor InsoleConditioningImpl::attend(int layer, const torch::Tensor& x, const InsoleCondition& cond,
                                             torch::Tensor* weights) {
    auto* l = decoder_layers[layer]->as<ConditionLayerImpl>();
    return l->cross_attn->forward(l->norm(x), cond.keys[layer], cond.values[layer], weights);
}

}  // namespace s2m::model
