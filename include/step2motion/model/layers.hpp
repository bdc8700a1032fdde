#pragma once
// Building blocks shared by the Step2Motion networks and the baselines. LibTorch 1.13's
// nn::MultiheadAttention has no batch_first and ignores boolean masks, so attention is written here,
// with the parameter names of PyTorch's nn.MultiheadAttention so that reference weights load as-is.
#include <torch/torch.h>

#include <functional>
#include <mutex>
#include <vector>

namespace s2m::model {

// Sinusoidal table (sin on even, cos on odd columns, base 10000) held in the buffer
// "positional_encoding" [rows, dim], as the reference's temporal_pe module.
class PositionalEncodingImpl : public torch::nn::Module {
public:
    PositionalEncodingImpl(int rows, int dim);
    // Rows 0..length-1, shape [length, dim]; InputError when length exceeds the table.
    torch::Tensor rows(int64_t length) const;
    // Rows at integer positions `index` (any shape) → index.shape + [dim].
    torch::Tensor at(const torch::Tensor& index) const;
    torch::Tensor positional_encoding;
};
TORCH_MODULE(PositionalEncoding);

torch::Tensor sinusoidal_table(int rows, int dim);

// A tensor derived from parameters (a folded or cast copy of weights), rebuilt when any of its
// sources changes (an optimiser step bumps their version) or another dtype is asked for. For the
// inference paths, which use the same derived weights for thousands of passes.
class DerivedWeight {
public:
    torch::Tensor get(const std::vector<torch::Tensor>& sources, at::ScalarType dtype,
                      const std::function<torch::Tensor()>& build);

private:
    std::mutex mutex_;
    torch::Tensor value_;
    std::vector<int64_t> key_;
};

// nn.Linear (same parameters, options and initialisation) that computes in the autocast dtype with
// its bias cast too. LibTorch's linear on 3-d input is matmul + add_(bias): autocast casts the matmul
// but not the float32 bias, so every biased layer added into a float32 temporary and copied it back
// (measured: 5-6 % of a bf16 training step). At inference the weights are cast once and kept.
class LinearImpl : public torch::nn::LinearImpl {
public:
    using torch::nn::LinearImpl::LinearImpl;
    torch::Tensor forward(const torch::Tensor& x);

private:
    DerivedWeight cast_weight_, cast_bias_;
};
TORCH_MODULE(Linear);

// The dtype matrix products compute in: bfloat16 under autocast on `x`'s device, else `x`'s.
at::ScalarType compute_dtype(const torch::Tensor& x);
// Eval mode without autograd: the inference paths (folded weights, in-place softmax) apply.
bool inference_only(const torch::nn::Module& m);

// Multi-head self-attention on [B, N, d] (batch first), names in_proj_weight, in_proj_bias, out_proj.
// Inference uses the in-projection with 1/√dh folded into its query rows, one batched GEMM per
// product and an in-place softmax.
class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(int dim, int heads, double dropout);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor in_proj_weight, in_proj_bias;
    Linear out_proj{nullptr};
    int dim, heads;
    double dropout;

private:
    DerivedWeight folded_weight_, folded_bias_;
};
TORCH_MODULE(SelfAttention);

// PyTorch's post-LayerNorm nn.TransformerEncoderLayer with GELU (names self_attn, linear1, linear2,
// norm1, norm2): x = LN1(x + SA(x)); x = LN2(x + FF(x)).
class EncoderLayerImpl : public torch::nn::Module {
public:
    EncoderLayerImpl(int dim, int heads, int d_ff, double dropout);
    torch::Tensor forward(torch::Tensor x);
    SelfAttention self_attn{nullptr};
    Linear linear1{nullptr}, linear2{nullptr};
    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    double dropout;
};
TORCH_MODULE(EncoderLayer);

// Holds the encoder layers under "layers.<i>", as nn.TransformerEncoder does.
class EncoderStackImpl : public torch::nn::Module {
public:
    EncoderStackImpl(int layers, int dim, int heads, int d_ff, double dropout);
    torch::Tensor forward(torch::Tensor x);
    torch::nn::ModuleList layers;
};
TORCH_MODULE(EncoderStack);

// nn.Sequential of Linear/GELU alternating: sizes {in, h1, ..., out} → "0", "2", "4" Linear children.
torch::nn::Sequential mlp(const std::vector<int64_t>& sizes);

// Exact (erf) GELU, as PyTorch's default.
inline torch::Tensor gelu_exact(const torch::Tensor& x) { return torch::gelu(x); }

// Scalar int64 buffer all three reference networks carry (which normaliser the weights were
// trained with); informative.
torch::Tensor normalizer_id_buffer();

// Scoped bf16 autocast on the CPU or a CUDA device (matrix products in bfloat16, reductions kept in
// float32 by PyTorch's policy), the C++ counterpart of `with torch.autocast(device, torch.bfloat16)`.
// Does nothing when `enable` is false; restores the previous state on destruction.
class Autocast {
public:
    explicit Autocast(bool enable = true, torch::Device device = torch::kCPU);
    ~Autocast();
    Autocast(const Autocast&) = delete;
    Autocast& operator=(const Autocast&) = delete;

private:
    bool active_, prev_enabled_ = false;
    c10::DeviceType device_;
    at::ScalarType prev_dtype_ = at::kBFloat16;
};

}  // namespace s2m::model
