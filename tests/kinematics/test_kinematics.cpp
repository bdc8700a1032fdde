#include <gtest/gtest.h>

#include <random>

#include "step2motion/core/error.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

using namespace s2m;

TEST(Kinematics, ForwardInverseForwardOnRandomPoses) {
    // The authors' skeleton layout with random rotations on every joint.
    io::Skeleton s;
    std::mt19937 rng(7);
    std::normal_distribution<double> n(0, 1);
    for (int k = 0; k < kin::kNumJoints; ++k) {
        s.names.emplace_back(kin::kJointNames[static_cast<size_t>(k)]);
        s.parents.push_back(kin::kJointParents[static_cast<size_t>(k)]);
        s.offsets_m.push_back(k == 0 ? s2m::Vec3::Zero() : s2m::Vec3(0.1 * n(rng), 0.2 * n(rng), 0.1 * n(rng)));
        s.end_sites_m.emplace_back(std::nullopt);
    }
    io::Motion m;
    m.skeleton = s;
    m.fps = 30;
    m.resize(200);
    for (int f = 0; f < m.frames; ++f) {
        m.translation(f, 0) = s2m::Vec3(n(rng), 1 + 0.1 * n(rng), n(rng));
        for (int j = 0; j < s.size(); ++j)
            m.rotation(f, j) = s2m::Quat(Eigen::Vector4d(n(rng), n(rng), n(rng), n(rng)).normalized());
    }
    const auto p = kin::forward_kinematics(m);
    const io::Motion ik = kin::inverse_kinematics(s, p, m.frames, m.fps);
    const auto q = kin::forward_kinematics(ik);
    for (size_t i = 0; i < p.size(); ++i) ASSERT_LT((p[i] - q[i]).norm(), 1e-7) << i;
}

TEST(Kinematics, BvhExportReproducesPositions) {
    io::Skeleton s;
    s.names = {"a", "b", "c"};
    s.parents = {-1, 0, 1};
    s.offsets_m = {s2m::Vec3::Zero(), s2m::Vec3(0, 1, 0), s2m::Vec3(0.5, 0, 0)};
    s.end_sites_m = {std::nullopt, std::nullopt, s2m::Vec3(0, 0.1, 0)};
    io::Motion m;
    m.skeleton = s;
    m.resize(50);
    for (int f = 0; f < 50; ++f) {
        m.translation(f, 0) = s2m::Vec3(f * 0.01, 1, 0);
        m.rotation(f, 0) = s2m::axis_angle_deg(1, f * 9.0);
        m.rotation(f, 1) = s2m::axis_angle_deg(0, f * 5.0) * s2m::axis_angle_deg(2, 20);
    }
    for (const char* order : {"ZXY", "XYZ", "ZYX"}) {
        const io::Bvh bvh = io::bvh_from_motion(m, {order, false});
        const io::Bvh back = io::parse_bvh(io::format_bvh(bvh, {9}), "mem");
        const auto p = kin::forward_kinematics(m);
        const auto q = kin::forward_kinematics(io::motion_from_bvh(back, 1.0));
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
    io::Skeleton s;
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
