#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "step2motion/core/error.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/model/bundle.hpp"
#include "step2motion/train/trainer.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

// Clips whose insoles carry the poses' information: a gait phase drives both (a stand-in with the
// right shapes; the end-to-end test uses synthesised recordings).
train::TrainingSet toy_set(int clips, int frames) {
    train::TrainingSet set;
    for (int c = 0; c < clips; ++c) {
        train::Clip clip;
        clip.name = "clip" + std::to_string(c);
        clip.frames = frames;
        clip.poses.resize(static_cast<size_t>(frames) * 66);
        clip.insoles.resize(static_cast<size_t>(frames) * 50);
        const double speed = 0.03 + 0.01 * c;
        for (int f = 0; f < frames; ++f) {
            const double phase = 0.2 * f * (1 + 0.1 * c);
            float* p = clip.poses.data() + static_cast<size_t>(f) * 66;
            float* q = clip.insoles.data() + static_cast<size_t>(f) * 50;
            // Displacement along a per-clip heading; the world-frame foot accelerations (16..18,
            // 41..43) carry it, so that the random yaw turns both alike.
            const double heading = 0.7 * c + 0.05 * std::sin(0.1 * f);
            const double v = speed * (1 + 0.5 * std::sin(phase));
            p[0] = static_cast<float>(v * std::cos(heading));
            p[2] = static_cast<float>(v * std::sin(heading));
            for (int j = 0; j < 63; ++j) p[3 + j] = static_cast<float>(0.3 * std::sin(phase + j) + 0.01 * j);
            for (int k = 0; k < 50; ++k) q[k] = static_cast<float>(std::cos(phase + 0.5 * k) * (k % 25 < 16 ? 5 : 1));
            for (int foot : {0, 25}) {
                q[foot + 16] = 20 * p[0];
                q[foot + 17] = static_cast<float>(0.1 * std::sin(phase));
                q[foot + 18] = 20 * p[2];
            }
        }
        (c % 4 == 3 ? set.val : set.train).push_back(std::move(clip));
    }
    set.stats = train::compute_normalization(set.train);
    return set;
}

model::TrainConfig tiny(int epochs_pose = 3, int epochs_trans = 2) {
    model::TrainConfig c = model::read_train_config((fs::path(S2M_SOURCE_DIR) / "configs/tiny.json").string());
    c.epochs_pose = epochs_pose;
    c.epochs_trans = epochs_trans;
    return c;
}

std::vector<nlohmann::json> read_log(const fs::path& p) {
    std::ifstream in(p);
    std::vector<nlohmann::json> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
    return lines;
}

bool same_weights(const model::ModelBundle& a, const model::ModelBundle& b) {
    const auto x = a.state(), y = b.state();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
        auto it = y.find(k);
        if (it == y.end() || !torch::equal(v, it->second)) return false;
    }
    return true;
}

}  // namespace

TEST(Train, LossDecreasesAndTheBestModelLoads) {
    Progress::set_enabled(false);
    auto set = toy_set(8, 120);
    set.rate_hz = 25;  // stored in model.pt: reconstruct and evaluate read inputs at the model's rate
    auto config = tiny(6, 8);
    const fs::path dir = test::temp_dir("train_loss");
    train::TrainOptions options;
    options.out_dir = dir.string();
    const auto summary = train::train_model(config, set, options);
    EXPECT_FALSE(summary.interrupted);
    const auto log = read_log(dir / "train_log.jsonl");
    ASSERT_EQ(log.size(), 14u);
    EXPECT_EQ(log[0]["phase"], "pose");
    EXPECT_EQ(log[6]["phase"], "root");
    EXPECT_LT(log[5]["train_loss"].get<double>(), log[0]["train_loss"].get<double>());
    EXPECT_LT(log[13]["train_loss"].get<double>(), log[6]["train_loss"].get<double>());
    EXPECT_TRUE(log[0].contains("val_mpjpe_cm"));
    EXPECT_TRUE(log[6].contains("val_root_loss"));
    // Throughput is the windows trained over the epoch's training time: max_windows_per_epoch (64) of
    // the 138 available.
    for (const auto& line : log) {
        EXPECT_EQ(line["windows"].get<int>(), 64);
        EXPECT_NEAR(line["windows_per_s"].get<double>(), 64 / line["train_time_s"].get<double>(),
                    1e-9 * line["windows_per_s"].get<double>());
    }
    const auto model = model::load_model((dir / "model.pt").string());
    EXPECT_EQ(model.config.hidden_dim, 32);
    EXPECT_EQ(model.stats.pose_mean.size(), 66u);
    EXPECT_EQ(model.rate_hz, 25);
    EXPECT_TRUE(fs::exists(dir / "config.json"));
    // A second run into the same folder without --resume is refused.
    EXPECT_THROW(train::train_model(config, set, options), InputError);
}

TEST(Train, InterruptedAndResumedEqualsUninterrupted) {
    Progress::set_enabled(false);
    for (const char* type : {"step2motion", "mlp"}) {
        const auto set = toy_set(6, 100);
        auto config = tiny(3, 2);
        config.model_type = std::string(type) == "mlp" ? model::ModelType::Mlp : model::ModelType::Step2Motion;
        config.hidden_dim = std::string(type) == "mlp" ? 64 : 32;
        const fs::path a = test::temp_dir(std::string("train_a_") + type), b = test::temp_dir(std::string("train_b_") + type);
        train::TrainOptions straight;
        straight.out_dir = a.string();
        train::train_model(config, set, straight);

        // Interrupted twice: mid-epoch in the pose phase and again in the root phase.
        for (int stop_after : {5, 9}) {
            int batches = 0;
            train::TrainOptions opts;
            opts.out_dir = b.string();
            opts.resume = fs::exists(b / "last.pt");
            opts.should_stop = [&] { return ++batches > stop_after; };
            const auto s = train::train_model(config, set, opts);
            EXPECT_TRUE(s.interrupted) << type;
        }
        train::TrainOptions finish;
        finish.out_dir = b.string();
        finish.resume = true;
        EXPECT_FALSE(train::train_model(config, set, finish).interrupted);

        const auto last_a = model::load_model((a / "last.pt").string());
        const auto last_b = model::load_model((b / "last.pt").string());
        EXPECT_TRUE(same_weights(last_a, last_b)) << type;
        EXPECT_TRUE(same_weights(model::load_model((a / "model.pt").string()), model::load_model((b / "model.pt").string())))
            << type;
        EXPECT_EQ(read_log(a / "train_log.jsonl").size(), read_log(b / "train_log.jsonl").size()) << type;
    }
}

TEST(Train, ResumeWithMoreEpochsExtendsAFinishedRun) {
    Progress::set_enabled(false);
    const auto set = toy_set(6, 100);
    const fs::path dir = test::temp_dir("train_extend");
    auto run = [&](int epochs_pose, int epochs_trans, bool resume) {
        train::TrainOptions opts;
        opts.out_dir = dir.string();
        opts.resume = resume;
        return train::train_model(tiny(epochs_pose, epochs_trans), set, opts);
    };
    auto root_weights = [&] {
        model::TensorDict root;
        for (const auto& [k, v] : model::load_model((dir / "model.pt").string()).state())
            if (k.rfind("root.", 0) == 0) root[k] = v;
        return root;
    };
    run(2, 2, false);
    const auto root_before = root_weights();
    ASSERT_FALSE(root_before.empty());

    // More pose epochs: only the pose phase runs again, numbered on from where it stopped, and the
    // best root network in model.pt survives.
    run(4, 2, true);
    auto log = read_log(dir / "train_log.jsonl");
    ASSERT_EQ(log.size(), 6u);
    EXPECT_EQ(log[4]["phase"], "pose");
    EXPECT_EQ(log[4]["epoch"], 3);
    EXPECT_EQ(log[5]["epoch"], 4);
    EXPECT_LT(log[4]["train_loss"].get<double>(), log[0]["train_loss"].get<double>());  // trained weights, not new ones
    const auto root_after = root_weights();
    ASSERT_EQ(root_after.size(), root_before.size());
    for (const auto& [k, v] : root_before) EXPECT_TRUE(torch::equal(v, root_after.at(k))) << k;
    EXPECT_EQ(model::read_train_config((dir / "config.json").string()).epochs_pose, 4);

    // More root epochs: one more root epoch, numbered 3.
    run(4, 3, true);
    log = read_log(dir / "train_log.jsonl");
    ASSERT_EQ(log.size(), 7u);
    EXPECT_EQ(log[6]["phase"], "root");
    EXPECT_EQ(log[6]["epoch"], 3);

    // Fewer epochs than trained, or any other change, is refused.
    EXPECT_THROW(run(3, 3, true), InputError);
    EXPECT_THROW(run(4, 2, true), InputError);
    train::TrainOptions opts;
    opts.out_dir = dir.string();
    opts.resume = true;
    auto other = tiny(5, 3);
    other.batch_size /= 2;
    EXPECT_THROW(train::train_model(other, set, opts), InputError);
    EXPECT_EQ(read_log(dir / "train_log.jsonl").size(), 7u);

    // A new learning rate takes effect (not the one saved with the optimizer state): with
    // lr 1e-30, two pose batches leave the weights as they were (steps far below float resolution;
    // with lr 1e-3 they would move by ~1e-3).
    const auto before = model::load_model((dir / "last.pt").string());
    auto frozen = tiny(5, 3);
    frozen.lr = 1e-30;
    int batches = 0;
    opts.should_stop = [&] { return ++batches > 2; };
    EXPECT_TRUE(train::train_model(frozen, set, opts).interrupted);
    const auto after = model::load_model((dir / "last.pt").string());
    EXPECT_EQ(after.config.lr, 1e-30);
    for (const auto& [k, v] : before.state())  // the pose part (the root restarts from model.pt's best)
        if (k.rfind("root.", 0) != 0) {
            // Within 1e-20: entries that are exactly 0 move by lr-sized steps (LibTorch 2.x's Adam).
            EXPECT_LT((v - after.state().at(k)).abs().max().item<double>(), 1e-20) << k;
        }
}

TEST(Train, BadConfigsAreRefusedBeforeTraining) {
    const auto set = toy_set(4, 40);
    auto expect_error = [](const std::string& json, const std::string& word) {
        try {
            model::parse_train_config(json, "cfg.json");
            ADD_FAILURE() << json;
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
        }
    };
    expect_error(R"({"epochs_pse": 3})", "epochs_pse");
    expect_error(R"({"batch_size": "64"})", "batch_size");
    expect_error(R"({"lr": -1})", "lr");
    expect_error(R"({"model_type": "lstm"})", "model_type");
    expect_error(R"({"hidden_dim": 30})", "hidden_dim");
    expect_error(R"([1, 2])", "object");
    expect_error(R"({"timestep_power": 0})", "timestep_power");
    expect_error(R"({"insole_encoder_layers": -1})", "insole_encoder_layers");
    expect_error(R"({"representation": "body"})", "representation");
    expect_error(R"({"heading_jitter_deg": -1})", "heading_jitter_deg");
    // A new config without the key gets the heading frame; a model file's stored config from before
    // the key is the reference's world frame; an explicit value wins either way.
    EXPECT_EQ(model::parse_train_config("{}", "cfg.json").representation, model::Representation::Heading);
    EXPECT_EQ(model::parse_train_config("{}", "model.pt", model::Representation::World).representation, model::Representation::World);
    EXPECT_EQ(model::parse_train_config(R"({"representation": "heading"})", "model.pt", model::Representation::World).representation,
              model::Representation::Heading);
    const auto options = model::parse_train_config(R"({"timestep_power": 0.5, "insole_encoder_layers": 2})", "cfg.json");
    EXPECT_EQ(options.model_config().insole_encoder_layers, 2);
    EXPECT_EQ(model::parse_train_config(model::train_config_to_json(options), "again").timestep_power, 0.5);
    auto config = tiny();
    config.input_T = 41;
    EXPECT_THROW(train::check_trainable(config, set, "toy"), InputError);
}

// Every config the project ships parses and builds its model, whose networks run on a window of its
// size; every shipped model loads (format, version, config, weights, statistics) and was trained with
// the model type and sizes of its config.json.
TEST(Train, ShippedConfigsAndModelsBuildAndLoad) {
    int configs = 0;
    for (const auto& e : fs::directory_iterator(fs::path(S2M_SOURCE_DIR) / "configs")) {
        if (e.path().extension() != ".json") continue;
        SCOPED_TRACE(e.path().filename().string());
        const auto config = model::read_train_config(e.path().string());
        torch::manual_seed(1);
        auto bundle = model::ModelBundle::create(config);
        EXPECT_GT(bundle.parameter_count(), 0);
        bundle.train(false);
        torch::NoGradGuard no_grad;
        const auto insoles = torch::randn({1, config.input_T, 50});
        torch::Tensor poses;
        if (bundle.is_diffusion()) {
            const auto cond = bundle.diffusion->condition(insoles);
            poses = bundle.diffusion->denoise(torch::randn({1, config.input_T, 63}), torch::full({1}, int64_t(config.diffusion_T), torch::kLong),
                                              &cond);
        } else {
            poses = bundle.mlp ? bundle.mlp->forward(insoles) : bundle.transformer->forward(insoles);
        }
        EXPECT_EQ(poses.sizes().vec(), (std::vector<int64_t>{1, config.input_T, 63}));
        EXPECT_TRUE(torch::isfinite(poses).all().item<bool>());
        const auto root = bundle.root->forward(insoles);
        EXPECT_EQ(root.sizes().vec(), (std::vector<int64_t>{1, config.input_T, 3}));
        ++configs;
    }
    EXPECT_GE(configs, 5);
    int models = 0;
    for (const auto& e : fs::directory_iterator(fs::path(S2M_SOURCE_DIR) / "data" / "models")) {
        if (!fs::is_directory(e.path())) continue;
        SCOPED_TRACE(e.path().filename().string());
        const auto bundle = model::load_model(model::model_file(e.path().string()));
        const auto config = model::read_train_config((e.path() / "config.json").string());
        EXPECT_EQ(bundle.config.model_type, config.model_type);
        EXPECT_EQ(bundle.config.hidden_dim, config.hidden_dim);
        EXPECT_EQ(bundle.config.input_T, config.input_T);
        EXPECT_EQ(bundle.config.diffusion_T, config.diffusion_T);
        EXPECT_EQ(bundle.stats.pose_mean.size(), 66u);
        EXPECT_EQ(bundle.stats.insole_std.size(), 50u);
        EXPECT_EQ(bundle.rate_hz, 30);  // written before model files stored their rate: read as 30 Hz
        ++models;
    }
    EXPECT_EQ(models, 3);
}
