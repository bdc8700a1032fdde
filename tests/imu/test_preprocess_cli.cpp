// s2m preprocess / s2m info end to end, through the binary: a manifest and an UnderPressure folder
// of paired fixtures, the dataset they give, interrupted runs, and malformed inputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "paired_fixture.hpp"
#include "step2motion/io/dataset.hpp"

using namespace s2m;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

// Three subjects x two clips of the CMU walk with different insole leads.
fs::path manifest_fixture(const std::string& name) {
    const fs::path dir = test::temp_dir(name);
    const io::Motion canon = test::canonical_walk_240(2.5);
    nlohmann::json m = nlohmann::json::array();
    for (int s = 1; s <= 3; ++s)
        for (int c = 0; c < 2; ++c) {
            const std::string seq = "walk_" + std::to_string(s) + std::to_string(c);
            const auto fx = test::make_paired(dir / "rec", seq, canon, 0.2 + 0.1 * c, 0.3, Eigen::Vector3d(0, 0.1, 0));
            m.push_back({{"insoles", "rec/" + seq + ".txt"}, {"sync", "rec/" + seq + ".csv"}, {"mocap", "rec/" + seq + ".bvh"},
                         {"subject", "S" + std::to_string(s)}, {"weight_kg", 60 + s}, {"activity", "walk"}});
        }
    write(dir / "manifest.json", m.dump(2));
    return dir;
}

}  // namespace

TEST(PreprocessCli, ManifestToDatasetAndInfo) {
    S2M_REQUIRE_SHARED();
    const fs::path dir = manifest_fixture("cli_manifest");
    const std::string out = (dir / "data.h5").string();
    std::string log;
    ASSERT_EQ(test::run_s2m("preprocess --input " + (dir / "manifest.json").string() + " --out " + out +
                                " --test-subjects S3 --val-fraction 0.25 --seed 3",
                            &log),
              0)
        << log;
    const io::Dataset d = io::read_dataset(out);
    ASSERT_EQ(d.clips.size(), 6u);
    int test = 0, val = 0;
    for (const auto& c : d.clips) {
        EXPECT_EQ(c.frames(), 74);
        EXPECT_EQ(c.weight_kg, 60 + std::stoi(c.subject.substr(1)));
        if (c.split == "test") {
            ++test;
            EXPECT_EQ(c.subject, "S3");
        }
        val += c.split == "val";
    }
    EXPECT_EQ(test, 2);
    EXPECT_EQ(val, 1);  // round(0.25 * 4)
    EXPECT_EQ(d.stats.frames, 3 * 74);
    EXPECT_EQ(d.joint_names[3], "LeftFoot");
    // World accelerations: the fixtures encode (0, 0.1, 0) g.
    EXPECT_NEAR(d.stats.insole_mean[io::kAccOffset + 1], 0.1, 0.02);

    ASSERT_EQ(test::run_s2m("info --json " + out, &log), 0) << log;
    const auto j = nlohmann::json::parse(log);
    EXPECT_EQ(j["clips"], 6);
    EXPECT_EQ(j["rate_hz"], 30.0);
    EXPECT_EQ(j["splits"]["test"]["frames"], 148);
    EXPECT_EQ(j["subjects"].size(), 3u);
    EXPECT_TRUE(j["normalization"].get<bool>());
    // Same seed, same split; the output is replaced atomically.
    ASSERT_EQ(test::run_s2m("-q preprocess --input " + (dir / "manifest.json").string() + " --out " + out +
                                " --test-subjects S3 --val-fraction 0.25 --seed 3 --imu-frame filter",
                            &log),
              0)
        << log;
    const io::Dataset d2 = io::read_dataset(out);
    for (size_t i = 0; i < d.clips.size(); ++i) EXPECT_EQ(d.clips[i].split, d2.clips[i].split);
    EXPECT_EQ(d2.clips[0].imu_frame, "filter");
}

TEST(PreprocessCli, UnderPressureFolder) {
    S2M_REQUIRE_SHARED();
    const fs::path dir = test::temp_dir("cli_underpressure");
    const io::Motion canon = test::canonical_walk_240(2.0);
    for (const char* s : {"S1", "S4"}) {
        const auto fx = test::make_paired(dir / "tmp", std::string(s) + "_walking_1", canon, 0.5, 0.4, Eigen::Vector3d::Zero());
        fs::create_directories(dir / s / "moticon.txt");
        fs::create_directories(dir / s / "sync.csv");
        fs::create_directories(dir / s / "bvh");
        fs::rename(fx.insoles, dir / s / "moticon.txt" / "walking_1.txt");
        fs::rename(fx.sync, dir / s / "sync.csv" / "walking_1.csv");
        fs::rename(fx.bvh, dir / s / "bvh" / "walking_1.bvh");
    }
    fs::remove_all(dir / "tmp");
    write(dir / "subjects.csv", "Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size\nS1,M,48,175,28,173,91,6\nS4,F,25,167,27,162,65,4\n");
    const std::string out = (dir / "up.h5").string();
    std::string log;
    ASSERT_EQ(test::run_s2m("preprocess --input " + dir.string() + " --out " + out + " --test-subjects S4 --val-fraction 0", &log), 0)
        << log;
    const io::Dataset d = io::read_dataset(out);
    ASSERT_EQ(d.clips.size(), 2u);
    EXPECT_EQ(d.clips[0].name, "S1/walking_1");
    EXPECT_EQ(d.clips[0].split, "train");
    EXPECT_EQ(d.clips[1].split, "test");
    EXPECT_EQ(d.clips[1].insole_size, 4);
    EXPECT_EQ(d.clips[1].weight_kg, 65);
    EXPECT_EQ(d.clips[1].activity, "walking");
}

TEST(PreprocessCli, KilledRunLeavesNoPartialOutput) {
    S2M_REQUIRE_SHARED();
    const fs::path dir = manifest_fixture("cli_kill");
    const std::string out = (dir / "data.h5").string();
    const std::string bin = std::string(S2M_BINARY_DIR) + "/bin/s2m";
    bool saw_kill_before_end = false;
    for (int delay_ms : {20, 60, 120, 200, 300}) {
        fs::remove(out);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            std::freopen("/dev/null", "w", stderr);
            ::execl(bin.c_str(), bin.c_str(), "-q", "preprocess", "--input", (dir / "manifest.json").c_str(), "--out",
                    out.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(pid, SIGTERM);
        int status = 0;
        ::waitpid(pid, &status, 0);
        const bool completed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        saw_kill_before_end |= !completed && !fs::exists(out);
        // Either the complete dataset or nothing: no temporaries, no half-written file.
        for (const auto& e : fs::directory_iterator(dir))
            EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
        // A kill that lands after the rename but before exit leaves the complete file: that is fine.
        if (completed || fs::exists(out)) {
            EXPECT_EQ(io::read_dataset(out).clips.size(), 6u) << "delay " << delay_ms;
        }
    }
    EXPECT_TRUE(saw_kill_before_end);
}

// Malformed inputs: exit code 2 and one line "error: <file>:<line>: <what>".
TEST(PreprocessCli, MalformedInputsGiveOneLineWithFileAndLine) {
    S2M_REQUIRE_SHARED();
    const fs::path dir = test::temp_dir("cli_malformed");
    const io::Motion canon = test::canonical_walk_240(1.0);
    const auto fx = test::make_paired(dir, "good", canon, 0.1, 0.1, Eigen::Vector3d::Zero());
    const std::string good = read_text_file(fx.insoles);
    const size_t data = good.find("\n0\t") + 1;  // exact writer: first time stamp "0"
    ASSERT_NE(data, 0u);
    auto replace_once = [](std::string s, const std::string& a, const std::string& b) {
        const size_t p = s.find(a);
        EXPECT_NE(p, std::string::npos) << a;
        return s.replace(p, a.size(), b);
    };
    auto line_of = [&](const std::string& s, size_t pos) { return 1 + std::count(s.begin(), s.begin() + static_cast<long>(pos), '\n'); };
    std::string at_30_hz = good.substr(0, data);  // the same rows with 30 Hz time stamps
    {
        size_t p = data;
        for (int i = 0; p < good.size(); ++i) {
            const size_t tab = good.find('\t', p), nl = good.find('\n', p);
            at_30_hz += std::to_string(i / 30.0) + good.substr(tab, nl - tab + 1);
            p = nl + 1;
        }
    }
    struct Case {
        std::string name, file, text;
        long line;
    };
    std::vector<Case> moticon = {
        {"empty file", "empty.txt", "", 1},
        {"no header", "noheader.txt", good.substr(data), 1},
        {"header only", "headeronly.txt", good.substr(0, data), line_of(good, data)},
        {"missing pressure column", "nocol.txt", replace_once(good, "left pressure 5[", "left pressure X["), line_of(good, data) - 1},
        {"text in a number field", "text.txt", replace_once(good, "\n0.01\t", "\n0.01\tabc"), line_of(good, data) + 1},
        {"unknown rate (30 Hz)", "rate.txt", at_30_hz, line_of(good, data) + 1},
        {"wrong unit", "unit.txt", replace_once(good, "right total force[N]", "right total force[kg]"), line_of(good, data) - 1},
        {"time going back", "back.txt", replace_once(good, "\n0.02\t", "\n0.005\t"), line_of(good, data) + 2},
    };
    for (const auto& c : moticon) {
        const std::string path = (dir / c.file).string();
        write(path, c.text);
        std::string log;
        EXPECT_EQ(test::run_s2m("info --json " + path, &log), 2) << c.name << ": " << log;
        EXPECT_EQ(log.rfind("error: " + path + ":" + std::to_string(c.line) + ": ", 0), 0u) << c.name << ": " << log;
        EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << c.name << ": " << log;
    }

    // Sync files and manifests, through preprocess.
    auto manifest_with = [&](const std::string& entry) {
        const std::string m = (dir / "m.json").string();
        write(m, "[\n  " + entry + "\n]\n");
        return m;
    };
    const std::string files = "\"insoles\": \"" + fx.insoles + "\", \"mocap\": \"" + fx.bvh + "\", \"subject\": \"S1\"";
    struct Run {
        std::string name, sync_text, manifest_entry, expect_prefix;
    };
    const std::string sync_path = (dir / "s.csv").string();
    const std::string m_path = (dir / "m.json").string();
    std::vector<Run> runs = {
        {"sync span beyond the file", "name,start,end\nleft_insole,10,110\nright_insole,10,110\nmocap,0,2400\n",
         "{" + files + ", \"sync\": \"s.csv\"}", sync_path + ":4: mocap span [0, 2400) goes beyond the 240 frames of " + fx.bvh},
        {"sync row missing", "name,start,end\nleft_insole,10,110\nmocap,0,240\n", "{" + files + ", \"sync\": \"s.csv\"}",
         sync_path + ":3: no row for 'right_insole'"},
        {"sync text index", "name,start,end\nleft_insole,ten,110\n", "{" + files + ", \"sync\": \"s.csv\"}", sync_path + ":2: expected"},
        {"manifest invalid JSON", "", "{" + files + ",}", m_path + ":2: invalid JSON"},
        {"manifest missing partner file", "", "{" + files + ", \"sync\": \"nowhere.csv\"}",
         m_path + ":2: recording 1: missing partner file " + (dir / "nowhere.csv").string()},
        {"manifest missing key", "", "{\"insoles\": \"" + fx.insoles + "\", \"subject\": \"S1\"}", m_path + ":2: recording 1: missing \"mocap\""},
        {"manifest bad insole size", "", "{" + files + ", \"insole_size\": 4.5}", m_path + ":2: recording 1: \"insole_size\""},
    };
    for (const auto& r : runs) {
        write(sync_path, r.sync_text);
        const std::string m = manifest_with(r.manifest_entry);
        std::string log;
        EXPECT_EQ(test::run_s2m("preprocess --input " + m + " --out " + (dir / "x.h5").string(), &log), 2) << r.name << ": " << log;
        EXPECT_EQ(log.rfind("error: " + r.expect_prefix, 0), 0u) << r.name << ": " << log;
        EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << r.name << ": " << log;
        EXPECT_FALSE(fs::exists(dir / "x.h5"));
    }
}

TEST(InfoCli, MoticonJson) {
    std::string log;
    const std::string path = (test::project_data() / "moticon" / "230927_102137.txt").string();
    ASSERT_EQ(test::run_s2m("info --json " + path, &log), 0) << log;
    const auto j = nlohmann::json::parse(log);
    EXPECT_EQ(j["format"], "moticon");
    EXPECT_EQ(j["rate_hz"], 100.0);
    EXPECT_EQ(j["frames"], 2275);
    EXPECT_NEAR(j["duration_s"].get<double>(), 22.74, 1e-9);
    EXPECT_EQ(j["insole_size"], 7);
    EXPECT_NEAR(j["missing_fraction"]["left"].get<double>(), 75.0 / 2275, 1e-12);
    EXPECT_NEAR(j["missing_fraction"]["right"].get<double>(), 6.0 / 2275, 1e-12);
}
