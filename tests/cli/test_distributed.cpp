// Data-parallel training (torch.distributed, Gloo): two processes on one global batch train the same
// model as one process, because every random draw of a window is keyed by (seed, epoch, window) and
// the gradients are summed over the ranks' shares.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "step2motion/model/bundle.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

std::vector<double> logged_losses(const fs::path& log) {
    std::vector<double> out;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(nlohmann::json::parse(line).at("train_loss").get<double>());
    return out;
}

double max_weight_difference(const fs::path& a, const fs::path& b) {
    const auto sa = model::load_model((a / "model.pt").string()).state();
    const auto sb = model::load_model((b / "model.pt").string()).state();
    double d = 0;
    for (const auto& [name, t] : sa) {
        if (!t.is_floating_point()) continue;
        d = std::max(d, (t - sb.at(name)).abs().max().item<double>());
    }
    return d;
}

// A port per test process, so that parallel test runs do not meet.
int free_port() { return 20000 + static_cast<int>(::getpid() % 20000); }

// Each test its own folder: ctest runs the two tests as two processes at the same time.
class Distributed : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::temp_dir(std::string("distributed_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        const fs::path cmu = test::project_data() / "mocap" / "cmu";
        std::string out;
        ASSERT_EQ(test::run_s2m("-q synth " + (cmu / "07_01.bvh").string() + " " + (cmu / "09_01.bvh").string() +
                                    " --map cmu --subject S1 --out " + (dir_ / "ds").string(), &out), 0) << out;
        ASSERT_EQ(test::run_s2m("-q preprocess --input " + (dir_ / "ds").string() + " --out " + (dir_ / "data.h5").string() +
                                    " --val-fraction 0.2 --seed 1", &out), 0) << out;
        // No dropout: it is the one draw not keyed by window (its masks follow the ranks' shares).
        test::tiny_config_with({{"transformer_dropout", 0.0}, {"keyed_draws", true}, {"epochs_pose", 2}, {"epochs_trans", 2}, {"batch_size", 16},
                                {"max_windows_per_epoch", 64}},
                               dir_ / "config.json");
        train_args_ = "train --config " + (dir_ / "config.json").string() + " --data " + (dir_ / "data.h5").string() +
                      " --device cpu --precision fp32 --out ";
        ASSERT_EQ(test::run_s2m("-q --threads 1 " + train_args_ + (dir_ / "single").string(), &out), 0) << out;
    }
    fs::path dir_;
    std::string train_args_;
};

}  // namespace

TEST_F(Distributed, TwoGlooRanksTrainWhatOneProcessTrains) {
    const fs::path model = dir_ / "two";
    const std::string s2m = std::string(S2M_BINARY_DIR) + "/bin/s2m -q --threads 1 " + train_args_ + model.string();
    const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port());
    const std::string cmd = "(" + env + " RANK=0 LOCAL_RANK=0 " + s2m + " > " + (dir_ / "rank0.log").string() + " 2>&1 & " + env +
                            " RANK=1 LOCAL_RANK=1 " + s2m + " > " + (dir_ / "rank1.log").string() + " 2>&1; r1=$?; wait $!; r0=$?; " +
                            "exit $((r0 + r1)))";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "see " << dir_.string() << "/rank*.log";

    const auto one = logged_losses(dir_ / "single" / "train_log.jsonl"), two = logged_losses(model / "train_log.jsonl");
    ASSERT_EQ(one.size(), 4u);  // 2 pose + 2 root epochs, logged once (by rank 0)
    ASSERT_EQ(two.size(), one.size());
    for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(two[i], one[i], 1e-4 * std::abs(one[i])) << "epoch entry " << i;
    // The same weights up to the order of floating-point sums.
    EXPECT_LT(max_weight_difference(dir_ / "single", model), 1e-4);
    // --resume with another number of processes is refused, with the reason.
    std::string out;
    EXPECT_EQ(test::run_s2m("-q --threads 1 " + train_args_ + model.string() + " --resume", &out), 2) << out;
    EXPECT_NE(out.find("was trained by 2 processes, this run has 1"), std::string::npos) << out;
}

TEST_F(Distributed, TorchrunLaunchesTheSameRun) {
    // The launcher's store protocol must match the LibTorch s2m is built against: Debian's torchrun for
    // Debian's 1.13, the virtualenv's for PyPI's 2.x (scripts/test.sh sets S2M_TORCHRUN there).
    const char* env = std::getenv("S2M_TORCHRUN");
    const std::string torchrun = env && *env ? env : "torchrun";
    if (std::system(("command -v " + torchrun + " > /dev/null 2>&1").c_str()) != 0)
        GTEST_SKIP() << torchrun << " not installed (Debian: python3-torch)";
    const fs::path model = dir_ / "torchrun";
    // --redirects/--tee 1: Debian's torchrun 1.13 on Python 3.11 fails to parse their default "0".
    const std::string cmd = torchrun + " --no_python --nproc_per_node 2 --master_port " + std::to_string(free_port() + 1) +
                            " --redirects 1 --tee 1 --log_dir " + (dir_ / "torchrun-logs").string() + " " +
                            std::string(S2M_BINARY_DIR) + "/bin/s2m -q --threads 1 " + train_args_ + model.string() + " > " +
                            (dir_ / "torchrun.log").string() + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "see " << (dir_ / "torchrun.log").string();
    EXPECT_LT(max_weight_difference(dir_ / "single", model), 1e-4);
}
