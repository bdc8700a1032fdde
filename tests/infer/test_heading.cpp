// The heading-frame representation: a model that turns each window into the frame of the feet's
// heading must give the same motion, turned, when the person walks the same way facing elsewhere;
// a world-frame model does not.
#include <gtest/gtest.h>

#include <cmath>

#include "step2motion/core/error.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/model/heading_frame.hpp"
#include "step2motion/model/bundle.hpp"
#include "torch_support.hpp"

using namespace s2m;

namespace {

infer::InsoleSequence sequence(int frames) {
    infer::InsoleSequence s;
    s.name = "turning";
    s.source = "turning";
    std::srand(5);
    s.insoles = Eigen::MatrixXf::Random(frames, 50);
    s.insole_heading_rad.resize(frames, 2);
    for (int f = 0; f < frames; ++f) {
        s.insoles(f, 22) = f % 20 < 12 ? 400.f : 5.f;  // left foot loaded part of the time
        s.insoles(f, 47) = f % 20 >= 8 ? 400.f : 5.f;
        s.insole_heading_rad(f, 0) = static_cast<float>(0.4 + 0.03 * f);  // turning on the spot
        s.insole_heading_rad(f, 1) = static_cast<float>(0.2 + 0.03 * f + 0.1 * std::sin(0.3 * f));
    }
    return s;
}

// The same insoles with the world turned by `angle` about up: accelerations and headings.
infer::InsoleSequence turned(infer::InsoleSequence s, double angle) {
    const float c = static_cast<float>(std::cos(angle)), sn = static_cast<float>(std::sin(angle));
    for (int f = 0; f < s.frames(); ++f) {
        for (int x : {16, 41}) {
            const float ax = s.insoles(f, x), az = s.insoles(f, x + 2);
            s.insoles(f, x) = c * ax + sn * az;
            s.insoles(f, x + 2) = c * az - sn * ax;
        }
        s.insole_heading_rad.row(f).array() += static_cast<float>(angle);
    }
    return s;
}

Eigen::MatrixXf turned_poses(const Eigen::MatrixXf& poses, double angle) {
    Eigen::MatrixXf out = poses;
    const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
    for (int f = 0; f < poses.rows(); ++f)
        for (int t = 0; t < 22; ++t) {
            const float x = poses(f, 3 * t), z = poses(f, 3 * t + 2);
            out(f, 3 * t) = c * x + s * z;
            out(f, 3 * t + 2) = c * z - s * x;
        }
    return out;
}

// Largest difference between the reconstruction of the turned sequence and the turned reconstruction.
double equivariance_error(model::Representation representation) {
    auto bundle = test::untrained_tiny_bundle(model::ModelType::Step2Motion, representation);
    const auto seq = sequence(75);  // windows of 32 at 0, 16, 32, 48 and a partial one at 64
    infer::ReconstructOptions o;
    o.sampler = "fast";
    o.steps = 3;
    o.samples = 2;
    o.seed = 9;
    o.progress = false;
    o.max_batch_rows = 4;  // 2 windows per chunk: inpainting from saved trajectories too
    const double angle = 2.3;
    const Eigen::MatrixXf a = infer::reconstruct(bundle, {seq}, o)[0].poses;
    const Eigen::MatrixXf b = infer::reconstruct(bundle, {turned(seq, angle)}, o)[0].poses;
    EXPECT_GT(a.cwiseAbs().maxCoeff(), 0.05f);
    return (b - turned_poses(a, angle)).cwiseAbs().maxCoeff();
}

}  // namespace

TEST(HeadingFrame, TurnedInputsGiveTheTurnedMotion) {
    const double heading = equivariance_error(model::Representation::Heading);
    const double world = equivariance_error(model::Representation::World);
    std::printf("turned by 2.3 rad: largest difference from the turned motion %.2e m (heading frame), %.2e m (world)\n", heading, world);
    EXPECT_LT(heading, 1e-4);
    EXPECT_GT(world, 1e-2);  // the world-frame model has to infer the heading itself
}

TEST(HeadingFrame, SequenceWithoutHeadingsIsRefused) {
    auto bundle = test::untrained_tiny_bundle(model::ModelType::Step2Motion, model::Representation::Heading);
    auto seq = sequence(40);
    seq.insole_heading_rad.resize(0, 2);
    infer::ReconstructOptions o;
    o.sampler = "fast";
    o.steps = 2;
    o.progress = false;
    try {
        infer::reconstruct(bundle, {seq}, o);
        FAIL() << "expected an InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("heading"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("turning"), std::string::npos) << e.what();
    }
}

TEST(HeadingFrame, TurnsTriplesAndOnlyTheAccelerations) {
    const auto v = torch::tensor({0.f, 0.f, 1.f, 1.f, 2.f, 0.f}).view({1, 1, 6});
    const auto t = model::turn_about_up(v, torch::tensor({0.5}, torch::kDouble)).view({6});
    EXPECT_NEAR(t[0].item<float>(), std::sin(0.5), 1e-6);  // +Z turns towards +X: heading grows
    EXPECT_NEAR(t[2].item<float>(), std::cos(0.5), 1e-6);
    EXPECT_NEAR(t[4].item<float>(), 2.f, 1e-6);            // up stays
    EXPECT_NEAR(t[5].item<float>(), -std::sin(0.5), 1e-6);
    const auto back = model::turn_about_up(t.view({1, 1, 6}), torch::tensor({-0.5}, torch::kDouble));
    EXPECT_LT((back - v).abs().max().item<float>(), 1e-6);
    const auto ins = torch::randn({2, 3, 50});
    const auto ti = model::turn_insole_accelerations(ins, torch::tensor({1.0, -2.0}, torch::kDouble));
    for (int c = 0; c < 50; ++c) {
        const bool acc = (c >= 16 && c < 19) || (c >= 41 && c < 44);
        const float d = (ti.select(2, c) - ins.select(2, c)).abs().max().item<float>();
        if (acc && c != 17 && c != 42) EXPECT_GT(d, 1e-3) << c;
        else EXPECT_EQ(d, 0.f) << c;
    }
}

// Foot contacts and the wearer's size are on by default for heading-frame models (the new ones) and
// off for world-frame ones (the reference's weights and protocol); what the user chose wins either way.
TEST(HeadingFrame, FeetHeldByDefaultOnlyForHeadingModels) {
    for (const auto representation : {model::Representation::Heading, model::Representation::World}) {
        const auto bundle = test::untrained_tiny_bundle(model::ModelType::Step2Motion, representation);
        const bool heading = representation == model::Representation::Heading;
        EXPECT_EQ(infer::with_model_defaults(infer::ReconstructOptions{}, bundle, {}).foot_contacts, heading);
        EXPECT_EQ(infer::with_model_defaults(infer::ReconstructOptions{}, bundle, {}).wearer_size, heading);
        for (const bool chosen : {false, true}) {
            infer::ReconstructOptions o;
            o.foot_contacts = chosen;
            o.wearer_size = !chosen;
            infer::SamplerChoice given;
            given.foot_contacts = true;
            given.wearer_size = true;
            EXPECT_EQ(infer::with_model_defaults(o, bundle, given).foot_contacts, chosen);
            EXPECT_EQ(infer::with_model_defaults(o, bundle, given).wearer_size, !chosen);
        }
    }
}
