#pragma once
// Building blocks shared by the Step2Motion networks and the baselines. LibTorch 1.13's
// nn::MultiheadAttention has no batch_first and ignores boolean masks, so attention is written here,
// with the parameter names of PyTorch's nn.MultiheadAttention so that reference weights load as-is.
#include <torch/torch.h>

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

// Multi-head self-attention on [B, N, d] (batch first), names in_proj_weight, in_proj_bias, out_proj.
class SelfAttentionImpl : public torch::nn::Module {
public:
    SelfAttentionImpl(int dim, int heads, double dropout);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor in_proj_weight, in_proj_bias;
    torch::nn::Linear out_proj{nullptr};
    int dim, heads;
    double dropout;
};
TORCH_MODULE(SelfAttention);

// PyTorch's post-LayerNorm nn.TransformerEncoderLayer with GELU (names self_attn, linear1, linear2,
// norm1, norm2): x = LN1(x + SA(x)); x = LN2(x + FF(x)).
class EncoderLayerImpl : public torch::nn::Module {
public:
    EncoderLayerImpl(int dim, int heads, int d_ff, double dropout);
    torch::Tensor forward(torch::Tensor x);
    SelfAttention self_attn{nullptr};
    torch::nn::Linear linear1{nullptr}, linear2{nullptr};
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

// a [n, r, k] @ b [n, k, c] → [n, r, c]. Without autograd the n products are shared out across the
// intra-op threads, one single-threaded GEMM each: the many small per-head GEMMs of attention do not
// thread well inside BLAS (torch::bmm runs them one after another). With autograd: torch::bmm.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b);

// Exact (erf) GELU, as PyTorch's default.
inline torch::Tensor gelu_exact(const torch::Tensor& x) { return torch::gelu(x); }

// Scalar int64 buffer all three reference networks carry (which normaliser the weights were
// trained with); informative.
torch::Tensor normalizer_id_buffer();

// Scoped CPU autocast (matrix products in bfloat16, reductions kept in float32 by PyTorch's policy),
// the C++ counterpart of `with torch.autocast("cpu", dtype=torch.bfloat16)`. Does nothing when
// `enable` is false; restores the previous state on destruction.
class CpuAutocast {
public:
    explicit CpuAutocast(bool enable = true);
    ~CpuAutocast();
    CpuAutocast(const CpuAutocast&) = delete;
    CpuAutocast& operator=(const CpuAutocast&) = delete;

private:
    bool active_, prev_enabled_ = false;
    at::ScalarType prev_dtype_ = at::kBFloat16;
};

}  // namespace s2m::model
