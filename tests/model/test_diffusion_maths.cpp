// Known answers for the diffusion maths: the schedule tables, q_sample and the posterior against their
// closed forms (computed here in double from β alone), DDIM with an oracle x̂₀, classifier-free
// guidance against its formula, the one-step sampler, inpainting and the attention weights.
#include "step2motion/model/sampler.hpp"
#include "torch_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace s2m::model;
using s2m::test::max_abs_diff;
using s2m::test::randomize;

namespace {

ModelConfig maths_config(bool zero_terminal_snr) {
    ModelConfig c;
    c.hidden_dim = 32;
    c.num_layers = 2;
    c.n_heads = 4;
    c.d_ff = 48;
    c.input_T = 12;
    c.diffusion_T = 20;
    c.cross_attention_locality = true;
    c.zero_terminal_snr = zero_terminal_snr;
    return c;
}


// ᾱ_t for t = 0..T in double: β linear from 1e-4 to 0.02 over t = 1..T, ᾱ₀ = 1.
std::vector<double> cum_alphas_closed_form(int T) {
    std::vector<double> cum(size_t(T) + 1, 1.0);
    for (int t = 1; t <= T; ++t) {
        const double beta = 1e-4 + (0.02 - 1e-4) * double(t - 1) / double(T - 1);
        cum[size_t(t)] = cum[size_t(t) - 1] * (1.0 - beta);
    }
    return cum;
}

}  // namespace

// The tables and q_sample against √ᾱ and √(1−ᾱ) from β; the posterior q(x_{t−1} | x_t, x₀) against
// the DDPM closed form, and two identities any correct posterior satisfies: it is consistent with the
// marginals (E[x_{t−1} | x₀] = √ᾱ_{t−1}·x₀ and Var = 1 − ᾱ_{t−1} when x_t ~ q(x_t | x₀)).
TEST(DiffusionMaths, QSampleAndPosteriorMatchTheirClosedForms) {
    const int T = 200;
    DiffusionSchedule s(T);
    const auto cum = cum_alphas_closed_form(T);
    torch::manual_seed(1);
    const auto x0 = torch::randn({T + 1, 4, 63}), eps = torch::randn({T + 1, 4, 63}), z = torch::randn({T + 1, 4, 63});
    const auto t_all = torch::arange(0, T + 1, torch::kLong);
    const auto xt = s.q_sample(x0, t_all, eps);
    const auto x0d = x0.to(torch::kDouble), epsd = eps.to(torch::kDouble), xtd = xt.to(torch::kDouble), zd = z.to(torch::kDouble);
    const auto post = s.posterior_sample(x0, xt, t_all.clamp_min(1), z).to(torch::kDouble);
    for (int t = 0; t <= T; ++t) {
        const double a = cum[size_t(t)];
        EXPECT_NEAR(s.cum_alphas[t].item<double>(), a, 2e-6 * std::max(a, 1e-3)) << t;
        EXPECT_NEAR(s.sqrt_cum_alphas[t].item<double>(), std::sqrt(a), 2e-6) << t;
        EXPECT_NEAR(s.sqrt_one_minus_cum_alphas[t].item<double>(), std::sqrt(1 - a), 2e-6 / std::max(std::sqrt(1 - a), 1e-2)) << t;
        const auto expect_xt = std::sqrt(a) * x0d[t] + std::sqrt(1 - a) * epsd[t];
        EXPECT_LT(max_abs_diff(xt[t], expect_xt), 1e-5) << "q_sample t=" << t;
        if (t == 0) continue;
        const double ap = cum[size_t(t) - 1], beta = 1 - a / ap, alpha = 1 - beta;
        const double c1 = std::sqrt(ap) * beta / (1 - a), c2 = std::sqrt(alpha) * (1 - ap) / (1 - a);
        const double var = beta * (1 - ap) / (1 - a);
        // float32 tables: at t = 1 the coefficients divide by 1 − ᾱ₁ = 1e-4, so compare relatively.
        EXPECT_NEAR(s.posterior_coeff_1[t].item<double>(), c1, 1e-3 * c1 + 1e-6) << t;
        EXPECT_NEAR(s.posterior_coeff_2[t].item<double>(), c2, 1e-3 * c2 + 1e-6) << t;
        EXPECT_NEAR(s.posterior_std[t].item<double>(), std::sqrt(var), 1e-3 * std::sqrt(var) + 1e-6) << t;
        const auto expect_post = c1 * x0d[t] + c2 * xtd[t] + std::sqrt(var) * zd[t];
        EXPECT_LT(max_abs_diff(post[t], expect_post), 1e-3) << "posterior t=" << t;
        // Marginal consistency, from the tables the sampler uses (float32: 1 − ᾱ₁ = 1e-4 carries a
        // relative rounding error of ~6e-4, hence 5e-4 at small t).
        const double k1 = s.posterior_coeff_1[t].item<double>(), k2 = s.posterior_coeff_2[t].item<double>();
        const double sd = s.posterior_std[t].item<double>();
        EXPECT_NEAR(k1 + k2 * std::sqrt(a), std::sqrt(ap), 5e-4) << t;
        EXPECT_NEAR(k2 * k2 * (1 - a) + sd * sd, 1 - ap, 5e-4) << t;
    }
    // t = 1 is the last ancestral step: the posterior mean is x₀ itself and there is no noise.
    EXPECT_NEAR(s.posterior_coeff_1[1].item<double>(), 1.0, 5e-4);
    EXPECT_NEAR(s.posterior_coeff_2[1].item<double>(), 0.0, 5e-4);
    EXPECT_NEAR(s.posterior_std[1].item<double>(), 0.0, 1e-3);
}

// Deterministic DDIM (η = 0) keeps the noise implied by x_t: with an oracle x̂₀ = x₀, each step from
// t lands exactly on q_sample(x₀, t_prev, ε) for the ε of x_T, and a step to t_prev = 0 gives x₀ back
// bit for bit. For both schedules (with zero terminal SNR, x_T is ε itself).
TEST(DiffusionMaths, DdimWithAnOracleX0RecoversX0) {
    for (bool zero : {false, true}) {
        DiffusionSchedule s(200, 1e-4, 0.02, zero);
        torch::manual_seed(2);
        const auto x0 = torch::randn({3, 10, 63}), eps = torch::randn({3, 10, 63});
        for (int steps : {1, 2, 5, 20}) {
            auto levels = s.strided_steps(steps);
            levels.push_back(0);
            auto x = s.q_sample(x0, torch::full({3}, levels.front(), torch::kLong), eps);
            for (size_t i = 0; i + 1 < levels.size(); ++i) {
                x = s.ddim_step(x0, x, levels[i], levels[i + 1]);
                if (levels[i + 1] == 0) {
                    EXPECT_TRUE(torch::equal(x, x0)) << "zero SNR " << zero << ", " << steps << " steps";
                } else {
                    const auto expect = s.q_sample(x0, torch::full({3}, levels[i + 1], torch::kLong), eps);
                    EXPECT_LT(max_abs_diff(x, expect), 2e-5) << "zero SNR " << zero << ", level " << levels[i + 1];
                }
            }
        }
    }
}

// Classifier-free guidance: x̂₀ = u + w·(c − u) with c the conditioned and u the unconditioned pass,
// for w = 0 (unconditioned), 1 (conditioned) and 2; in the denoiser and through the sampler (one
// step from pure noise returns the guided estimate at t = T for the x_T it drew).
TEST(DiffusionMaths, GuidanceFollowsTheFormula) {
    auto cfg = maths_config(true);
    torch::manual_seed(3);
    Step2Motion model(cfg);
    randomize(*model);
    model->eval();
    DiffusionSchedule sched(cfg);
    c10::InferenceMode inference;
    const auto insoles = torch::randn({2, 12, 50});
    const auto cond = model->condition(insoles);
    const auto x = torch::randn({2, 12, 63});
    for (int64_t t : {int64_t(1), int64_t(7), int64_t(cfg.diffusion_T)}) {
        const auto tt = torch::full({2}, t, torch::kLong);
        const auto u = model->denoise(x, tt, nullptr), c = model->denoise(x, tt, &cond);
        ASSERT_GT(max_abs_diff(u, c), 1e-3) << "the insoles must change the estimate for this test to mean anything";
        for (double w : {0.0, 1.0, 2.0}) {
            const auto g = model->denoise_guided(x, tt, cond, w);
            EXPECT_LT(max_abs_diff(g, u + w * (c - u)), 1e-5) << "t " << t << " w " << w;
        }
    }
    // Through the sampler: with one step (zero terminal SNR) the result is the guided estimate at T of
    // the sampler's x_T, which is the first draw of its noise function.
    for (double w : {0.0, 1.0, 2.0}) {
        SamplerOptions o;
        o.steps = 1;
        o.guidance = w;
        torch::Tensor x_T;
        o.noise = [&](const torch::Tensor& like) {
            auto n = torch::randn_like(like);
            if (!x_T.defined()) x_T = n.clone();
            return n;
        };
        torch::manual_seed(4);
        const auto out = sample_poses(model, sched, insoles, o);
        const auto tT = torch::full({2}, int64_t(cfg.diffusion_T), torch::kLong);
        const auto u = model->denoise(x_T, tT, nullptr), c = model->denoise(x_T, tT, &cond);
        EXPECT_LT(max_abs_diff(out, u + w * (c - u)), 1e-5) << "sampler, w " << w;
    }
}

// Inpainting: where the mask is 1 the result is the given values bit for bit, for both samplers, with
// guidance, with a frame mask and with a per-channel mask; elsewhere it is the model's.
TEST(DiffusionMaths, InpaintingKeepsTheGivenFramesBitForBit) {
    auto cfg = maths_config(false);
    torch::manual_seed(5);
    Step2Motion model(cfg);
    randomize(*model);
    DiffusionSchedule sched(cfg);
    const int64_t B = 2, S = 12;
    const auto insoles = torch::randn({B, S, 50});
    const auto values = torch::randn({B, S, 63});
    for (int steps : {0, 3}) {
        for (double w : {1.0, 2.0}) {
            // Frames 2..6 of window 0 and 0..3 of window 1 known.
            auto frames = torch::zeros({B, S, 1});
            frames.index_put_({0, torch::indexing::Slice(2, 7)}, 1.0);
            frames.index_put_({1, torch::indexing::Slice(0, 4)}, 1.0);
            // Every third channel of every frame known.
            auto channels = torch::zeros({B, S, 63});
            channels.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, 63, 3)}, 1.0);
            for (const auto& mask : {frames, channels}) {
                SamplerOptions o;
                o.steps = steps;
                o.guidance = w;
                o.inpaint.mask = mask;
                o.inpaint.values = values;
                torch::manual_seed(6);
                const auto out = sample_poses(model, sched, insoles, o);
                const auto known = mask.expand_as(values).to(torch::kBool);
                EXPECT_TRUE(torch::equal(out.masked_select(known), values.masked_select(known))) << steps << " " << w;
                // The unknown entries are sampled, not copied.
                EXPECT_GT(max_abs_diff(out.masked_select(known.logical_not()), values.masked_select(known.logical_not())), 0.1);
            }
        }
    }
}

// The insole attention weights the sampler hands out (and `--details` reads) are softmax weights: per
// layer, window, head (one per insole component) and query token they sum to 1 over the keys.
TEST(DiffusionMaths, AttentionWeightsSumToOnePerHead) {
    for (bool locality : {false, true}) {
        auto cfg = maths_config(true);
        cfg.cross_attention_locality = locality;
        torch::manual_seed(7);
        Step2Motion model(cfg);
        randomize(*model);
        DiffusionSchedule sched(cfg);
        std::vector<torch::Tensor> attention;
        SamplerOptions o;
        o.steps = 2;
        sample_poses(model, sched, torch::randn({3, 12, 50}), o, &attention);
        ASSERT_EQ(attention.size(), size_t(cfg.num_layers));
        for (const auto& a : attention) {
            ASSERT_EQ(a.dim(), 4);
            EXPECT_EQ(a.size(0), 3);
            EXPECT_EQ(a.size(1), s2m::io::kInsoleComponents);
            EXPECT_EQ(a.size(2), 3 * 12);
            EXPECT_GE(a.min().item<double>(), 0.0);
            EXPECT_LT(max_abs_diff(a.sum(3), torch::ones({3, s2m::io::kInsoleComponents, 36})), 1e-5) << "locality " << locality;
        }
    }
}
