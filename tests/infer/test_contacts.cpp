// Foot contacts from pressure: a foot that skates while its insole is loaded is held still, the leg
// keeps its bone lengths, and the hold fades in and out.
#include <gtest/gtest.h>

#include <cmath>

#include "step2motion/infer/contacts.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"

using namespace s2m;

namespace {
int col(int joint) { return 3 + 3 * (joint - 1); }
Eigen::Vector3d at(const Eigen::MatrixXf& p, int f, int j) { return p.block<1, 3>(f, col(j)).cast<double>().transpose(); }
}  // namespace

TEST(FootContacts, LoadedFootIsHeldStillWithItsBoneLengths) {
    const int F = 60;
    infer::InsoleSequence in;
    in.rate_hz = 30;
    in.insoles = Eigen::MatrixXf::Zero(F, io::kInsoleChannels);
    // Left insole loaded over frames 10..29, the right never.
    for (int f = 10; f < 30; ++f) in.insoles(f, io::kForceOffset) = 600;
    Eigen::MatrixXf poses = Eigen::MatrixXf::Zero(F, 66);
    for (int f = 0; f < F; ++f) {
        poses(f, 2) = f > 0 ? 0.02f : 0.f;  // root walks 0.6 m/s along +Z
        // A bent left leg whose foot stays under the hip: in the world it skates along with the root
        // (holding it needs up to 0.2 m of the 0.3 m the bent leg can reach forward or back).
        const float swing = 0.05f * std::sin(0.3f * f);
        poses.block<1, 3>(f, col(kin::LeftUpLeg)) << 0.1f, -0.05f, 0.f;
        poses.block<1, 3>(f, col(kin::LeftLeg)) << 0.1f, -0.47f, 0.15f + swing;
        poses.block<1, 3>(f, col(kin::LeftFoot)) << 0.1f, -0.88f, swing;
        poses.block<1, 3>(f, col(kin::LeftToeBase)) << 0.1f, -0.93f, 0.14f + swing;
        poses.block<1, 3>(f, col(kin::RightFoot)) << -0.1f, -0.88f, 0.f;
    }
    const Eigen::MatrixXf before = poses;
    infer::lock_foot_contacts(poses, in);
    auto world_toe = [&](int f) -> Eigen::Vector3d { return Eigen::Vector3d(0, 0, 0.02 * f) + at(poses, f, kin::LeftToeBase); };
    // Fully held from 3 frames in to 3 frames before the end: the toe does not move in the world.
    for (int f = 12; f < 27; ++f) EXPECT_LT((world_toe(f + 1) - world_toe(f)).norm(), 1e-5) << "frame " << f;
    // The hold fades in: the first loaded frames move less than the full shift.
    const double shift_10 = (at(poses, 10, kin::LeftToeBase) - at(before, 10, kin::LeftToeBase)).norm();
    const double shift_13 = (at(poses, 13, kin::LeftToeBase) - at(before, 13, kin::LeftToeBase)).norm();
    EXPECT_LT(shift_10, 0.5 * shift_13 + 1e-9);
    // Outside the stance, and on the unloaded foot, nothing changes; the hip never moves.
    for (int f : {0, 5, 35, 59}) EXPECT_EQ(poses.row(f), before.row(f)) << "frame " << f;
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
