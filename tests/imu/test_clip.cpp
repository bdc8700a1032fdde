// From recordings to dataset clips: synchronisation, resampling, first frame dropped, poses, IMU frames.
#include <gtest/gtest.h>

#include <cmath>

#include "paired_fixture.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/io/mvnx.hpp"
#include "step2motion/kinematics/motion.hpp"

using namespace s2m;

TEST(Clip, SynchronisedResampledAndWorldAccelerations) {
    S2M_REQUIRE_SHARED();
    const auto dir = test::temp_dir("clip_sync");
    const io::Motion canon = test::canonical_walk_240(2.5);
    const Eigen::Vector3d acc(0.1, -0.2, 0.3);
    const test::PairedFixture fx = test::make_paired(dir, "walk", canon, 1.0, 0.73, acc);
    io::RecordingSource src;
    src.name = "S1/walk";
    src.insoles = fx.insoles;
    src.sync = fx.sync;
    src.mocap = fx.bvh;
    src.subject = "S1";
    src.activity = "walk";
    const io::DatasetClip c = imu::build_clip(src, {});
    EXPECT_EQ(c.joint_map, "step2motion");
    // round(600 mocap frames * 30 / 240) = 75 frames, the first dropped.
    ASSERT_EQ(c.frames(), 74);
    EXPECT_EQ(c.insole_size, 6);
    EXPECT_EQ(c.source_insole_rate_hz, 100);
    EXPECT_EQ(c.source_mocap_rate_hz, 240);
    const std::vector<s2m::Vec3> p = kin::forward_kinematics(canon);
    double worst_acc = 0, worst_joint = 0;
    for (int r = 0; r < c.frames(); ++r) {
        const int k = r + 1;  // target frame k is mocap frame 8k, insole time lead + k/30
        EXPECT_NEAR(c.insoles(r, 0), fx.lead_left_s + k / 30.0, 1e-4) << r;
        EXPECT_NEAR(c.insoles(r, io::kFootChannels), fx.lead_right_s + k / 30.0, 1e-4) << r;
        for (int foot = 0; foot < 2; ++foot)
            for (int a = 0; a < 3; ++a)
                worst_acc = std::max(worst_acc, std::abs(c.insoles(r, foot * io::kFootChannels + io::kAccOffset + a) - acc[a]));
        const s2m::Vec3 root = p[static_cast<size_t>(8 * k) * 22], prev = p[static_cast<size_t>(8 * (k - 1)) * 22];
        for (int a = 0; a < 3; ++a) worst_joint = std::max(worst_joint, std::abs(c.poses(r, a) - (root - prev)[a]));
        for (int j = 1; j < 22; ++j)
            for (int a = 0; a < 3; ++a)
                worst_joint = std::max(worst_joint, std::abs(c.poses(r, 3 * j + a) - (p[static_cast<size_t>(8 * k) * 22 + j] - root)[a]));
    }
    EXPECT_LT(worst_joint, 1e-4) << "metres";
    // Readings are interpolated from 100 Hz before rotation with the 30 Hz foot orientation.
    EXPECT_LT(worst_acc, 0.05) << "g";
    std::printf("mocap frame: worst world acceleration error %.4f g, worst pose error %.2g m\n", worst_acc, worst_joint);
    EXPECT_NEAR((c.root_start_m - p[0]).norm(), 0, 1e-5);
    for (int r = 0; r < c.frames(); ++r) EXPECT_EQ(c.insole_valid(r, 0), 1);
}

// Without mocap: the orientation filter on the insole IMU alone must give world accelerations close
// to the truth on real foot motion (CMU walk; the readings encode zero world acceleration, so any
// tilt error shows as a horizontal acceleration of sin(error) g).
TEST(Clip, FilterFrameOnRealFootMotion) {
    S2M_REQUIRE_SHARED();
    const auto dir = test::temp_dir("clip_filter");
    const io::Motion canon = test::canonical_walk_240(2.8);
    const test::PairedFixture fx = test::make_paired(dir, "walk", canon, 0.3, 0.3, Eigen::Vector3d::Zero());
    io::RecordingSource src;
    src.name = "walk";
    src.insoles = fx.insoles;
    src.sync = fx.sync;
    src.mocap = fx.bvh;
    imu::ClipOptions o;
    o.imu_frame = imu::ImuFrameMode::Filter;
    const io::DatasetClip c = imu::build_clip(src, o);
    EXPECT_EQ(c.imu_frame, "filter");
    double worst = 0;
    for (int r = 0; r < c.frames(); ++r)
        for (int foot = 0; foot < 2; ++foot)
            worst = std::max(worst, static_cast<double>(c.insoles.block(r, foot * io::kFootChannels + io::kAccOffset, 1, 3).norm()));
    EXPECT_LT(worst, std::sin(2.0 * M_PI / 180)) << "tilt error above 2 degrees somewhere";
    std::printf("filter on the CMU walk: worst world acceleration %.4f g (tilt error %.2f deg)\n", worst,
                std::asin(std::min(1.0, worst)) * 180 / M_PI);
}

TEST(Clip, WithoutSyncFileStreamsStartTogether) {
    S2M_REQUIRE_SHARED();
    const auto dir = test::temp_dir("clip_nosync");
    const io::Motion canon = test::canonical_walk_240(2.5);
    const test::PairedFixture fx = test::make_paired(dir, "walk", canon, 0.0, 0.0, Eigen::Vector3d::Zero());
    io::RecordingSource src;
    src.name = "walk";
    src.insoles = fx.insoles;
    src.mocap = fx.bvh;
    imu::ClipOptions o;
    o.target_hz = 60;
    const io::DatasetClip c = imu::build_clip(src, o);
    ASSERT_EQ(c.frames(), 149);  // 2.5 s at 60 Hz, minus the first frame
    for (int r = 0; r < c.frames(); r += 17) EXPECT_NEAR(c.insoles(r, 0), (r + 1) / 60.0, 1e-4);
}

TEST(Clip, SyncSpanBeyondTheFileIsAnInputError) {
    S2M_REQUIRE_SHARED();
    const auto dir = test::temp_dir("clip_badsync");
    const io::Motion canon = test::canonical_walk_240(2.0);
    const test::PairedFixture fx = test::make_paired(dir, "walk", canon, 0.0, 0.0, Eigen::Vector3d::Zero());
    write_file_atomic(fx.sync, "name,start,end\nleft_insole,0,200\nright_insole,0,200\nmocap,0,900\n");
    io::RecordingSource src;
    src.insoles = fx.insoles;
    src.sync = fx.sync;
    src.mocap = fx.bvh;
    try {
        imu::build_clip(src, {});
        FAIL() << "no error";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), fx.sync + ":4: mocap span [0, 900) goes beyond the 480 frames of " + fx.bvh);
    }
}

// A synthetic MVN body (23 segments, rigid) moving with smooth random rotations.
io::Mvnx synthetic_mvnx(int frames, bool stiff_l5 = false) {
    io::Mvnx m;
    m.source = "synthetic";
    m.subject = "test";
    m.frame_rate_hz = 240;
    m.segments = {"Pelvis", "L5", "L3", "T12", "T8", "Neck", "Head", "RightShoulder", "RightUpperArm", "RightForeArm",
                  "RightHand", "LeftShoulder", "LeftUpperArm", "LeftForeArm", "LeftHand", "RightUpperLeg",
                  "RightLowerLeg", "RightFoot", "RightToe", "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToe"};
    for (int s = 0; s < 23; ++s) m.parents.push_back(io::mvn_parent_index(m.segments, s));
    // Offsets in the identity pose (Y up, facing +Z, left = +X).
    auto off = [&](const std::string& name) -> Eigen::Vector3d {
        const bool left = name.rfind("Left", 0) == 0;
        const double side = left ? 1 : -1;
        if (name == "Pelvis") return {0, 0.95, 0};
        if (name == "L5" || name == "L3" || name == "T12" || name == "T8") return {0, 0.1, 0};
        if (name == "Neck") return {0, 0.15, 0};
        if (name == "Head") return {0, 0.12, 0};
        if (name.find("Shoulder") != std::string::npos) return {side * 0.04, 0.1, 0};
        if (name.find("UpperArm") != std::string::npos) return {side * 0.15, 0, 0};
        if (name.find("ForeArm") != std::string::npos) return {side * 0.28, 0, 0};
        if (name.find("Hand") != std::string::npos) return {side * 0.25, 0, 0};
        if (name.find("UpperLeg") != std::string::npos) return {side * 0.09, -0.05, 0};
        if (name.find("LowerLeg") != std::string::npos) return {0, -0.42, 0};
        if (name.find("Foot") != std::string::npos) return {0, -0.42, 0};
        return {0, -0.06, 0.14};  // toes
    };
    std::vector<Eigen::Vector3d> ref(23);
    for (int s = 0; s < 23; ++s) {
        const int p = m.parents[s];
        ref[s] = (p < 0 ? Eigen::Vector3d::Zero() : ref[p]) + off(m.segments[s]);
    }
    m.reference_positions_m = ref;
    m.reference_orientations.assign(23, Eigen::Quaterniond::Identity());
    m.reference_type = "identity";
    m.frames = frames;
    for (int f = 0; f < frames; ++f) {
        std::vector<Eigen::Quaterniond> world(23);
        for (int s = 0; s < 23; ++s) {
            const double t = f / 240.0;
            Eigen::Quaterniond local(Eigen::AngleAxisd(0.3 * std::sin(1.3 * t + s), Eigen::Vector3d(std::cos(s), 1, std::sin(s)).normalized()));
            if (stiff_l5 && m.segments[s] == "L5") local.setIdentity();
            const int p = m.parents[s];
            world[s] = (p < 0 ? Eigen::Quaterniond(Eigen::AngleAxisd(0.2 * t, Eigen::Vector3d::UnitY())) : world[p]) * local;
            const Eigen::Vector3d pos = p < 0 ? Eigen::Vector3d(0.5 * t, 0.95, 0.2 * t) : Eigen::Vector3d(m.positions_m[m.positions_m.size() - (s - p)] + world[p] * off(m.segments[s]));
            m.orientations.push_back(world[s]);
            m.positions_m.push_back(pos);
        }
        m.time_ms.push_back(f * 1000.0 / 240);
    }
    return m;
}

TEST(Mvnx, RoundTripZUpAndRigidMotion) {
    const io::Mvnx m = synthetic_mvnx(50);
    const std::string xml = io::format_mvnx(m);
    // In the file the world is Z up: the pelvis height 0.95 is the third coordinate.
    const size_t pos = xml.find("<position>", xml.find("type=\"normal\""));
    ASSERT_NE(pos, std::string::npos);
    EXPECT_EQ(xml.substr(pos + 10, 7), "0 0 0.9");
    const io::Mvnx back = io::parse_mvnx(xml, "synthetic.mvnx");
    ASSERT_EQ(back.frames, 50) << "calibration frames are not motion";
    EXPECT_EQ(back.reference_type, "identity");
    for (size_t k = 0; k < m.positions_m.size(); ++k) {
        ASSERT_NEAR((back.positions_m[k] - m.positions_m[k]).norm(), 0, 1e-12);
        ASSERT_NEAR(back.orientations[k].angularDistance(m.orientations[k]), 0, 1e-9);
    }
    // The Motion rebuilt from it reproduces every segment position by forward kinematics.
    const io::Motion motion = imu::motion_from_mvnx(back);
    const std::vector<s2m::Vec3> p = kin::forward_kinematics(motion);
    double worst = 0;
    for (size_t k = 0; k < p.size(); ++k) worst = std::max(worst, (p[k] - back.positions_m[k]).norm());
    EXPECT_LT(worst, 1e-9);
    // And maps onto the canonical skeleton with the xsens preset.
    const io::Motion canon = kin::retarget_to_canonical(motion, kin::load_joint_map("xsens"), "synthetic.mvnx");
    EXPECT_EQ(canon.skeleton.size(), 22);
}

TEST(Mvnx, MalformedNamesLine) {
    const io::Mvnx m = synthetic_mvnx(3);
    std::string xml = io::format_mvnx(m);
    auto expect_error = [](const std::string& text, const std::string& fragment) {
        try {
            io::parse_mvnx(text, "bad.mvnx");
            ADD_FAILURE() << "no error for " << fragment;
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    std::string cut = xml.substr(0, xml.size() / 2);
    expect_error(cut, "bad.mvnx:");
    std::string wrong = xml;
    const size_t p = wrong.find("</position>", wrong.find("type=\"normal\""));
    wrong.insert(p, " 1.5");
    const long line = 1 + std::count(wrong.begin(), wrong.begin() + static_cast<long>(p), '\n');
    expect_error(wrong, "bad.mvnx:" + std::to_string(line) + ": <position>: expected 69 numbers");
}

// An MVNX recording through the whole clip path: calibration frames skipped, xsens map chosen,
// canonical joints at the MVN segment positions.
TEST(Clip, FromMvnx) {
    const auto dir = test::temp_dir("clip_mvnx");
    const io::Mvnx m = synthetic_mvnx(480);
    write_file_atomic((dir / "walk.mvnx").string(), io::format_mvnx(m));
    io::MoticonRecording rec;
    rec.insole_size = 5;
    rec.rate_hz = 100;
    for (int i = 0; i < 250; ++i) rec.time_s.push_back(i / 100.0);
    Eigen::MatrixXf ch = Eigen::MatrixXf::Zero(250, io::kInsoleChannels);
    ch.col(io::kAccOffset + 2).setOnes();
    ch.col(io::kFootChannels + io::kAccOffset + 2).setOnes();
    io::set_insole_channels(rec, ch);
    io::write_moticon((dir / "walk.txt").string(), rec);
    io::RecordingSource src;
    src.name = "walk";
    src.insoles = (dir / "walk.txt").string();
    src.mocap = (dir / "walk.mvnx").string();
    const io::DatasetClip c = imu::build_clip(src, {});
    EXPECT_EQ(c.joint_map, "xsens");
    EXPECT_EQ(c.source_mocap_rate_hz, 240);
    ASSERT_EQ(c.frames(), 59);  // 2 s of mocap at 30 Hz, first frame dropped
    const int pelvis = m.find("Pelvis"), lfoot = m.find("LeftFoot"), head = m.find("Head");
    double worst_foot = 0, worst_head = 0;
    for (int r = 0; r < c.frames(); ++r) {
        const size_t f = static_cast<size_t>(8 * (r + 1)) * 23;
        const Eigen::Vector3d foot = m.positions_m[f + lfoot] - m.positions_m[f + pelvis];
        const Eigen::Vector3d hd = m.positions_m[f + head] - m.positions_m[f + pelvis];
        for (int a = 0; a < 3; ++a) {
            worst_foot = std::max(worst_foot, std::abs(c.poses(r, 3 * kin::LeftFoot + a) - foot[a]));
            worst_head = std::max(worst_head, std::abs(c.poses(r, 3 * kin::Head + a) - hd[a]));
        }
    }
    // Not exact: the canonical spine drops L5, so the Pelvis-L3 distance that the 22-joint skeleton
    // keeps fixed varies with the (random) L5 rotation here, and the hips' best-fit rotation moves
    // the legs by a few millimetres. motion_from_mvnx itself is exact (Mvnx.RoundTripZUpAndRigidMotion).
    EXPECT_LT(worst_foot, 0.02);
    EXPECT_LT(worst_head, 0.02);
    // With L5 held still the skeleton is consistent with the canonical one and the legs are exact.
    const io::Mvnx stiff = synthetic_mvnx(480, true);
    write_file_atomic((dir / "walk.mvnx").string(), io::format_mvnx(stiff));
    const io::DatasetClip c2 = imu::build_clip(src, {});
    double worst_stiff = 0;
    for (int r = 0; r < c2.frames(); ++r) {
        const size_t f = static_cast<size_t>(8 * (r + 1)) * 23;
        const Eigen::Vector3d foot = stiff.positions_m[f + lfoot] - stiff.positions_m[f + pelvis];
        for (int a = 0; a < 3; ++a) worst_stiff = std::max(worst_stiff, std::abs(c2.poses(r, 3 * kin::LeftFoot + a) - foot[a]));
    }
    EXPECT_LT(worst_stiff, 1e-4);
    std::printf("MVNX clip: worst left-foot error %.2g m, head %.3f m\n", worst_foot, worst_head);
}
