// The HDF5 dataset: exact read-back, normalisation statistics, h5dump, bad files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "step2motion/core/error.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "test_support.hpp"

using namespace s2m;

namespace {

io::Dataset random_dataset(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0, 1);
    io::Dataset d;
    d.rate_hz = 30;
    for (int j = 0; j < 22; ++j) {
        d.joint_names.push_back("J" + std::to_string(j));
        d.joint_parents.push_back(j - 1);
    }
    const char* splits[] = {"train", "train", "val", "test", "train"};
    for (int c = 0; c < 5; ++c) {
        io::DatasetClip clip;
        clip.name = "S" + std::to_string(c % 3 + 1) + "/seq_" + std::to_string(c);
        clip.subject = "S" + std::to_string(c % 3 + 1);
        clip.activity = c % 2 ? "walk" : "jog";
        clip.split = splits[c];
        clip.source_insoles = "/data/" + clip.name + ".txt";
        clip.source_sync = "/data/" + clip.name + ".csv";
        clip.source_mocap = "/data/" + clip.name + ".bvh";
        clip.joint_map = "xsens";
        clip.imu_frame = "mocap";
        clip.source_insole_rate_hz = 100;
        clip.source_mocap_rate_hz = 240;
        clip.weight_kg = 60 + c;
        clip.insole_size = 4 + c;
        const int n = 700 + 613 * c;  // spans several 1024-row chunks
        clip.poses.resize(n, io::kRootAndJointValues);
        clip.insoles.resize(n, io::kInsoleChannels);
        clip.insole_valid.resize(n, 2);
        for (int i = 0; i < n; ++i) {
            for (int k = 0; k < io::kRootAndJointValues; ++k) clip.poses(i, k) = g(rng) + k;
            for (int k = 0; k < io::kInsoleChannels; ++k) clip.insoles(i, k) = k == 7 ? 0.25f : 3 * g(rng) - k;
            clip.insole_valid(i, 0) = i % 7 != 0;
            clip.insole_valid(i, 1) = 1;
        }
        for (int j = 0; j < 22; ++j)
            for (int a = 0; a < 3; ++a) clip.offsets_m(j, a) = g(rng);
        clip.root_start_m = Eigen::Vector3d(1, 0.9, -2);
        if (c != 1) {  // optional: clip 1 stores none, as files from before headings
            clip.insole_heading_rad.resize(n, 2);
            for (int i = 0; i < n; ++i) clip.insole_heading_rad.row(i) << 0.01f * i, -0.02f * i + g(rng);
        }
        d.clips.push_back(clip);
    }
    d.stats = io::compute_norm_stats(d.clips, "train");
    d.attributes["created_by"] = "test";
    return d;
}

}  // namespace

TEST(Dataset, ReadsBackIdentically) {
    const auto dir = test::temp_dir("dataset");
    const std::string path = (dir / "d.h5").string();
    const io::Dataset d = random_dataset(1);
    io::write_dataset(path, d);
    const io::Dataset r = io::read_dataset(path);
    EXPECT_EQ(r.rate_hz, d.rate_hz);
    EXPECT_EQ(r.joint_names, d.joint_names);
    EXPECT_EQ(r.joint_parents, d.joint_parents);
    EXPECT_EQ(r.attributes.at("created_by"), "test");
    ASSERT_EQ(r.clips.size(), d.clips.size());
    for (size_t i = 0; i < d.clips.size(); ++i) {
        const auto &a = d.clips[i], &b = r.clips[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.subject, b.subject);
        EXPECT_EQ(a.activity, b.activity);
        EXPECT_EQ(a.split, b.split);
        EXPECT_EQ(a.source_insoles, b.source_insoles);
        EXPECT_EQ(a.source_sync, b.source_sync);
        EXPECT_EQ(a.source_mocap, b.source_mocap);
        EXPECT_EQ(a.joint_map, b.joint_map);
        EXPECT_EQ(a.imu_frame, b.imu_frame);
        EXPECT_EQ(a.rate_hz, b.rate_hz);
        EXPECT_EQ(a.source_insole_rate_hz, b.source_insole_rate_hz);
        EXPECT_EQ(a.source_mocap_rate_hz, b.source_mocap_rate_hz);
        EXPECT_EQ(a.weight_kg, b.weight_kg);
        EXPECT_EQ(a.insole_size, b.insole_size);
        EXPECT_TRUE(a.poses == b.poses);
        EXPECT_TRUE(a.insoles == b.insoles);
        EXPECT_TRUE(a.insole_valid == b.insole_valid);
        EXPECT_EQ(a.insole_heading_rad.rows(), b.insole_heading_rad.rows());
        EXPECT_TRUE(a.insole_heading_rad == b.insole_heading_rad);
        EXPECT_TRUE(a.offsets_m == b.offsets_m);
        EXPECT_TRUE(a.root_start_m == b.root_start_m);
    }
    EXPECT_TRUE(r.stats.pose_mean == d.stats.pose_mean);
    EXPECT_TRUE(r.stats.insole_std == d.stats.insole_std);
    EXPECT_EQ(r.stats.frames, d.stats.frames);
    const io::DatasetSummary s = io::read_dataset_summary(path);
    EXPECT_EQ(s.clips, 5);
    EXPECT_EQ(s.clips_per_split.at("train"), 3);
    EXPECT_EQ(s.frames_per_split.at("test"), 700 + 613 * 3);
    // Compressed: well below the raw float size (the constant channel and the 0/1 masks compress).
    const double raw = static_cast<double>(s.frames) * (66 + 50) * 4;
    EXPECT_LT(static_cast<double>(std::filesystem::file_size(path)), raw);
}

TEST(Dataset, NormalisationStatisticsOfTheTrainingSplit) {
    const io::Dataset d = random_dataset(2);
    long n = 0;
    double sum = 0, sq = 0;
    for (const auto& c : d.clips)
        if (c.split == "train")
            for (int i = 0; i < c.frames(); ++i) {
                sum += c.poses(i, 10);
                sq += c.poses(i, 10) * static_cast<double>(c.poses(i, 10));
                ++n;
            }
    EXPECT_EQ(d.stats.frames, n);
    EXPECT_NEAR(d.stats.pose_mean[10], sum / n, 1e-4);
    EXPECT_NEAR(d.stats.pose_std[10], std::sqrt(sq / n - (sum / n) * (sum / n)), 1e-4);
    EXPECT_EQ(d.stats.insole_std[7], 1.0f) << "constant channel: std < 1e-6 -> 1";
    EXPECT_NEAR(d.stats.insole_mean[7], 0.25f, 1e-7);
}

TEST(Dataset, H5dumpListsIt) {
    const auto dir = test::temp_dir("dataset_h5dump");
    const std::string path = (dir / "d.h5").string();
    io::write_dataset(path, random_dataset(3));
    FILE* p = ::popen(("h5dump -H " + path + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t k;
    while ((k = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
    ASSERT_EQ(::pclose(p), 0) << out;
    for (const char* needle : {"GROUP \"00000_S1__seq_0\"", "DATASET \"poses\"", "DATASET \"insoles\"",
                               "DATASET \"insole_valid\"", "GROUP \"normalization\"", "DATASET \"joint_names\"",
                               "ATTRIBUTE \"rate_hz\"", "ATTRIBUTE \"split\"", "( 700, 66 )"})
        EXPECT_NE(out.find(needle), std::string::npos) << needle;
    FILE* q = ::popen(("h5dump -p -H -d /clips/00001_S2__seq_1/poses " + path + " 2>&1").c_str(), "r");
    out.clear();
    while ((k = std::fread(buf, 1, sizeof buf, q)) > 0) out.append(buf, k);
    ::pclose(q);
    EXPECT_NE(out.find("CHUNKED ( 1024, 66 )"), std::string::npos) << out;
    EXPECT_NE(out.find("DEFLATE"), std::string::npos) << out;
    EXPECT_NE(out.find("SHUFFLE"), std::string::npos) << out;
}

TEST(Dataset, BadFilesNameTheFile) {
    const auto dir = test::temp_dir("dataset_bad");
    const std::string text = (dir / "x.h5").string();
    std::ofstream(text) << "not hdf5";
    try {
        io::read_dataset(text);
        FAIL();
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), text + ": not an HDF5 file");
    }
    try {
        io::read_dataset((dir / "missing.h5").string());
        FAIL();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("missing.h5"), std::string::npos);
    }
}
