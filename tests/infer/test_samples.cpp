// Averaging several diffusion samples per sequence (`--samples K`): the average of K independent
// samples varies ~K times less between seeds than one sample; the root and the regressors are
// deterministic and unchanged.
#include <gtest/gtest.h>

#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/model/bundle.hpp"
#include "torch_support.hpp"

using namespace s2m;

namespace {

infer::InsoleSequence random_sequence(int frames) {
    infer::InsoleSequence s;
    s.name = "random";
    s.source = "random";
    std::srand(11);
    s.insoles = Eigen::MatrixXf::Random(frames, 50);  // several windows and a final partial one
    return s;
}

std::vector<Eigen::MatrixXf> poses_over_seeds(model::ModelBundle& bundle, const infer::InsoleSequence& seq, int samples) {
    std::vector<Eigen::MatrixXf> out;
    for (uint64_t seed = 0; seed < 6; ++seed) {
        infer::ReconstructOptions o;
        o.sampler = "fast";
        o.steps = 2;
        o.seed = seed;
        o.samples = samples;
        o.progress = false;
        out.push_back(infer::reconstruct(bundle, {seq}, o)[0].poses);
    }
    return out;
}

// Mean over frames and joint coordinates of the variance between seeds.
double variance_between_seeds(const std::vector<Eigen::MatrixXf>& runs) {
    Eigen::MatrixXf mean = Eigen::MatrixXf::Zero(runs[0].rows(), runs[0].cols());
    for (const auto& r : runs) mean += r / static_cast<float>(runs.size());
    double v = 0;
    for (const auto& r : runs) v += (r - mean).rightCols(63).squaredNorm();
    return v / static_cast<double>(runs.size() * runs[0].rows() * 63);
}

}  // namespace

TEST(Samples, AveragingKSamplesDividesTheSpreadBetweenSeedsByAboutK) {
    auto bundle = test::untrained_tiny_bundle(model::ModelType::Step2Motion);
    const auto seq = random_sequence(75);
    const auto one = poses_over_seeds(bundle, seq, 1);
    const auto four = poses_over_seeds(bundle, seq, 4);
    ASSERT_EQ(four[0].rows(), 75);
    const double ratio = variance_between_seeds(four) / variance_between_seeds(one);
    std::printf("variance between seeds, 4 samples / 1 sample: %.3f\n", ratio);
    EXPECT_GT(ratio, 0.1);
    EXPECT_LT(ratio, 0.5);
    // The first sample of a K-sample run is the one-sample run of the same seed: the averages differ.
    EXPECT_GT((four[0] - one[0]).rightCols(63).cwiseAbs().maxCoeff(), 1e-4f);
    // The root network is deterministic: the same displacement whatever the sample count.
    EXPECT_TRUE(four[0].leftCols(3).isApprox(one[0].leftCols(3)));
}

TEST(Samples, RegressorsIgnoreTheSampleCount) {
    auto bundle = test::untrained_tiny_bundle(model::ModelType::Mlp);
    const auto seq = random_sequence(75);
    const auto one = poses_over_seeds(bundle, seq, 1);
    const auto four = poses_over_seeds(bundle, seq, 4);
    EXPECT_TRUE(one[0].isApprox(four[0]));
    EXPECT_TRUE(one[0].isApprox(one[5]));
}

TEST(Samples, ZeroSamplesIsRefused) {
    auto bundle = test::untrained_tiny_bundle(model::ModelType::Step2Motion);
    infer::ReconstructOptions o;
    o.samples = 0;
    o.progress = false;
    EXPECT_THROW(infer::reconstruct(bundle, {random_sequence(40)}, o), std::exception);
}
