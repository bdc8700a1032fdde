// Root from the feet (zero-velocity updates): a synthetic gait with a known stride and a biased,
// noisy accelerometer; stance flicker; and the real Moticon walks bundled in data/moticon.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "step2motion/imu/frames.hpp"
#include "step2motion/imu/zupt.hpp"
#include "step2motion/io/moticon.hpp"

using namespace s2m;

namespace {

constexpr double kG = 9.80665;

// One foot walking along +Z: stance 0.35 s, swing 0.4 s with a minimum-jerk stride of `stride_m`,
// `strides` times, at `rate_hz`. Accelerations in g (gravity removed) with a constant bias and white
// noise; force 600 N in stance, 5 N in swing.
struct Gait {
    Eigen::MatrixXf acc_g;
    Eigen::VectorXf force_n;
    double travelled_m = 0;
};
Gait synthetic_gait(double rate_hz, int strides, double stride_m, const Eigen::Vector3d& bias_g, double noise_g, unsigned seed) {
    const double stance_s = 0.35, swing_s = 0.4;
    const int stance = static_cast<int>(std::lround(stance_s * rate_hz)), swing = static_cast<int>(std::lround(swing_s * rate_hz));
    const int n = strides * (stance + swing) + stance;
    Gait g;
    g.acc_g = Eigen::MatrixXf::Zero(n, 3);
    g.force_n = Eigen::VectorXf::Constant(n, 600.f);
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0, noise_g);
    for (int s = 0; s < strides; ++s) {
        const int begin = s * (stance + swing) + stance;
        for (int k = 0; k < swing; ++k) {
            // Minimum-jerk position x(τ) = L(10τ³ - 15τ⁴ + 6τ⁵), τ in (0, 1): acceleration L/T² (60τ - 180τ² + 120τ³).
            const double tau = (k + 0.5) / swing;
            const double a = stride_m / (swing_s * swing_s) * (60 * tau - 180 * tau * tau + 120 * tau * tau * tau);
            g.acc_g(begin + k, 2) = static_cast<float>(a / kG);
            g.force_n[begin + k] = 5.f;
        }
    }
    for (int i = 0; i < n; ++i)
        for (int c = 0; c < 3; ++c) g.acc_g(i, c) += static_cast<float>(bias_g[c] + noise(rng));
    g.travelled_m = strides * stride_m;
    return g;
}

}  // namespace

TEST(Zupt, RecoversStridesDespiteAccelerometerBiasAndNoise) {
    for (double rate_hz : {30.0, 100.0}) {
        const Gait g = synthetic_gait(rate_hz, 6, 0.75, Eigen::Vector3d(0.03, -0.02, 0.04), 0.02, 7);
        const imu::FootPath p = imu::foot_path(g.acc_g, g.force_n, {}, rate_hz);
        EXPECT_EQ(p.strides, 6) << rate_hz << " Hz";
        const Eigen::RowVector3d end = p.position_m.bottomRows(1);
        // Without the zero-velocity updates the bias alone would put the foot metres off.
        EXPECT_NEAR(end.z(), g.travelled_m, 0.06 * g.travelled_m) << rate_hz << " Hz";
        EXPECT_LT(std::hypot(end.x(), end.y()), 0.05) << rate_hz << " Hz";
        // Still in every stance: the foot does not move while loaded.
        for (int i = 1; i < g.acc_g.rows(); ++i) {
            if (!p.stance[static_cast<size_t>(i)] || !p.stance[static_cast<size_t>(i - 1)]) continue;
            EXPECT_LT((p.position_m.row(i) - p.position_m.row(i - 1)).norm(), 1e-9) << "frame " << i;
        }
    }
}

TEST(Zupt, StanceMergesFlickerAndDropsBlips) {
    const double rate_hz = 100;
    Eigen::VectorXf force = Eigen::VectorXf::Constant(300, 2.f);
    force.segment(20, 60).setConstant(500.f);   // stance
    force.segment(45, 2).setConstant(10.f);     // 20 ms dip inside it: flicker, merged
    force.segment(150, 3).setConstant(400.f);   // 30 ms blip: not a stance
    force.segment(200, 50).setConstant(450.f);  // stance
    const auto stance = imu::stance_from_force(force, {}, rate_hz);
    int onsets = 0;
    for (size_t i = 0; i < stance.size(); ++i) onsets += stance[i] && (i == 0 || !stance[i - 1]);
    EXPECT_EQ(onsets, 2);
    EXPECT_TRUE(stance[45] && stance[46]);
    EXPECT_FALSE(stance[151]);
    // The threshold follows the foot's own force scale: the same gait at a tenth of the force.
    const auto scaled = imu::stance_from_force(force * 0.1f, {}, rate_hz, {0.08, 3.0});
    EXPECT_EQ(scaled, stance);
}

TEST(Zupt, AFootNeverLoadedDoesNotTravel) {
    Eigen::MatrixXf acc = Eigen::MatrixXf::Constant(200, 3, 0.05f);
    const imu::FootPath p = imu::foot_path(acc, Eigen::VectorXf::Zero(200), {}, 100);
    EXPECT_EQ(p.strides, 0);
    EXPECT_EQ(p.position_m.norm(), 0.0);
}

// Both insoles of a walk, the right one dead (no force, no acceleration): the root follows the left
// foot alone and covers the whole distance, not half of it.
TEST(Zupt, ADeadInsoleLeavesTheRootToTheOtherFoot) {
    const double rate_hz = 100;
    const Gait g = synthetic_gait(rate_hz, 6, 0.75, Eigen::Vector3d::Zero(), 0.0, 3);
    Eigen::MatrixXf channels = Eigen::MatrixXf::Zero(g.acc_g.rows(), io::kInsoleChannels);
    channels.middleCols(io::kAccOffset, 3) = g.acc_g;
    channels.col(io::kForceOffset) = g.force_n;
    const imu::FeetRoot dead = imu::feet_root(channels, rate_hz);
    EXPECT_NEAR(dead.position_m.bottomRows(1)(0, 2), dead.feet[0].position_m.bottomRows(1)(0, 2), 1e-9);
    EXPECT_NEAR(dead.position_m.bottomRows(1)(0, 2), g.travelled_m, 0.06 * g.travelled_m);
    // Both insoles alive (the same foot twice): their mean, the same distance.
    channels.middleCols(io::kRightFootOffset + io::kAccOffset, 3) = g.acc_g;
    channels.col(io::kRightFootOffset + io::kForceOffset) = g.force_n;
    const imu::FeetRoot both = imu::feet_root(channels, rate_hz);
    EXPECT_NEAR(both.position_m.bottomRows(1)(0, 2), dead.position_m.bottomRows(1)(0, 2), 1e-9);
}

TEST(Zupt, CentredAverageKeepsEndsAndLines) {
    Eigen::MatrixXd x(9, 1);
    for (int i = 0; i < 9; ++i) x(i, 0) = 2.0 * i + 1;
    const Eigen::MatrixXd y = imu::centred_average(x, 5);
    EXPECT_TRUE(y.isApprox(x)) << "a straight line is its own centred average";
    Eigen::MatrixXd steps(6, 1);
    steps << 0, 0, 1, 1, 2, 2;
    const Eigen::MatrixXd s = imu::centred_average(steps, 3);
    EXPECT_DOUBLE_EQ(s(0, 0), 0);
    EXPECT_DOUBLE_EQ(s(5, 0), 2);
    EXPECT_NEAR(s(2, 0), 2.0 / 3, 1e-12);
}

// The three real walks (slow, normal, fast; insole size 7, 100 Hz) with the insoles' own step events:
// the feet's path from the insole-IMU filter alone, as `s2m reconstruct --root zupt` computes it.
TEST(Zupt, RealMoticonWalksHaveAdultStridesInSpeedOrder) {
    std::map<std::string, double> speed_m_s;
    for (const char* file : {"230927_102114.txt", "230927_102137.txt", "230927_102231.txt"}) {
        const io::MoticonRecording rec = io::read_moticon(std::string(S2M_SOURCE_DIR) + "/data/moticon/" + file);
        Eigen::MatrixXf channels = io::insole_channels(rec);
        imu::accelerations_to_world_filtered(channels, rec.rate_hz);
        const imu::FeetRoot root = imu::feet_root(channels, rec.rate_hz);
        double path_m = 0;
        for (int f = 1; f < root.position_m.rows(); ++f) path_m += (root.position_m.row(f) - root.position_m.row(f - 1)).norm();
        const double duration_s = (rec.frames() - 1) / rec.rate_hz;
        int events[2] = {0, 0};
        for (int foot = 0; foot < 2; ++foot) {
            const io::MoticonColumn* c = rec.find_extra(foot == 0 ? "left steps" : "right steps");
            ASSERT_NE(c, nullptr);
            double first = INFINITY;
            for (double v : c->values)
                if (std::isfinite(v)) first = std::min(first, v);
            for (double v : c->values) events[foot] += v == first;  // the first code marks each step
        }
        const int steps = root.feet[0].strides + root.feet[1].strides;
        const double per_step_m = path_m / steps;
        const std::string tag = rec.header.at("Tag");
        speed_m_s[tag] = path_m / duration_s;
        std::printf("%s [%s]: %.2f m in %.1f s (%.2f m/s), strides L %d R %d (step events L %d R %d), %.2f m per step\n", file,
                    tag.c_str(), path_m, duration_s, path_m / duration_s, root.feet[0].strides, root.feet[1].strides, events[0],
                    events[1], per_step_m);
        EXPECT_NEAR(root.feet[0].strides, events[0], 2) << file;
        EXPECT_NEAR(root.feet[1].strides, events[1], 2) << file;
        EXPECT_GE(per_step_m, 0.35) << file;
        EXPECT_LE(per_step_m, 0.9) << file;
    }
    ASSERT_EQ(speed_m_s.size(), 3u);
    EXPECT_LT(speed_m_s.at("slow"), speed_m_s.at("normal"));
    EXPECT_LT(speed_m_s.at("normal"), speed_m_s.at("fast"));
}
