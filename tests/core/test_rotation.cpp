#include <gtest/gtest.h>

#include <random>

#include "step2motion/core/error.hpp"
#include "step2motion/core/rotation.hpp"

using namespace s2m;

TEST(Rotation, EulerRoundTripInEveryOrder) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> angle(-179, 179), mid(-89, 89);
    for (const char* name : {"XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"}) {
        const s2m::AxisOrder order = s2m::axis_order(name);
        for (int i = 0; i < 2000; ++i) {
            const Eigen::Vector3d e(angle(rng), mid(rng), angle(rng));
            const s2m::Quat q = s2m::euler_to_quat_deg(e, order);
            const Eigen::Vector3d back = s2m::quat_to_euler_deg(q, order);
            EXPECT_LT((back - e).norm(), 1e-8) << name;
        }
        // Near gimbal lock the angles differ, the rotation does not.
        const s2m::Quat q = s2m::euler_to_quat_deg({30, 90, 10}, order);
        const s2m::Quat back = s2m::euler_to_quat_deg(s2m::quat_to_euler_deg(q, order), order);
        EXPECT_NEAR(std::abs(q.dot(back)), 1.0, 1e-9) << name;
    }
    EXPECT_THROW(s2m::axis_order("XXY"), InputError);
}

TEST(Rotation, NearSolutionIsContinuous) {
    const s2m::AxisOrder order = s2m::axis_order("ZXY");
    Eigen::Vector3d prev(0, 0, 0);
    for (int i = 0; i < 720; ++i) {
        const s2m::Quat q = s2m::axis_angle_deg(2, i);
        const Eigen::Vector3d e = s2m::quat_to_euler_deg_near(q, order, prev);
        EXPECT_LT((e - prev).norm(), 1.0 + 1e-9) << i;
        prev = e;
    }
    EXPECT_NEAR(prev[0], 719.0, 1e-9);
}
