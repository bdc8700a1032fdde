// Foot contacts from pressure: a foot that skates while its insole is loaded is held still, the leg
// keeps its bone lengths, and the hold fades out away from a stance with no jump at its edges.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "step2motion/infer/contacts.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"

using namespace s2m;

namespace {
int col(int joint) { return 3 + 3 * (joint - 1); }
Eigen::Vector3d at(const Eigen::MatrixXf& p, int f, int j) { return p.block<1, 3>(f, col(j)).cast<double>().transpose(); }

// 30 Hz insoles, the left one loaded over the frames [begin, end) of each span, the right never.
infer::InsoleSequence left_insole_loaded(int frames, const std::vector<std::pair<int, int>>& spans) {
    infer::InsoleSequence in;
    in.rate_hz = 30;
    in.insoles = Eigen::MatrixXf::Zero(frames, io::kInsoleChannels);
    for (const auto& [begin, end] : spans)
        for (int f = begin; f < end; ++f) in.insoles(f, io::kForceOffset) = 600;
    return in;
}

// The root walks 0.6 m/s along +Z; a bent left leg whose foot stays under the hip (swinging by
// `swing_m` about it) skates along with the root in the world (holding it needs up to 0.2 m of the
// 0.3 m the bent leg can reach forward or back).
Eigen::MatrixXf skating_left_leg(int frames, float swing_m) {
    Eigen::MatrixXf poses = Eigen::MatrixXf::Zero(frames, 66);
    for (int f = 0; f < frames; ++f) {
        poses(f, 2) = f > 0 ? 0.02f : 0.f;
        const float swing = swing_m * std::sin(0.3f * f);
        poses.block<1, 3>(f, col(kin::LeftUpLeg)) << 0.1f, -0.05f, 0.f;
        poses.block<1, 3>(f, col(kin::LeftLeg)) << 0.1f, -0.47f, 0.15f + swing;
        poses.block<1, 3>(f, col(kin::LeftFoot)) << 0.1f, -0.88f, swing;
        poses.block<1, 3>(f, col(kin::LeftToeBase)) << 0.1f, -0.93f, 0.14f + swing;
        poses.block<1, 3>(f, col(kin::RightFoot)) << -0.1f, -0.88f, 0.f;
    }
    return poses;
}
}  // namespace

TEST(FootContacts, LoadedFootIsHeldStillWithItsBoneLengths) {
    const int F = 60;
    const infer::InsoleSequence in = left_insole_loaded(F, {{10, 30}});
    Eigen::MatrixXf poses = skating_left_leg(F, 0.05f);
    const Eigen::MatrixXf before = poses;
    infer::lock_foot_contacts(poses, in);
    auto world_toe = [&](int f) -> Eigen::Vector3d { return Eigen::Vector3d(0, 0, 0.02 * f) + at(poses, f, kin::LeftToeBase); };
    // Held over the whole stance: the toe does not move in the world.
    for (int f = 10; f < 29; ++f) EXPECT_LT((world_toe(f + 1) - world_toe(f)).norm(), 1e-5) << "frame " << f;
    // Away from it the shift fades to none over 0.2 s (6 frames), a sixth of it per frame: no jump.
    const auto shift = [&](int f) -> Eigen::Vector3d { return at(poses, f, kin::LeftToeBase) - at(before, f, kin::LeftToeBase); };
    ASSERT_GT(shift(10).norm(), 0.05);
    for (int f = 4; f < 10; ++f) EXPECT_LT((shift(f + 1) - shift(f)).norm(), shift(10).norm() / 6 + 1e-6) << "frame " << f;
    for (int f = 29; f < 35; ++f) EXPECT_LT((shift(f + 1) - shift(f)).norm(), shift(29).norm() / 6 + 1e-6) << "frame " << f;
    // Beyond the fade, and on the unloaded foot, nothing changes; the hip never moves.
    for (int f : {0, 4, 35, 59}) EXPECT_EQ(poses.row(f), before.row(f)) << "frame " << f;
    EXPECT_EQ(poses.col(col(kin::RightFoot)), before.col(col(kin::RightFoot)));
    EXPECT_EQ(poses.block(0, col(kin::LeftUpLeg), F, 3), before.block(0, col(kin::LeftUpLeg), F, 3));
    // Thigh, shin and foot keep their lengths.
    for (int f = 0; f < F; ++f) {
        const auto hip = at(poses, f, kin::LeftUpLeg), knee = at(poses, f, kin::LeftLeg), ankle = at(poses, f, kin::LeftFoot);
        const auto hip0 = at(before, f, kin::LeftUpLeg), knee0 = at(before, f, kin::LeftLeg), ankle0 = at(before, f, kin::LeftFoot);
        EXPECT_NEAR((knee - hip).norm(), (knee0 - hip0).norm(), 1e-5) << "frame " << f;
        EXPECT_NEAR((ankle - knee).norm(), (ankle0 - knee0).norm(), 1e-5) << "frame " << f;
        EXPECT_NEAR((at(poses, f, kin::LeftToeBase) - ankle).norm(), (at(before, f, kin::LeftToeBase) - ankle0).norm(), 1e-5);
    }
}

// Two stances a short swing apart: the shift goes from the first hold to the second in a straight
// line, so the swing keeps its shape plus one constant velocity.
TEST(FootContacts, ShiftMovesInAStraightLineAcrossASwing) {
    const int F = 60;
    const infer::InsoleSequence in = left_insole_loaded(F, {{10, 25}, {35, 50}});
    Eigen::MatrixXf poses = skating_left_leg(F, 0.f);
    const Eigen::MatrixXf before = poses;
    infer::lock_foot_contacts(poses, in);
    const auto shift = [&](int f) -> Eigen::Vector3d { return at(poses, f, kin::LeftToeBase) - at(before, f, kin::LeftToeBase); };
    const Eigen::Vector3d step = (shift(35) - shift(24)) / 11.0;
    for (int f = 24; f < 35; ++f) EXPECT_LT((shift(f + 1) - shift(f) - step).norm(), 1e-5) << "frame " << f;
}

// The hold is along the ground: the toe's height stays the prediction's, in a stance that bobs and in
// a swing between two stances whose holds differ in height (a vertical hold carried across the swing
// pulled the lifted toe down towards the floor).
TEST(FootContacts, HeightStaysThePredictions) {
    const int F = 60;
    const infer::InsoleSequence in = left_insole_loaded(F, {{10, 25}, {35, 50}});
    Eigen::MatrixXf poses = skating_left_leg(F, 0.03f);
    for (int f = 0; f < F; ++f) {
        // 3 cm of bob in the first stance, the foot 6 cm lower in the second, 10 cm of lift between.
        const float lift = f < 25 ? 0.03f * std::sin(0.9f * f) : f < 35 ? 0.1f * std::sin(float(M_PI) * (f - 24) / 11) : -0.06f;
        for (int j : {kin::LeftFoot, kin::LeftToeBase}) poses(f, col(j) + 1) += lift;
    }
    const Eigen::MatrixXf before = poses;
    infer::lock_foot_contacts(poses, in);
    double moved = 0;
    for (int f = 0; f < F; ++f) {
        EXPECT_NEAR(poses(f, col(kin::LeftToeBase) + 1), before(f, col(kin::LeftToeBase) + 1), 1e-6) << "frame " << f;
        EXPECT_NEAR(poses(f, col(kin::LeftFoot) + 1), before(f, col(kin::LeftFoot) + 1), 1e-6) << "frame " << f;
        moved = std::max(moved, double((at(poses, f, kin::LeftToeBase) - at(before, f, kin::LeftToeBase)).norm()));
    }
    EXPECT_GT(moved, 0.02);  // it did hold the foot along the ground
    auto world_toe = [&](int f) -> Eigen::Vector3d { return Eigen::Vector3d(0, 0, 0.02 * f) + at(poses, f, kin::LeftToeBase); };
    for (int f = 10; f < 24; ++f) {
        Eigen::Vector3d d = world_toe(f + 1) - world_toe(f);
        d.y() = 0;
        EXPECT_LT(d.norm(), 1e-5) << "frame " << f;
    }
}
