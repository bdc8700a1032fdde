#include "step2motion/model/layers.hpp"

#include "step2motion/core/error.hpp"
#include "step2motion/model/kernels.hpp"
#include "step2motion/model/torch_compat.hpp"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>

#include <cmath>

namespace s2m::model {

namespace F = torch::nn::functional;

torch::Tensor sinusoidal_table(int rows, int dim) {
    // Same float32 operations as the reference so that the table matches to the last bits.
    auto position = torch::arange(rows, torch::kFloat).unsqueeze(1);
    auto div_term = torch::exp(torch::arange(0, dim, 2, torch::kFloat) * (-std::log(10000.0) / dim));
    auto pe = torch::zeros({rows, dim});
    pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                  torch::sin(position * div_term));
    pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                  torch::cos(position * div_term));
    return pe;
}

PositionalEncodingImpl::PositionalEncodingImpl(int rows, int dim) {
    positional_encoding = register_buffer("positional_encoding", sinusoidal_table(rows, dim));
}

torch::Tensor PositionalEncodingImpl::rows(int64_t length) const {
    if (length > positional_encoding.size(0))
        fail_input("sequence of " + std::to_string(length) + " frames is longer than the model's window of " +
                   std::to_string(positional_encoding.size(0)));
    return positional_encoding.narrow(0, 0, length);
}

torch::Tensor PositionalEncodingImpl::at(const torch::Tensor& index) const {
    return positional_encoding.index({index});
}

SelfAttentionImpl::SelfAttentionImpl(int dim_, int heads_, double dropout_)
    : dim(dim_), heads(heads_), dropout(dropout_) {
    in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
    in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
    out_proj = register_module("out_proj", Linear(dim, dim));
    torch::NoGradGuard ng;
    torch::nn::init::xavier_uniform_(in_proj_weight);
    out_proj->bias.zero_();
}

torch::Tensor DerivedWeight::get(const std::vector<torch::Tensor>& sources, at::ScalarType dtype,
                                  const std::function<torch::Tensor()>& build) {
    std::vector<int64_t> key{static_cast<int64_t>(dtype)};
    for (const auto& s : sources) {
        // The storage address too: Module::to and load swap a parameter's storage, not its impl.
        key.push_back(reinterpret_cast<int64_t>(s.unsafeGetTensorImpl()));
        key.push_back(reinterpret_cast<int64_t>(s.data_ptr()));
        key.push_back(static_cast<int64_t>(s._version()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!value_.defined() || key != key_) {
        torch::NoGradGuard no_grad;
        value_ = build().to(dtype).contiguous();
        key_ = key;
    }
    return value_;
}

at::ScalarType compute_dtype(const torch::Tensor& x) {
    const auto d = x.device().type();
    return compat::autocast_enabled(d) && x.is_floating_point() ? compat::autocast_dtype(d) : x.scalar_type();
}

namespace {
// x·wᵀ + b with all three in the compute dtype (a no-op cast outside autocast), so that the bias is
// added in bfloat16 rather than into a float32 temporary that is then copied back.
torch::Tensor linear_in_compute_dtype(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
    const auto dt = compute_dtype(x);
    return F::linear(x.to(dt), w.to(dt), b.defined() ? b.to(dt) : b);
}
}  // namespace

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
    const auto dt = compute_dtype(x);
    if (!inference_only(*this) || dt == weight.scalar_type()) return linear_in_compute_dtype(x, weight, bias);
    // Inference in a lower precision: the cast weights are kept across passes.
    return linear_in_compute_dtype(x, cast_weight_.get({weight}, dt, [&] { return weight; }),
                                   bias.defined() ? cast_bias_.get({bias}, dt, [&] { return bias; }) : bias);
}

bool inference_only(const torch::nn::Module& m) { return !m.is_training() && !torch::GradMode::is_enabled(); }

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x) {
    const auto B = x.size(0), N = x.size(1);
    const int64_t dh = dim / heads;
    const double scale = 1.0 / std::sqrt(double(dh));
    // 1/√dh folded into the query rows of the projection (3d·d values, not N·N scores); for inference
    // the folded weights are kept in the compute dtype.
    auto fold = [&](const torch::Tensor& t) { return torch::cat({t.narrow(0, 0, dim) * scale, t.narrow(0, dim, 2 * dim)}); };
    const bool infer = inference_only(*this);
    const auto dt = compute_dtype(x);
    const auto w = infer ? folded_weight_.get({in_proj_weight}, dt, [&] { return fold(in_proj_weight); }) : fold(in_proj_weight);
    const auto b = infer ? folded_bias_.get({in_proj_bias}, dt, [&] { return fold(in_proj_bias); }) : fold(in_proj_bias);
    // [B, N, 3d] → q, k, v each [B·h, N, dh], made contiguous in one copy so that the batched GEMMs
    // below need no further copies; unbind, not indexing, so that a backward stacks the three
    // gradients in one copy.
    auto qkv = linear_in_compute_dtype(x, w, b).view({B, N, 3, heads, dh}).permute({2, 0, 3, 1, 4}).contiguous().unbind(0);
    if (infer && compat::use_fused_attention(qkv[0]))  // [B, h, N, dh] each
        return out_proj(compat::fused_attention(qkv[0], qkv[1], qkv[2], {}).transpose(1, 2).reshape({B, N, dim}));
    auto q = qkv[0].view({B * heads, N, dh}), k = qkv[1].view({B * heads, N, dh}), v = qkv[2].view({B * heads, N, dh});
    auto attn = torch::bmm(q, k.transpose(1, 2));
    if (infer)
        kernels::softmax_(attn);
    else
        attn = kernels::dropout(kernels::softmax(attn), dropout, is_training());
    return out_proj(torch::bmm(attn, v).view({B, heads, N, dh}).transpose(1, 2).reshape({B, N, dim}));
}

EncoderLayerImpl::EncoderLayerImpl(int dim, int heads, int d_ff, double dropout_) : dropout(dropout_) {
    self_attn = register_module("self_attn", SelfAttention(dim, heads, dropout));
    linear1 = register_module("linear1", Linear(dim, d_ff));
    linear2 = register_module("linear2", Linear(d_ff, dim));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-5)));
}

torch::Tensor EncoderLayerImpl::forward(torch::Tensor x) {
    const bool train = is_training();
    x = norm1(kernels::add_dropout(x, self_attn(x), dropout, train));
    x = norm2(kernels::add_dropout(x, linear2(kernels::gelu_dropout(linear1(x), dropout, train)), dropout, train));
    return x;
}

EncoderStackImpl::EncoderStackImpl(int n, int dim, int heads, int d_ff, double dropout) {
    for (int i = 0; i < n; ++i) layers->push_back(EncoderLayer(dim, heads, d_ff, dropout));
    register_module("layers", layers);
}

torch::Tensor EncoderStackImpl::forward(torch::Tensor x) {
    for (auto& layer : *layers) x = layer->as<EncoderLayer>()->forward(x);
    return x;
}

torch::nn::Sequential mlp(const std::vector<int64_t>& sizes) {
    torch::nn::Sequential seq;
    for (size_t i = 0; i + 1 < sizes.size(); ++i) {
        if (i > 0) seq->push_back(torch::nn::GELU());
        seq->push_back(Linear(sizes[i], sizes[i + 1]));
    }
    return seq;
}

torch::Tensor normalizer_id_buffer() { return torch::zeros({}, torch::kLong); }

Autocast::Autocast(bool enable, torch::Device device) : active_(enable), device_(device.type()) {
    if (!active_) return;
    prev_enabled_ = compat::autocast_enabled(device_);
    prev_dtype_ = compat::autocast_dtype(device_);
    compat::set_autocast(device_, true, at::kBFloat16);
    at::autocast::increment_nesting();
}

Autocast::~Autocast() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    compat::set_autocast(device_, prev_enabled_, prev_dtype_);
}

}  // namespace s2m::model
