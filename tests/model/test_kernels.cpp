// The fused kernels against LibTorch's own operators, on every instruction-set variant this CPU runs.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include "step2motion/model/kernels.hpp"

namespace k = s2m::model::kernels;

namespace {

class Kernels : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        previous_ = k::isa();
        if (!k::use_isa(GetParam())) GTEST_SKIP() << "this CPU does not run the " << GetParam() << " variant";
    }
    void TearDown() override { k::use_isa(previous_); }
    std::string previous_;
};

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST_P(Kernels, SoftmaxMatchesTorchForwardAndBackward) {
    torch::manual_seed(1);
    // Rows of 300 (self-attention), 100 (cross-attention) and an odd length (vector tail).
    for (int64_t cols : {300, 100, 37}) {
        auto x = (torch::randn({3, 4, 11, cols}) * 6).requires_grad_();
        auto y = k::softmax(x);
        auto ref_x = x.detach().clone().requires_grad_();
        auto ref = torch::softmax(ref_x, -1);
        EXPECT_LT(max_diff(y, ref), 1e-6) << cols;
        auto g = torch::randn_like(ref);
        y.backward(g);
        ref.backward(g);
        EXPECT_LT(max_diff(x.grad(), ref_x.grad()), 1e-6) << cols;
        // bfloat16 storage: the float softmax of the same (rounded) logits, rounded once more.
        auto xb = x.detach().to(torch::kBFloat16);
        auto yb = k::softmax(xb);
        EXPECT_EQ(yb.scalar_type(), torch::kBFloat16);
        EXPECT_LT(max_diff(yb, torch::softmax(xb.to(torch::kFloat), -1)), 2e-3) << cols;
    }
    // Very negative and equal logits stay finite and sum to one.
    auto extreme = torch::tensor({-1e4f, -1e4f, 0.f, 0.f}).view({1, 4});
    auto ye = k::softmax(extreme);
    EXPECT_NEAR(ye.sum().item<double>(), 1.0, 1e-6);
    EXPECT_NEAR(ye[0][2].item<double>(), 0.5, 1e-6);
}

TEST_P(Kernels, InPlaceSoftmaxWithLocalityBias) {
    torch::manual_seed(2);
    const int64_t B = 2, H = 8, N = 30, K = 10;
    auto x = torch::randn({B, H, N, K});
    auto bias = torch::rand({N, K});
    std::vector<float> scales;
    for (int h = 0; h < H; ++h) scales.push_back(h % 2 ? -0.3f * h : 0.3f * h);  // magnitude used
    auto s = torch::tensor(scales).abs().view({1, H, 1, 1});
    auto ref = torch::softmax(x - s * bias, -1);
    auto y = x.clone();
    k::softmax_(y, bias, scales);
    EXPECT_LT(max_diff(y, ref), 1e-6);
}

TEST_P(Kernels, DropoutKeepsOneMinusPScaledAndBackwardUsesTheSameMask) {
    torch::manual_seed(3);
    const double p = 0.1;
    auto x = torch::ones({64, 300, 256}).requires_grad_();
    auto y = k::dropout(x, p, true);
    const double kept = (y > 0).to(torch::kDouble).mean().item<double>();
    // 4.9 M draws: the standard error of the kept fraction is 1.4e-4.
    EXPECT_NEAR(kept, 1 - p, 1e-3);
    EXPECT_NEAR(y.max().item<double>(), 1 / (1 - p), 1e-6);
    y.sum().backward();
    EXPECT_TRUE(torch::equal(x.grad(), y.detach())) << "gradient = mask / (1 - p), the forward's mask";
    // Eval mode and p = 0 leave the input untouched.
    EXPECT_TRUE(torch::equal(k::dropout(x, p, false), x));
    EXPECT_TRUE(torch::equal(k::dropout(x, 0.0, true), x));
}

TEST_P(Kernels, DropoutIsRepeatableAndIndependentOfThreadCount) {
    const int threads = at::get_num_threads();
    auto x = torch::randn({32, 300, 64});
    torch::manual_seed(7);
    at::set_num_threads(1);
    auto a = k::dropout(x, 0.3, true);
    torch::manual_seed(7);
    at::set_num_threads(std::max(2, threads));
    auto b = k::dropout(x, 0.3, true);
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(a, b));
    auto c = k::dropout(x, 0.3, true);  // the next draw: another mask
    EXPECT_FALSE(torch::equal(a, c));
}

TEST_P(Kernels, MasksOfConsecutiveCallsAreUncorrelated) {
    torch::manual_seed(4);
    auto x = torch::ones({1 << 20});
    auto a = (k::dropout(x, 0.5, true) > 0).to(torch::kDouble);
    auto b = (k::dropout(x, 0.5, true) > 0).to(torch::kDouble);
    auto shifted = a.roll(1);
    auto corr = [](const torch::Tensor& u, const torch::Tensor& v) {
        auto uc = u - u.mean(), vc = v - v.mean();
        return ((uc * vc).mean() / (uc.std() * vc.std())).item<double>();
    };
    // 1 M pairs: |r| of independent masks is below 0.005 with overwhelming probability.
    EXPECT_LT(std::abs(corr(a, b)), 0.005);
    EXPECT_LT(std::abs(corr(a, shifted)), 0.005);
}

TEST_P(Kernels, AddDropoutAndGeluDropoutMatchTheirDefinitions) {
    torch::manual_seed(5);
    auto res = torch::randn({4, 30, 16}).requires_grad_();
    auto y = torch::randn({4, 30, 16}).requires_grad_();
    auto step = torch::randn({4, 16}).requires_grad_();
    // Without dropout: plain sums, gradients of a sum.
    auto out = k::add_dropout(res, y, 0.0, true);
    EXPECT_LT(max_diff(out, res + y), 1e-7);
    auto out_b = k::add_dropout(res, step, 0.0, true);
    EXPECT_LT(max_diff(out_b, res + step.unsqueeze(1)), 1e-7);
    out_b.sum().backward();
    EXPECT_LT(max_diff(step.grad(), torch::full({4, 16}, 30.0)), 1e-5);
    // With dropout: y's gradient is the mask, consistent with the forward.
    auto out_d = k::add_dropout(res.detach(), y, 0.5, true);
    auto kept = (out_d - res.detach()).ne(0);
    y.mutable_grad() = torch::Tensor();
    out_d.sum().backward();
    EXPECT_TRUE(torch::equal(y.grad().ne(0), kept));
    // bfloat16 y onto a float residual: float result.
    auto mixed = k::add_dropout(res.detach(), y.detach().to(torch::kBFloat16), 0.0, false);
    EXPECT_EQ(mixed.scalar_type(), torch::kFloat);
    EXPECT_LT(max_diff(mixed, res.detach() + y.detach()), 2e-2);

    auto x = (torch::randn({7, 513}) * 3).requires_grad_();
    auto g = k::gelu_dropout(x, 0.0, true);
    auto xr = x.detach().clone().requires_grad_();
    auto gr = torch::gelu(xr);
    EXPECT_LT(max_diff(g, gr), 2e-6);  // LibTorch 2.x's GELU differs from 1.13's by an ulp or so
    auto w = torch::randn_like(gr);
    g.backward(w);
    gr.backward(w);
    EXPECT_LT(max_diff(x.grad(), xr.grad()), 2e-6);
}

TEST_P(Kernels, OtherDtypesFallBackToLibTorch) {
    auto x = torch::randn({3, 50}, torch::kDouble);
    EXPECT_EQ(k::softmax(x).scalar_type(), torch::kDouble);
    EXPECT_LT(max_diff(k::softmax(x), torch::softmax(x, -1)), 1e-15);
    EXPECT_EQ(k::gelu_dropout(x, 0.0, true).scalar_type(), torch::kDouble);
    EXPECT_EQ(k::add_dropout(x, x, 0.1, true).scalar_type(), torch::kDouble);
    EXPECT_EQ(k::dropout(x, 0.1, true).scalar_type(), torch::kDouble);
}

INSTANTIATE_TEST_SUITE_P(Isa, Kernels, ::testing::Values("avx512", "avx2", "generic"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
