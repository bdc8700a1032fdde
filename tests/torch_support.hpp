#pragma once
// Helpers shared by the tests of the torch areas (model, infer, gpu). Header-only, so that the
// torch-free test binaries (and the sanitizer build) do not compile torch for test_support.cpp.
#include <torch/torch.h>

#include <filesystem>

#include "step2motion/model/bundle.hpp"

namespace s2m::test {

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble)).abs().max().item<double>();
}

// Non-zero biases everywhere so that a mis-wired bias cannot hide.
inline void randomize(torch::nn::Module& m) {
    torch::NoGradGuard ng;
    for (auto& p : m.parameters()) p.uniform_(-0.3, 0.3);
}

// configs/tiny.json's networks of `type`, untrained (seed 3), with zero means, pose sd 0.1 and
// insole sd 1: reconstructions of random insoles exercise every code path in seconds.
// World representation unless asked: random test sequences carry no insole headings.
inline model::ModelBundle untrained_tiny_bundle(model::ModelType type = model::ModelType::Step2Motion,
                                                model::Representation representation = model::Representation::World) {
    auto config = model::read_train_config((std::filesystem::path(S2M_SOURCE_DIR) / "configs" / "tiny.json").string());
    config.model_type = type;
    config.representation = representation;
    torch::manual_seed(3);
    auto bundle = model::ModelBundle::create(config);
    bundle.stats.pose_mean.assign(66, 0.f);
    bundle.stats.pose_std.assign(66, 0.1f);
    bundle.stats.insole_mean.assign(50, 0.f);
    bundle.stats.insole_std.assign(50, 1.f);
    return bundle;
}

}  // namespace s2m::test
