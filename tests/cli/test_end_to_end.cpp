// The whole chain on bundled data with the tiny config: synth -> preprocess -> train -> reconstruct
// -> evaluate, through the s2m binary as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "step2motion/eval/metrics.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/dataset.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;


TEST(EndToEnd, SynthPreprocessTrainReconstructEvaluate) {
    const fs::path dir = test::temp_dir("end_to_end");
    const fs::path cmu = test::project_data() / "mocap" / "cmu";
    std::string out;
    // The bundled walk 07_01 (2.6 s) cut in two: its first half trains (subject S1, with the run and
    // the dance), its second half is the test subject S2 (another body weight, realistic sensor noise).
    // No frame of the test clip is ever trained on; each half is longer than tiny.json's window.
    const io::Bvh walk = io::read_bvh((cmu / "07_01.bvh").string());
    const int cut = walk.num_frames / 2;
    io::Bvh head = walk, tail = walk;
    head.num_frames = cut;
    head.values.resize(size_t(cut) * size_t(walk.num_channels));
    tail.num_frames = walk.num_frames - cut;
    tail.values.assign(walk.values.begin() + long(cut) * walk.num_channels, walk.values.end());
    fs::create_directories(dir / "cut");
    io::write_bvh((dir / "cut" / "07_01_a.bvh").string(), head);
    io::write_bvh((dir / "cut" / "07_01_b.bvh").string(), tail);
    ASSERT_EQ(test::run_s2m("-q synth " + (dir / "cut" / "07_01_a.bvh").string() + " " + (cmu / "09_01.bvh").string() + " " +
                                (cmu / "05_03.bvh").string() + " --map cmu --subject S1 --out " + (dir / "ds").string(),
                            &out),
              0)
        << out;
    ASSERT_EQ(test::run_s2m("-q synth " + (dir / "cut" / "07_01_b.bvh").string() +
                                " --map cmu --subject S2 --weight-kg 60 --noise realistic --seed 3 --out " + (dir / "ds").string(),
                            &out),
              0)
        << out;
    const fs::path data = dir / "data.h5";
    ASSERT_EQ(test::run_s2m("-q --threads 2 preprocess --input " + (dir / "ds").string() + " --out " + data.string() +
                                " --test-subjects S2 --val-fraction 0 --seed 1",
                            &out),
              0)
        << out;
    // The tiny config, trained for 400 short pose epochs with the demo model's schedule options (about
    // 40 s on 2 cores): enough for the sampler to beat the mean pose; 20 root epochs.
    const fs::path model = dir / "model";
    const fs::path config = test::tiny_config_with({{"hidden_dim", 64}, {"epochs_pose", 400}, {"epochs_trans", 20},
                                              {"max_windows_per_epoch", 128}, {"batch_size", 32},
                                              {"zero_terminal_snr", true}, {"timestep_power", 0.5}},
                                             dir / "step2motion.json");
    ASSERT_EQ(test::run_s2m("-q --threads 2 train --config " + config.string() + " --data " + data.string() + " --out " + model.string(), &out), 0)
        << out;
    ASSERT_TRUE(fs::exists(model / "model.pt"));

    // Reconstruct the test clip and a real Moticon recording (no mocap: the IMU filter path).
    const fs::path rec = dir / "rec";
    const fs::path real = test::project_data() / "moticon" / "230927_102114.txt";
    ASSERT_EQ(test::run_s2m("-q --threads 2 reconstruct --model " + model.string() + " " + data.string() + " " + real.string() +
                                " --out " + rec.string() + " --sampler fast --steps 10 --samples 2 --details",
                            &out),
              0)
        << out;
    const io::Dataset ds = io::read_dataset(data.string());
    for (const auto& clip : ds.clips) {
        if (clip.split != "test") continue;
        std::string name = clip.name;
        for (auto& ch : name)
            if (ch == '/') ch = '_';
        const io::Bvh bvh = io::read_bvh((rec / (name + ".bvh")).string());
        EXPECT_EQ(bvh.num_frames, clip.frames());  // one pose per 30 Hz input frame
        EXPECT_NEAR(bvh.frame_time_s, 1.0 / 30, 1e-9);
        EXPECT_EQ(bvh.joints.size(), 22u);
        EXPECT_TRUE(bvh.joints[0].offset.isZero());
        EXPECT_TRUE(fs::exists(rec / (name + ".json")));
    }
    // 17.5 s of 100 Hz insoles -> 526 frames at 30 Hz.
    const io::Bvh real_bvh = io::read_bvh((rec / "230927_102114.bvh").string());
    EXPECT_EQ(real_bvh.num_frames, 526);

    // Evaluate: finite metrics, and the reconstruction beats predicting the training mean pose.
    const fs::path report = dir / "report";
    ASSERT_EQ(test::run_s2m("-q --threads 2 evaluate --model " + model.string() + " --data " + data.string() +
                                " --seeds 2 --sampler fast --steps 2 --samples 4 --root network --compare-roots zupt,fused --double-integration --out " + report.string(),
                            &out),
              0)
        << out;
    std::ifstream in(report / "metrics.json");
    const auto metrics = nlohmann::json::parse(in);
    ASSERT_TRUE(metrics.contains("model"));
    const auto& overall = metrics["model"]["overall"];
    for (const auto& key : eval::kMetricKeys) {
        ASSERT_TRUE(overall[key]["mean"].is_number()) << key;
        EXPECT_TRUE(std::isfinite(overall[key]["mean"].get<double>())) << key;
    }
    EXPECT_TRUE(fs::exists(report / "metrics.csv"));
    EXPECT_TRUE(fs::exists(report / "table.tex"));

    // The Step2Motion model and an MLP regressor trained the same way (its own quick config) must
    // beat predicting the training split's mean joint positions in every frame.
    const fs::path mlp = dir / "mlp";
    const fs::path mlp_config = test::tiny_config_with({{"model_type", "mlp"}, {"hidden_dim", 128}, {"epochs_pose", 100},
                                                  {"epochs_trans", 5}, {"max_windows_per_epoch", 128}, {"batch_size", 32}},
                                                 dir / "mlp.json");
    ASSERT_EQ(test::run_s2m("-q --threads 2 train --config " + mlp_config.string() + " --data " + data.string() + " --out " + mlp.string(), &out), 0)
        << out;
    ASSERT_EQ(test::run_s2m("-q --threads 2 evaluate --model " + mlp.string() + " --data " + data.string() + " --out " + (dir / "report_mlp").string(), &out), 0)
        << out;
    std::ifstream in_mlp(dir / "report_mlp" / "metrics.json");
    const auto mlp_overall = nlohmann::json::parse(in_mlp)["mlp"]["overall"];

    // Mean-pose baseline: the training split's mean joint positions in every frame. Zero-displacement
    // baseline for the root: the true poses, the root standing still.
    eval::MetricSet mean_pose, zero_root;
    int test_clips = 0;
    for (const auto& clip : ds.clips) {
        if (clip.split != "test") continue;
        ++test_clips;
        io::RowMatrixXf pred = clip.poses;
        for (int f = 0; f < pred.rows(); ++f)
            for (int k = 0; k < 66; ++k) pred(f, k) = ds.stats.pose_mean[k];
        eval::accumulate_metrics(eval::from_pose_frames(pred.data(), clip.frames(), 30),
                                 eval::from_pose_frames(clip.poses.data(), clip.frames(), 30), mean_pose);
        io::RowMatrixXf still = clip.poses;
        still.leftCols(3).setZero();
        eval::accumulate_metrics(eval::from_pose_frames(still.data(), clip.frames(), 30),
                                 eval::from_pose_frames(clip.poses.data(), clip.frames(), 30), zero_root);
    }
    ASSERT_EQ(test_clips, 1);
    // The root network against both baselines, on root position error and end-point drift.
    const auto& di = metrics["model+double_integration"]["overall"];
    for (const char* key : {"MRPE_m", "drift_percent"}) {
        const double net = overall[key]["mean"].get<double>();
        const double zupt = metrics["model+zupt"]["overall"][key]["mean"].get<double>();
        const double fused = metrics["model+fused"]["overall"][key]["mean"].get<double>();
        std::printf("end-to-end root %s: network %.3f, zupt %.3f, fused %.3f, zero displacement %.3f, double integration %.3f\n", key,
                    net, zupt, fused, zero_root[key].mean(), di[key]["mean"].get<double>());
        EXPECT_LT(zupt, di[key]["mean"].get<double>()) << key;
        EXPECT_LT(net, zero_root[key].mean()) << key;
        EXPECT_LT(net, di[key]["mean"].get<double>()) << key;
    }
    EXPECT_LT(overall["MPJPE_cm"]["mean"].get<double>(), mean_pose["MPJPE_cm"].mean());
    EXPECT_LT(overall["MPJPE_Legs_cm"]["mean"].get<double>(), mean_pose["MPJPE_Legs_cm"].mean());
    EXPECT_LT(mlp_overall["MPJPE_cm"]["mean"].get<double>(), mean_pose["MPJPE_cm"].mean());
    EXPECT_LT(mlp_overall["MPJPE_Legs_cm"]["mean"].get<double>(), mean_pose["MPJPE_Legs_cm"].mean());
    std::printf("end-to-end: MPJPE step2motion %.1f cm, mlp %.1f cm, mean pose %.1f cm; legs %.1f / %.1f / %.1f cm\n",
                overall["MPJPE_cm"]["mean"].get<double>(), mlp_overall["MPJPE_cm"]["mean"].get<double>(),
                mean_pose["MPJPE_cm"].mean(), overall["MPJPE_Legs_cm"]["mean"].get<double>(),
                mlp_overall["MPJPE_Legs_cm"]["mean"].get<double>(), mean_pose["MPJPE_Legs_cm"].mean());
}
