// s2m train refuses bad configs and missing data with one line and exit code 2, before training.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace fs = std::filesystem;

TEST(TrainCli, BadConfigsAndMissingDataAreRefusedWithOneLine) {
    const fs::path dir = s2m::test::temp_dir("train_cli");
    const fs::path tiny = fs::path(S2M_SOURCE_DIR) / "configs" / "tiny.json";
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
        const std::string data = c.data.empty() ? (dir / "no-such.h5").string() : c.data;
        std::string out;
        const int code = s2m::test::run_s2m("-q train --config " + config.string() + " --data " + data + " --out " +
                                                (dir / c.name).string(),
                                            &out);
        EXPECT_EQ(code, 2) << c.name << ": " << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << c.name << ": " << out;
        EXPECT_NE(out.find(c.expect), std::string::npos) << c.name << ": " << out;
        EXPECT_FALSE(fs::exists(dir / c.name / "last.pt")) << c.name;
    }
}
