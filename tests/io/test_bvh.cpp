#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "step2motion/core/error.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

void expect_same(const io::Bvh& a, const io::Bvh& b, const std::string& what) {
    ASSERT_EQ(a.joints.size(), b.joints.size()) << what;
    for (size_t j = 0; j < a.joints.size(); ++j) {
        const auto &x = a.joints[j], &y = b.joints[j];
        ASSERT_EQ(x.name, y.name) << what;
        ASSERT_EQ(x.parent, y.parent) << what;
        ASSERT_EQ(x.offset, y.offset) << what << " " << x.name;
        ASSERT_EQ(x.channels, y.channels) << what << " " << x.name;
        ASSERT_EQ(x.end_site.has_value(), y.end_site.has_value()) << what << " " << x.name;
        if (x.end_site) {
            ASSERT_EQ(*x.end_site, *y.end_site) << what;
        }
    }
    ASSERT_EQ(a.frame_time_s, b.frame_time_s) << what;
    ASSERT_EQ(a.num_frames, b.num_frames) << what;
    ASSERT_EQ(a.values, b.values) << what;
}

}  // namespace

TEST(Bvh, EverySharedFileRoundTripsExactly) {
    S2M_REQUIRE_SHARED();
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(test::shared_dir() / "data")) {
        if (entry.path().extension() != ".bvh") continue;
        const io::Bvh a = io::read_bvh(entry.path().string());
        // Shortest exact numbers: read -> write -> read gives the same values bit for bit.
        const io::Bvh b = io::parse_bvh(io::format_bvh(a), "roundtrip");
        expect_same(io::with_zero_root_offset(a), b, entry.path().string());
        // Fixed precision: our own output round-trips exactly at its printed precision.
        const std::string t1 = io::format_bvh(a, {6});
        const std::string t2 = io::format_bvh(io::parse_bvh(t1, "t1"), {6});
        ASSERT_EQ(t1, t2) << entry.path();
        ++files;
    }
    EXPECT_GT(files, 400);
}

TEST(Bvh, RootOffsetMovesIntoChannelsSoBlenderAndThreeJsAgree) {
    const char* text =
        "HIERARCHY\nROOT Hips\n{\n OFFSET 1 2 3\n CHANNELS 3 Zrotation Xrotation Yrotation\n"
        " JOINT A\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 1 0\n  }\n }\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.04\n10 20 30 0 0 0\n0 0 0 5 5 5\n";
    const io::Bvh a = io::parse_bvh(text, "mem");
    const io::Bvh b = io::parse_bvh(io::format_bvh(a), "out");
    EXPECT_TRUE(b.joints[0].offset.isZero());
    ASSERT_EQ(b.joints[0].channels.size(), 6u);
    const auto pa = kin::forward_kinematics(io::motion_from_bvh(a, 1));
    const auto pb = kin::forward_kinematics(io::motion_from_bvh(b, 1));
    // Without position channels the root sits at its OFFSET; the written file says so explicitly.
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_LT((pa[i] - pb[i]).norm(), 1e-12);
}

// A file written by hand: ZXY order and 6 channels on every joint (positions replace OFFSETs).
TEST(Bvh, ZxyOrderWithSixChannelsOnEveryJoint) {
    const char* text =
        "HIERARCHY\n"
        "ROOT root\n{\n\tOFFSET 0 0 0\n\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        "\tJOINT mid\n\t{\n\t\tOFFSET 9 9 9\n\t\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        "\t\tEnd Site\n\t\t{\n\t\t\tOFFSET 0 0 2\n\t\t}\n\t}\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.0333333\n"
        "1 2 3 90 0 0 0 1 0 0 90 0\n";
    const io::Bvh bvh = io::parse_bvh(text, "handwritten.bvh");
    ASSERT_EQ(bvh.num_channels, 12);
    const io::Motion m = io::motion_from_bvh(bvh, 1.0);
    s2m::QuatVector rot;
    const auto p = kin::forward_kinematics(m, &rot);
    // Root at (1,2,3) turned 90 deg about Z: the child's local (0,1,0) (its position channels, not
    // the OFFSET 9 9 9) points along -X.
    EXPECT_LT((p[0] - Eigen::Vector3d(1, 2, 3)).norm(), 1e-12);
    EXPECT_LT((p[1] - Eigen::Vector3d(0, 2, 3)).norm(), 1e-12);
    // The child's end site: Rz(90) * Rx(90) * (0,0,2) = Rz(90) * (0,-2,0) = (2,0,0).
    const Eigen::Vector3d tip = p[1] + rot[1] * Eigen::Vector3d(0, 0, 2);
    EXPECT_LT((tip - Eigen::Vector3d(2, 2, 3)).norm(), 1e-12);
    // Z X Y composes as Rz * Rx * Ry (intrinsic, in the order listed), not in a forced XYZ order.
    const s2m::Quat want = s2m::euler_to_quat_deg({90, 0, 0}, s2m::axis_order("ZXY"));
    EXPECT_NEAR(std::abs(m.rotation(0, 0).dot(want)), 1.0, 1e-12);
}

TEST(Bvh, ScaleDetection) {
    S2M_REQUIRE_SHARED();
    const auto d = test::shared_dir() / "data";
    EXPECT_DOUBLE_EQ(io::detect_bvh_scale(io::read_bvh((d / "mocap/cmu/07_01.bvh").string())), 0.056444);
    EXPECT_DOUBLE_EQ(io::detect_bvh_scale(io::read_bvh((d / "mocap/cmu-69/69_01_1.bvh").string())), 0.01);
    EXPECT_DOUBLE_EQ(io::detect_bvh_scale(io::read_bvh((d / "skeletons/MPI_new.bvh").string())), 1.0);
    // Centimetres, resting lying along X (its rest height is a few centimetres): sized by its extent.
    EXPECT_DOUBLE_EQ(io::detect_bvh_scale(io::read_bvh((d / "mocap/snu-basketball/s_003_1_1.bvh").string())), 0.01);
}

// Malformed files: exit code 2, one line naming the file and line, no crash, no output left behind.
TEST(Bvh, MalformedFilesGiveOneLineAndExitCode2) {
    const std::string good_head =
        "HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 0\n\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        "\tJOINT Leg\n\t{\n\t\tOFFSET 0 -1 0\n\t\tCHANNELS 3 Zrotation Xrotation Yrotation\n"
        "\t\tEnd Site\n\t\t{\n\t\t\tOFFSET 0 -1 0\n\t\t}\n\t}\n}\n";
    const std::string motion = "MOTION\nFrames: 2\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n0 1 0 0 0 0 0 0 0\n";
    struct Case {
        const char* name;
        std::string text;
        const char* expect;  // a word the message must contain
    };
    std::string binary("\x7f" "ELF\x02\x01\x00\x00garbage", 16);
    const std::vector<Case> cases = {
        {"empty", "", "empty"},
        {"binary", binary, "binary"},
        {"no_hierarchy", "ROOT Hips\n{\n}\n", "HIERARCHY"},
        {"truncated_hierarchy", good_head.substr(0, 120), "expected"},
        {"wrong_channel_count", "HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 0\n\tCHANNELS 6 Xposition Yposition Zrotation\n\tJOINT A\n\t{\n\t\tOFFSET 0 1 0\n\t}\n}\n" + motion, "lists only"},
        {"unknown_channel", "HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 0\n\tCHANNELS 3 Xposition Wrotation Zrotation\n}\n" + motion, "unknown channel"},
        {"text_in_frame", good_head + "MOTION\nFrames: 2\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n0 1 zero 0 0 0 0 0 0\n", "expected a number"},
        {"nan_in_frame", good_head + "MOTION\nFrames: 2\nFrame Time: 0.01\n0 1 0 0 nan 0 0 0 0\n0 1 0 0 0 0 0 0 0\n", "expected a number"},
        {"short_frame", good_head + "MOTION\nFrames: 2\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n0 1 0 0 0\n", "values, expected 9"},
        {"long_frame", good_head + "MOTION\nFrames: 2\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0 7\n0 1 0 0 0 0 0 0 0\n", "more than"},
        {"too_few_frames", good_head + "MOTION\nFrames: 3\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n0 1 0 0 0 0 0 0 0\n", "expected 3 frames"},
        {"too_many_frames", good_head + "MOTION\nFrames: 1\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n0 1 0 0 0 0 0 0 0\n", "more frame data"},
        {"missing_motion", good_head, "MOTION"},
        {"unbalanced_braces", good_head.substr(0, good_head.size() - 2) + motion, "expected"},
        {"extra_brace", good_head + "}\n" + motion, "unbalanced"},
        {"negative_frame_time", good_head + "MOTION\nFrames: 1\nFrame Time: -0.01\n0 1 0 0 0 0 0 0 0\n", "positive Frame Time"},
        {"bad_offset", "HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 x 0\n\tCHANNELS 3 Zrotation Xrotation Yrotation\n}\n" + motion, "OFFSET"},
        {"duplicate_joint", "HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 0\n\tCHANNELS 3 Zrotation Xrotation Yrotation\n\tJOINT Hips\n\t{\n\t\tOFFSET 0 1 0\n\t}\n}\n" + motion, "duplicate"},
        {"missing_frames_line", good_head + "MOTION\nFrame Time: 0.01\n", "Frames:"},
        // Issue 18: the count was trusted and two billion rows allocated (std::bad_alloc, file not named).
        {"frames_two_billion", good_head + "MOTION\nFrames: 2000000000\nFrame Time: 0.01\n0 1 0 0 0 0 0 0 0\n",
         "expected 2000000000 frames (Frames:), found 1"},
        {"frames_beyond_int", good_head + "MOTION\nFrames: 99999999999\nFrame Time: 0.01\n", "more frames than a BVH"},
    };
    const fs::path dir = test::temp_dir("malformed_bvh");
    std::string info_output;
    if (test::have_cli()) {
        EXPECT_EQ(test::run_s2m("info " + (dir / "missing.bvh").string(), &info_output), 2) << info_output;
    }
    for (const auto& c : cases) {
        const fs::path file = dir / (std::string(c.name) + ".bvh");
        {
            std::ofstream out(file, std::ios::binary);
            out << c.text;
        }
        // Through the library: an InputError naming the file and line.
        try {
            io::read_bvh(file.string());
            ADD_FAILURE() << c.name << ": no error";
        } catch (const InputError& e) {
            const std::string msg = e.what();
            EXPECT_NE(msg.find(file.string() + ":"), std::string::npos) << c.name << ": " << msg;
            EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name;
        }
        // Through the CLI: exit code 2, one line, and no output file left behind.
        if (!test::have_cli()) continue;
        const fs::path out_dir = dir / (std::string(c.name) + "_out");
        std::string output;
        const int code = test::run_s2m("-q retarget " + file.string() + " --map step2motion --out " + out_dir.string(), &output);
        EXPECT_EQ(code, 2) << c.name << ": " << output;
        EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << c.name << ": " << output;
        EXPECT_NE(output.find(file.string()), std::string::npos) << c.name << ": " << output;
        EXPECT_FALSE(fs::exists(out_dir / file.filename())) << c.name;
    }
}
