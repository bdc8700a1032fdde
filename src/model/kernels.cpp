#include "step2motion/model/kernels.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels_table.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/system.hpp"

namespace s2m::model::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Chosen {
    const KernelTable* table;
    std::string name;
};

// The best variant this CPU runs that is not above `cap` ("" = no cap).
Chosen best_variant(const std::string& cap) {
    const CpuFeatures f = cpu_features();
    const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && cap != "avx2" && cap != "generic";
    const bool avx2 = f.avx2 && f.fma && cap != "generic";
    if (avx512) return Chosen{&avx512::table(), "avx512"};
    if (avx2) return Chosen{&avx2::table(), "avx2"};
    return Chosen{&generic::table(), "generic"};
}

Chosen& chosen() {
    static Chosen c = [] {
        const char* env = std::getenv("S2M_KERNELS");
        return best_variant(env ? env : "");
    }();
    return c;
}
const KernelTable& kt() { return *chosen().table; }

// Work split: chunks of at least this many elements per task.
constexpr int64_t kGrainElements = 1 << 15;

bool fast_dtype(const torch::Tensor& t) {
    return t.device().is_cpu() && (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16);
}
bf16_t* bf(const torch::Tensor& t) { return reinterpret_cast<bf16_t*>(t.data_ptr<at::BFloat16>()); }
const bf16_t* cbf(const torch::Tensor& t) { return reinterpret_cast<const bf16_t*>(t.data_ptr<at::BFloat16>()); }

uint64_t draw_seed() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

// Kept elements have hash >= threshold: P(keep) = 1 − p.
uint32_t drop_threshold(double p) { return static_cast<uint32_t>(std::min(p, 1.0) * 4294967296.0 - (p >= 1.0 ? 1 : 0)); }
float keep_scale(double p) { return p >= 1.0 ? 0.0f : static_cast<float>(1.0 / (1.0 - p)); }

void for_ranges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    at::parallel_for(0, n, std::max<int64_t>(1, grain), fn);
}

// Raw kernels on contiguous tensors.
torch::Tensor softmax_raw(const torch::Tensor& x_in) {
    auto x = x_in.contiguous();
    auto y = torch::empty_like(x);
    const int64_t cols = x.size(-1), rows = x.numel() / std::max<int64_t>(1, cols);
    const bool f32 = x.scalar_type() == torch::kFloat;
    for_ranges(rows, kGrainElements / std::max<int64_t>(1, cols), [&](int64_t b, int64_t e) {
        if (f32) kt().softmax_f32(x.data_ptr<float>() + b * cols, y.data_ptr<float>() + b * cols, e - b, cols, nullptr, 1, 0);
        else kt().softmax_bf16(cbf(x) + b * cols, bf(y) + b * cols, e - b, cols, nullptr, 1, 0);
    });
    return y;
}

torch::Tensor softmax_backward_raw(const torch::Tensor& y, const torch::Tensor& g_in) {
    auto g = g_in.to(y.scalar_type()).contiguous();
    auto dx = torch::empty_like(y);
    const int64_t cols = y.size(-1), rows = y.numel() / std::max<int64_t>(1, cols);
    const bool f32 = y.scalar_type() == torch::kFloat;
    for_ranges(rows, kGrainElements / std::max<int64_t>(1, cols), [&](int64_t b, int64_t e) {
        if (f32) kt().softmax_backward_f32(y.data_ptr<float>() + b * cols, g.data_ptr<float>() + b * cols, dx.data_ptr<float>() + b * cols, e - b, cols);
        else kt().softmax_backward_bf16(cbf(y) + b * cols, cbf(g) + b * cols, bf(dx) + b * cols, e - b, cols);
    });
    return dx;
}

torch::Tensor dropout_raw(const torch::Tensor& x_in, double p, uint64_t seed) {
    auto x = x_in.contiguous();
    auto y = torch::empty_like(x);
    const uint32_t thr = drop_threshold(p);
    const float scale = keep_scale(p);
    const bool f32 = x.scalar_type() == torch::kFloat;
    for_ranges(x.numel(), kGrainElements, [&](int64_t b, int64_t e) {
        if (f32) kt().dropout_f32(x.data_ptr<float>(), y.data_ptr<float>(), b, e, seed, thr, scale);
        else kt().dropout_bf16(cbf(x), bf(y), b, e, seed, thr, scale);
    });
    return y;
}

torch::Tensor add_dropout_raw(const torch::Tensor& res_in, const torch::Tensor& y_in, double p, uint64_t seed) {
    auto res = res_in.contiguous();
    auto y = y_in.contiguous();
    auto out = torch::empty_like(res);
    const bool broadcast = y.dim() == 2 && res.dim() == 3;
    const int64_t cols = res.size(-1), rows = res.numel() / std::max<int64_t>(1, cols);
    const int64_t period = broadcast ? y.size(0) : 0, block = broadcast ? res.size(1) : 1;
    const uint32_t thr = drop_threshold(p);
    const float scale = keep_scale(p);
    const auto rt = res.scalar_type(), yt = y.scalar_type();
    for_ranges(rows, kGrainElements / std::max<int64_t>(1, cols), [&](int64_t b, int64_t e) {
        const int64_t lo = b * cols, hi = e * cols;
        if (rt == torch::kFloat && yt == torch::kFloat)
            kt().add_dropout_f32_f32(res.data_ptr<float>(), y.data_ptr<float>(), out.data_ptr<float>(), lo, hi, period, cols, block, seed, thr, scale);
        else if (rt == torch::kFloat)
            kt().add_dropout_f32_bf16(res.data_ptr<float>(), cbf(y), out.data_ptr<float>(), lo, hi, period, cols, block, seed, thr, scale);
        else
            kt().add_dropout_bf16_bf16(cbf(res), cbf(y), bf(out), lo, hi, period, cols, block, seed, thr, scale);
    });
    return out;
}

torch::Tensor gelu_dropout_raw(const torch::Tensor& x_in, double p, uint64_t seed) {
    auto x = x_in.contiguous();
    auto y = torch::empty_like(x);
    const uint32_t thr = drop_threshold(p);
    const float scale = keep_scale(p);
    const bool f32 = x.scalar_type() == torch::kFloat;
    for_ranges(x.numel(), kGrainElements, [&](int64_t b, int64_t e) {
        if (f32) kt().gelu_dropout_f32(x.data_ptr<float>(), y.data_ptr<float>(), b, e, seed, thr, scale);
        else kt().gelu_dropout_bf16(cbf(x), bf(y), b, e, seed, thr, scale);
    });
    return y;
}

torch::Tensor gelu_dropout_backward_raw(const torch::Tensor& x, const torch::Tensor& g_in, double p, uint64_t seed) {
    auto g = g_in.to(x.scalar_type()).contiguous();
    auto dx = torch::empty_like(x);
    const uint32_t thr = drop_threshold(p);
    const float scale = keep_scale(p);
    const bool f32 = x.scalar_type() == torch::kFloat;
    for_ranges(x.numel(), kGrainElements, [&](int64_t b, int64_t e) {
        if (f32) kt().gelu_dropout_backward_f32(x.data_ptr<float>(), g.data_ptr<float>(), dx.data_ptr<float>(), b, e, seed, thr, scale);
        else kt().gelu_dropout_backward_bf16(cbf(x), cbf(g), bf(dx), b, e, seed, thr, scale);
    });
    return dx;
}

struct SoftmaxFn : torch::autograd::Function<SoftmaxFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
        auto y = softmax_raw(x);
        ctx->save_for_backward({y});
        return y;
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        return {softmax_backward_raw(ctx->get_saved_variables()[0], g[0])};
    }
};

struct DropoutFn : torch::autograd::Function<DropoutFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double p) {
        const uint64_t seed = draw_seed();
        ctx->saved_data["seed"] = static_cast<int64_t>(seed);
        ctx->saved_data["p"] = p;
        return dropout_raw(x, p, seed);
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
        return {dropout_raw(g[0], ctx->saved_data["p"].toDouble(), seed), torch::Tensor()};
    }
};

struct AddDropoutFn : torch::autograd::Function<AddDropoutFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& res, const torch::Tensor& y, double p) {
        const uint64_t seed = draw_seed();
        ctx->saved_data["seed"] = static_cast<int64_t>(seed);
        ctx->saved_data["p"] = p;
        ctx->saved_data["y_dtype"] = static_cast<int64_t>(y.scalar_type());
        ctx->saved_data["broadcast"] = y.dim() == 2 && res.dim() == 3;
        return add_dropout_raw(res, y, p, seed);
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
        auto dy = dropout_raw(g[0], ctx->saved_data["p"].toDouble(), seed);
        if (ctx->saved_data["broadcast"].toBool()) dy = dy.sum(1);
        return {g[0], dy.to(static_cast<at::ScalarType>(ctx->saved_data["y_dtype"].toInt())), torch::Tensor()};
    }
};

struct GeluDropoutFn : torch::autograd::Function<GeluDropoutFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, double p) {
        const uint64_t seed = draw_seed();
        ctx->saved_data["seed"] = static_cast<int64_t>(seed);
        ctx->saved_data["p"] = p;
        ctx->save_for_backward({x});
        return gelu_dropout_raw(x, p, seed);
    }
    static variable_list backward(AutogradContext* ctx, variable_list g) {
        const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
        return {gelu_dropout_backward_raw(ctx->get_saved_variables()[0], g[0], ctx->saved_data["p"].toDouble(), seed),
                torch::Tensor()};
    }
};

bool needs_grad(std::initializer_list<torch::Tensor> ts) {
    if (!torch::GradMode::is_enabled()) return false;
    for (const auto& t : ts)
        if (t.requires_grad()) return true;
    return false;
}

}  // namespace

std::string isa() { return chosen().name; }

bool use_isa(const std::string& name) {
    Chosen c = best_variant(name);
    if (c.name != name) return false;
    chosen() = c;
    return true;
}

torch::Tensor softmax(const torch::Tensor& logits) {
    if (!fast_dtype(logits) || logits.size(-1) > kMaxSoftmaxCols || logits.numel() == 0) return torch::softmax(logits, -1);
    return needs_grad({logits}) ? SoftmaxFn::apply(logits) : softmax_raw(logits);
}

void softmax_(torch::Tensor& x, const torch::Tensor& bias, const std::vector<float>& head_scales) {
    const int64_t K = x.size(-1);
    if (!fast_dtype(x) || !x.is_contiguous() || K > kMaxSoftmaxCols || x.numel() == 0) {
        auto logits = x;
        if (bias.defined()) {
            auto s = torch::tensor(head_scales, torch::kFloat).to(x.device()).abs().view({-1, 1, 1});
            logits = x - (s * bias.to(x.device(), torch::kFloat)).to(x.dtype());
        }
        x.copy_(torch::softmax(logits, -1));
        return;
    }
    const int64_t N = x.size(-2), H = bias.defined() ? static_cast<int64_t>(head_scales.size()) : 1;
    if (bias.defined() && (x.dim() < 3 || x.size(-3) != H || bias.size(0) != N || bias.size(1) != K || !bias.is_contiguous() ||
                           bias.scalar_type() != torch::kFloat))
        fail_input("softmax_: bias must be float [N, K] with one scale per head");
    const int64_t blocks = x.numel() / (N * K);  // (sample, head) blocks of N rows
    const bool f32 = x.scalar_type() == torch::kFloat;
    at::parallel_for(0, blocks, std::max<int64_t>(1, kGrainElements / (N * K)), [&](int64_t b, int64_t e) {
        for (int64_t blk = b; blk < e; ++blk) {
            const float* bp = bias.defined() ? bias.data_ptr<float>() : nullptr;
            const float scale = bias.defined() ? std::abs(head_scales[static_cast<size_t>(blk % H)]) : 0.0f;
            const int64_t off = blk * N * K;
            if (f32) kt().softmax_f32(x.data_ptr<float>() + off, x.data_ptr<float>() + off, N, K, bp, N, scale);
            else kt().softmax_bf16(bf(x) + off, bf(x) + off, N, K, bp, N, scale);
        }
    });
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
    if (!training || p <= 0) return x;
    if (!fast_dtype(x)) return torch::dropout(x, p, true);
    return needs_grad({x}) ? DropoutFn::apply(x, p) : dropout_raw(x, p, draw_seed());
}

torch::Tensor add_dropout(const torch::Tensor& residual, const torch::Tensor& y, double p, bool training) {
    const bool broadcast = y.dim() == 2 && residual.dim() == 3;
    const bool shapes_ok = broadcast ? (y.size(0) == residual.size(0) && y.size(1) == residual.size(2))
                                     : y.sizes() == residual.sizes();
    if (!shapes_ok) fail_input("add_dropout: y must have the residual's shape or be one row per sample");
    const bool fast = fast_dtype(residual) && fast_dtype(y) &&
                      !(residual.scalar_type() == torch::kBFloat16 && y.scalar_type() == torch::kFloat);
    if (!fast) {
        auto d = training && p > 0 ? torch::dropout(y, p, true) : y;
        return residual + (broadcast ? d.unsqueeze(1) : d).to(residual.dtype());
    }
    const double q = training ? p : 0.0;
    return needs_grad({residual, y}) ? AddDropoutFn::apply(residual, y, q) : add_dropout_raw(residual, y, q, q > 0 ? draw_seed() : 0);
}

torch::Tensor gelu_dropout(const torch::Tensor& x, double p, bool training) {
    const double q = training ? p : 0.0;
    if (!fast_dtype(x)) {
        auto g = torch::gelu(x);
        return q > 0 ? torch::dropout(g, q, true) : g;
    }
    return needs_grad({x}) ? GeluDropoutFn::apply(x, q) : gelu_dropout_raw(x, q, q > 0 ? draw_seed() : 0);
}

}  // namespace s2m::model::kernels
