// The networks on a CUDA device give what they give on the CPU. Label `gpu`: these skip unless this
// LibTorch has CUDA and a GPU is visible (the pip build of scripts/build.sh --torch pip, on a GPU machine).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/layers.hpp"
#include "step2motion/model/sampler.hpp"
#include "step2motion/model/bundle.hpp"
#include "torch_support.hpp"

using namespace s2m;
using s2m::test::max_abs_diff;

#define S2M_REQUIRE_CUDA()                                                                    \
    do {                                                                                      \
        if (!model::cuda_available()) GTEST_SKIP() << "no CUDA in this LibTorch or no GPU visible"; \
    } while (0)

TEST(Cuda, SamplerMatchesCpu) {
    S2M_REQUIRE_CUDA();
    auto bundle = test::untrained_tiny_bundle();
    bundle.train(false);
    auto& net = bundle.diffusion;
    model::DiffusionSchedule sched(bundle.config.model_config());
    const int64_t B = 4, S = bundle.config.input_T;
    auto insoles = torch::randn({B, S, io::kInsoleChannels});
    // The same noise on both devices: drawn on the host from one seed, copied.
    auto run = [&](torch::Device d) {
        net->to(d);
        sched.to(d);
        model::SamplerOptions o;
        o.steps = 5;
        o.guidance = 2.0;
        auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
        o.noise = [&](const torch::Tensor& like) {
            return torch::randn(like.sizes(), gen, like.options().device(torch::kCPU)).to(like.device());
        };
        std::vector<torch::Tensor> attention;
        auto x = model::sample_poses(net, sched, insoles.to(d), o, &attention);
        EXPECT_EQ(x.device(), d);
        return x.to(torch::kCPU);
    };
    const auto cpu = run(torch::kCPU), cuda = run(torch::kCUDA);
    EXPECT_LT(max_abs_diff(cpu, cuda), 1e-3);
}

TEST(Cuda, TrainingStepMatchesCpuAndBf16AutocastRuns) {
    S2M_REQUIRE_CUDA();
    auto bundle = test::untrained_tiny_bundle();
    auto& net = bundle.diffusion;
    model::DiffusionSchedule sched(bundle.config.model_config());
    const int64_t B = 8, S = bundle.config.input_T;
    auto x0 = torch::randn({B, S, io::kJointValues}), c = torch::randn({B, S, io::kInsoleChannels});
    auto t = sched.training_steps(B), eps = torch::randn_like(x0);
    auto loss_on = [&](torch::Device d, bool bf16) {
        net->to(d);
        sched.to(d);
        net->eval();  // no dropout: the two devices must compute the same function
        model::Autocast ac(bf16, d);
        auto cond = net->condition(c.to(d));
        auto pred = net->denoise(sched.q_sample(x0.to(d), t.to(d), eps.to(d)), t.to(d), &cond);
        if (bf16) {
            EXPECT_EQ(pred.scalar_type(), torch::kBFloat16);
        }
        auto loss = model::pose_loss(pred.to(torch::kFloat), x0.to(d));
        loss.backward();
        return loss.item<double>();
    };
    const double cpu = loss_on(torch::kCPU, false), cuda = loss_on(torch::kCUDA, false);
    EXPECT_NEAR(cpu, cuda, 1e-4 * std::max(1.0, std::abs(cpu)));
    const double cuda_bf16 = loss_on(torch::kCUDA, true);
    EXPECT_NEAR(cpu, cuda_bf16, 0.05 * std::max(1.0, std::abs(cpu)));
}

TEST(Cuda, ReconstructionMatchesCpu) {
    S2M_REQUIRE_CUDA();
    infer::InsoleSequence seq;
    seq.name = seq.source = "random";
    std::srand(11);
    seq.insoles = Eigen::MatrixXf::Random(150, 50);
    auto bundle = test::untrained_tiny_bundle();
    infer::ReconstructOptions o;
    o.progress = false;
    o.sampler = "fast";
    o.steps = 4;
    o.samples = 2;
    o.details = true;
    o.device = "cpu";
    const auto cpu = infer::reconstruct(bundle, {seq}, o);
    o.device = "cuda";
    const auto cuda = infer::reconstruct(bundle, {seq}, o);
    EXPECT_LT((cpu[0].poses - cuda[0].poses).cwiseAbs().maxCoeff(), 1e-3);
    ASSERT_EQ(cpu[0].attention.size(), cuda[0].attention.size());
}
