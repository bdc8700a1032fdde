#pragma once
// The raw loops behind model/kernels.hpp, one table per instruction set (kernels_impl.inc). Private
// to src/model; no torch here, so that the per-ISA files compile in a second.
#include <cstdint>

namespace s2m::model::kernels {

using bf16_t = uint16_t;  // bfloat16 bit pattern

// Softmax rows longer than this fall back to ATen.
constexpr int64_t kMaxSoftmaxCols = 4096;

struct KernelTable {
    // `rows` rows of `cols` (out may alias in); optional logit bias: row r subtracts bias_scale ·
    // bias[(r % bias_rows) * cols + c] before the softmax.
    void (*softmax_f32)(const float* in, float* out, int64_t rows, int64_t cols, const float* bias, int64_t bias_rows,
                        float bias_scale);
    void (*softmax_bf16)(const bf16_t* in, bf16_t* out, int64_t rows, int64_t cols, const float* bias, int64_t bias_rows,
                         float bias_scale);
    // dx = y ⊙ (g − Σ_c g⊙y), per row (dx may alias g).
    void (*softmax_backward_f32)(const float* y, const float* g, float* dx, int64_t rows, int64_t cols);
    void (*softmax_backward_bf16)(const bf16_t* y, const bf16_t* g, bf16_t* dx, int64_t rows, int64_t cols);
    // y[i] = x[i] · keep(seed, i) · scale over flat indices [begin, end) (y may alias x).
    void (*dropout_f32)(const float* x, float* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, float scale);
    void (*dropout_bf16)(const bf16_t* x, bf16_t* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, float scale);
    // out[i] = res[i] + dropout(y)[i]; with y_rows_period > 0, y is [y_rows_period, y_cols] and row r of
    // the output reads y row (r / row_block) % y_rows_period (a per-sample vector over its tokens).
    void (*add_dropout_f32_f32)(const float* res, const float* y, float* out, int64_t begin, int64_t end,
                                int64_t y_rows_period, int64_t y_cols, int64_t row_block, uint64_t seed,
                                uint32_t threshold, float scale);
    void (*add_dropout_f32_bf16)(const float* res, const bf16_t* y, float* out, int64_t begin, int64_t end,
                                 int64_t y_rows_period, int64_t y_cols, int64_t row_block, uint64_t seed,
                                 uint32_t threshold, float scale);
    void (*add_dropout_bf16_bf16)(const bf16_t* res, const bf16_t* y, bf16_t* out, int64_t begin, int64_t end,
                                  int64_t y_rows_period, int64_t y_cols, int64_t row_block, uint64_t seed,
                                  uint32_t threshold, float scale);
    // y = dropout(gelu(x)) and its backward dx = gelu'(x) · dropout(g) (exact-erf GELU).
    void (*gelu_dropout_f32)(const float* x, float* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, float scale);
    void (*gelu_dropout_bf16)(const bf16_t* x, bf16_t* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, float scale);
    void (*gelu_dropout_backward_f32)(const float* x, const float* g, float* dx, int64_t begin, int64_t end, uint64_t seed,
                                      uint32_t threshold, float scale);
    void (*gelu_dropout_backward_bf16)(const bf16_t* x, const bf16_t* g, bf16_t* dx, int64_t begin, int64_t end,
                                       uint64_t seed, uint32_t threshold, float scale);
};

namespace avx512 { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace generic { const KernelTable& table(); }

}  // namespace s2m::model::kernels
