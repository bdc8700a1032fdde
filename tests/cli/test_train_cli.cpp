// s2m train refuses bad configs and missing data with one line and exit code 2, before training.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace fs = std::filesystem;

TEST(TrainCli, BadConfigsAndMissingDataAreRefusedWithOneLine) {
    const fs::path dir = s2m::test::temp_dir("train_cli");
    const fs::path tiny = fs::path(S2M_SOURCE_DIR) / "configs" / "tiny.json";
    // A real, trainable dataset: a bad config must be what stops the run (with it, tiny.json trains
    // and writes last.pt within seconds), not a missing data file.
    const fs::path cmu = s2m::test::project_data() / "mocap" / "cmu";
    const fs::path good_data = dir / "data.h5";
    std::string log;
    ASSERT_EQ(s2m::test::run_s2m("-q synth " + (cmu / "07_01.bvh").string() + " " + (cmu / "09_01.bvh").string() +
                                     " --map cmu --subject S1 --out " + (dir / "ds").string(),
                                 &log),
              0)
        << log;
    ASSERT_EQ(s2m::test::run_s2m("-q --threads 2 preprocess --input " + (dir / "ds").string() + " --out " + good_data.string() +
                                     " --val-fraction 0",
                                 &log),
              0)
        << log;
    struct Case {
        const char* name;
        std::string config;  // file content; empty = use configs/tiny.json
        std::string data;
        const char* expect;
    };
    const std::vector<Case> cases = {
        {"unknown_key", R"({"epochs_pse": 3})", "", "epochs_pse"},
        {"wrong_type", R"({"batch_size": "64"})", "", "batch_size"},
        {"bad_value", R"({"p_uncond": 2})", "", "p_uncond"},
        {"missing_data", "", (dir / "no-such.h5").string(), "no-such.h5"},
    };
    for (const auto& c : cases) {
        fs::path config = tiny;
        if (!c.config.empty()) {
            config = dir / (std::string(c.name) + ".json");
            std::ofstream(config) << c.config;
        }
        const std::string data = c.data.empty() ? good_data.string() : c.data;
        std::string out;
        const int code = s2m::test::run_s2m("-q train --config " + config.string() + " --data " + data + " --out " +
                                                (dir / c.name).string(),
                                            &out);
        EXPECT_EQ(code, 2) << c.name << ": " << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << c.name << ": " << out;
        EXPECT_NE(out.find(c.expect), std::string::npos) << c.name << ": " << out;
        EXPECT_FALSE(fs::exists(dir / c.name / "last.pt")) << c.name;
        EXPECT_FALSE(fs::exists(dir / c.name / "model.pt")) << c.name;
    }
    // The same command with the good config and the good data trains (the cases above differ from it
    // in the one thing they name).
    std::string out;
    EXPECT_EQ(s2m::test::run_s2m("-q --threads 2 train --config " + tiny.string() + " --data " + good_data.string() + " --out " +
                                     (dir / "good").string(),
                                 &out),
              0)
        << out;
    EXPECT_TRUE(fs::exists(dir / "good" / "model.pt"));
}
