#include <gtest/gtest.h>

#include <random>

#include "step2motion/core/error.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

using namespace s2m;

TEST(Rotation, EulerRoundTripInEveryOrder) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> angle(-179, 179), mid(-89, 89);
    for (const char* name : {"XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"}) {
        const kin::AxisOrder order = kin::axis_order(name);
        for (int i = 0; i < 2000; ++i) {
            const Eigen::Vector3d e(angle(rng), mid(rng), angle(rng));
            const kin::Quat q = kin::euler_to_quat_deg(e, order);
            const Eigen::Vector3d back = kin::quat_to_euler_deg(q, order);
            EXPECT_LT((back - e).norm(), 1e-8) << name;
        }
        // Near gimbal lock the angles differ, the rotation does not.
        const kin::Quat q = kin::euler_to_quat_deg({30, 90, 10}, order);
        const kin::Quat back = kin::euler_to_quat_deg(kin::quat_to_euler_deg(q, order), order);
        EXPECT_NEAR(std::abs(q.dot(back)), 1.0, 1e-9) << name;
    }
    EXPECT_THROW(kin::axis_order("XXY"), InputError);
}

TEST(Rotation, NearSolutionIsContinuous) {
    const kin::AxisOrder order = kin::axis_order("ZXY");
    Eigen::Vector3d prev(0, 0, 0);
    for (int i = 0; i < 720; ++i) {
        const kin::Quat q = kin::axis_angle_deg(2, i);
        const Eigen::Vector3d e = kin::quat_to_euler_deg_near(q, order, prev);
        EXPECT_LT((e - prev).norm(), 1.0 + 1e-9) << i;
        prev = e;
    }
    EXPECT_NEAR(prev[0], 719.0, 1e-9);
}

TEST(Kinematics, ForwardInverseForwardOnRandomPoses) {
    // The authors' skeleton layout with random rotations on every joint.
    kin::Skeleton s;
    std::mt19937 rng(7);
    std::normal_distribution<double> n(0, 1);
    for (int k = 0; k < kin::kNumJoints; ++k) {
        s.names.emplace_back(kin::kJointNames[static_cast<size_t>(k)]);
        s.parents.push_back(kin::kJointParents[static_cast<size_t>(k)]);
        s.offsets_m.push_back(k == 0 ? kin::Vec3::Zero() : kin::Vec3(0.1 * n(rng), 0.2 * n(rng), 0.1 * n(rng)));
        s.end_sites_m.emplace_back(std::nullopt);
    }
    kin::Motion m;
    m.skeleton = s;
    m.fps = 30;
    m.resize(200);
    for (int f = 0; f < m.frames; ++f) {
        m.translation(f, 0) = kin::Vec3(n(rng), 1 + 0.1 * n(rng), n(rng));
        for (int j = 0; j < s.size(); ++j)
            m.rotation(f, j) = kin::Quat(Eigen::Vector4d(n(rng), n(rng), n(rng), n(rng)).normalized());
    }
    const auto p = kin::forward_kinematics(m);
    const kin::Motion ik = kin::inverse_kinematics(s, p, m.frames, m.fps);
    const auto q = kin::forward_kinematics(ik);
    for (size_t i = 0; i < p.size(); ++i) ASSERT_LT((p[i] - q[i]).norm(), 1e-7) << i;
}

TEST(Kinematics, BvhExportReproducesPositions) {
    kin::Skeleton s;
    s.names = {"a", "b", "c"};
    s.parents = {-1, 0, 1};
    s.offsets_m = {kin::Vec3::Zero(), kin::Vec3(0, 1, 0), kin::Vec3(0.5, 0, 0)};
    s.end_sites_m = {std::nullopt, std::nullopt, kin::Vec3(0, 0.1, 0)};
    kin::Motion m;
    m.skeleton = s;
    m.resize(50);
    for (int f = 0; f < 50; ++f) {
        m.translation(f, 0) = kin::Vec3(f * 0.01, 1, 0);
        m.rotation(f, 0) = kin::axis_angle_deg(1, f * 9.0);
        m.rotation(f, 1) = kin::axis_angle_deg(0, f * 5.0) * kin::axis_angle_deg(2, 20);
    }
    for (const char* order : {"ZXY", "XYZ", "ZYX"}) {
        const io::Bvh bvh = kin::bvh_from_motion(m, {order, false});
        const io::Bvh back = io::parse_bvh(io::format_bvh(bvh, {9}), "mem");
        const auto p = kin::forward_kinematics(m);
        const auto q = kin::forward_kinematics(kin::motion_from_bvh(back, 1.0));
        for (size_t i = 0; i < p.size(); ++i) EXPECT_LT((p[i] - q[i]).norm(), 1e-7) << order;
    }
}

TEST(Mapping, UserFilesAreCheckedAndNamespacesMatch) {
    EXPECT_THROW(kin::parse_joint_map("{", "bad.json"), InputError);
    EXPECT_THROW(kin::parse_joint_map(R"({"joints": {"Hips": "Hips"}})", "partial.json"), InputError);
    EXPECT_THROW(kin::parse_joint_map(R"({"joints": {"Tail": "x"}})", "unknown.json"), InputError);
    EXPECT_THROW(kin::load_joint_map("no-such-preset-or-file"), InputError);
    for (const auto& name : kin::preset_names()) EXPECT_NO_THROW(kin::load_joint_map(name)) << name;
    // A Mixamo-named skeleton ("mixamorig:" prefixes) resolves with the mixamo preset.
    kin::Skeleton s;
    const char* names[] = {"Hips", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg",
                           "RightFoot", "RightToeBase", "Spine", "Spine1", "Spine2", "Neck", "Head", "LeftShoulder",
                           "LeftArm", "LeftForeArm", "LeftHand", "RightShoulder", "RightArm", "RightForeArm", "RightHand"};
    const int parents[] = {-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 12, 11, 14, 15, 16, 11, 18, 19, 20};
    for (int k = 0; k < 22; ++k) {
        s.names.push_back(std::string("mixamorig:") + names[k]);
        s.parents.push_back(parents[k]);
        s.offsets_m.emplace_back(0.01 * k, 0.1, 0.02);
        s.end_sites_m.emplace_back(std::nullopt);
    }
    const auto r = kin::resolve_joint_map(kin::load_joint_map("mixamo"), s, "mixamo.bvh");
    EXPECT_EQ(r.a[kin::Spine3], 11);
    s.names[11] = "Chest";
    EXPECT_THROW(kin::resolve_joint_map(kin::load_joint_map("mixamo"), s, "mixamo.bvh"), InputError);
}
