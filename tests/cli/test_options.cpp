// Every option of every subcommand, run through the s2m binary and checked for its effect. The table
// in tests/README.md maps each option to the test that runs it; the first test here keeps that table
// equal to what `s2m … --help` lists and checks that each named test does use its option.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "step2motion/model/bundle.hpp"
#include "step2motion/synth/synthesizer.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

const fs::path kSource = S2M_SOURCE_DIR;
const fs::path kCmu = kSource / "data" / "mocap" / "cmu";

std::string s2m_ok(const std::string& args) {
    std::string out;
    const int code = test::run_s2m(args, &out);
    EXPECT_EQ(code, 0) << "s2m " << args << "\n" << out;
    return out;
}

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A synthesised Moticon export without its "# Start time" line (the wall clock of the run).
std::string insole_text(const fs::path& p) {
    std::string t = read_text(p);
    const auto start = t.find("# Start time");
    if (start != std::string::npos) t.erase(start, t.find('\n', start) - start);
    return t;
}

// Options named in a CLI11 help text ("  -v,--verbose  …" → "-v,--verbose"), without -h,--help, and
// the subcommands it lists.
void parse_help(const std::string& help, std::set<std::string>* options, std::vector<std::string>* subcommands) {
    std::stringstream ss(help);
    std::string line, section;
    while (std::getline(ss, line)) {
        if (!line.empty() && line[0] != ' ') {
            section = line;
            continue;
        }
        std::stringstream ls(line);
        std::string first;
        if (!(ls >> first)) continue;
        if (section.rfind("Subcommands", 0) == 0) {
            if (subcommands) subcommands->push_back(first);
        } else if (first[0] == '-' && first != "-h,--help") {
            options->insert(first.substr(0, first.find('{')));  // "--x,--no-x{false}": a flag pair's default
        }
    }
}

// The source text of TEST(Suite, Name) in tests/, from its line to the next TEST or the file's end.
std::string test_body(const std::string& suite_dot_name) {
    const auto dot = suite_dot_name.find('.');
    if (dot == std::string::npos) return "";
    const std::regex head("TEST(_F|_P)?\\(\\s*" + suite_dot_name.substr(0, dot) + "\\s*,\\s*" + suite_dot_name.substr(dot + 1) + "\\s*\\)");
    for (const auto& e : fs::recursive_directory_iterator(kSource / "tests")) {
        if (e.path().extension() != ".cpp") continue;
        const std::string text = read_text(e.path());
        std::smatch m;
        if (!std::regex_search(text, m, head)) continue;
        const size_t start = size_t(m.position(0));
        const size_t next = text.find("\nTEST", start + 1);
        return text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    }
    return "";
}

// A dataset folder synthesised from the bundled walk (and the run for a second clip).
fs::path synth_folder(const fs::path& dir, bool two_clips) {
    const fs::path ds = dir / "ds";
    s2m_ok("-q synth " + (kCmu / "07_01.bvh").string() + (two_clips ? " " + (kCmu / "09_01.bvh").string() : "") +
           " --map cmu --subject S1 --out " + ds.string());
    return ds;
}

// Root positions (metres) of a BVH written by s2m (root channels first: X Y Z position).
std::vector<Eigen::Vector3d> bvh_root(const io::Bvh& b) {
    std::vector<Eigen::Vector3d> out;
    for (int f = 0; f < b.num_frames; ++f) out.emplace_back(b.value(f, 0), b.value(f, 1), b.value(f, 2));
    return out;
}

double max_value_diff(const io::Bvh& a, const io::Bvh& b) {
    if (a.values.size() != b.values.size()) return INFINITY;
    double d = 0;
    for (size_t i = 0; i < a.values.size(); ++i) d = std::max(d, std::abs(a.values[i] - b.values[i]));
    return d;
}

}  // namespace

// tests/README.md's option table lists exactly the options `--help` shows, per subcommand, and every
// test it names exists and mentions the option (so the table cannot drift from the code).
TEST(CliOptions, HelpListsExactlyTheOptionsOfTheTable) {
    std::string help;
    ASSERT_EQ(test::run_s2m("--help", &help), 0) << help;
    std::map<std::string, std::set<std::string>> from_help;
    std::vector<std::string> subcommands;
    parse_help(help, &from_help["(global)"], &subcommands);
    ASSERT_GE(subcommands.size(), 8u) << help;
    for (const auto& sub : subcommands) {
        std::string h;
        ASSERT_EQ(test::run_s2m(sub + " --help", &h), 0) << h;
        parse_help(h, &from_help[sub], nullptr);
    }

    // | command | option | test |
    std::map<std::string, std::map<std::string, std::string>> table;
    std::ifstream readme(kSource / "tests" / "README.md");
    ASSERT_TRUE(readme) << "tests/README.md";
    const std::regex row("^\\|\\s*`?([^`|]+?)`?\\s*\\|\\s*`([^`]+)`\\s*\\|\\s*`?([A-Za-z0-9_]+\\.[A-Za-z0-9_]+)`?\\s*\\|");
    for (std::string line; std::getline(readme, line);) {
        std::smatch m;
        if (std::regex_search(line, m, row)) table[m[1]][m[2]] = m[3];
    }
    size_t total = 0, exercised = 0;
    for (const auto& [command, options] : from_help) {
        for (const auto& o : options) {
            ++total;
            auto it = table[command].find(o);
            if (it == table[command].end()) {
                ADD_FAILURE() << "tests/README.md: no row for `" << command << "` `" << o << "`";
                continue;
            }
            const std::string body = test_body(it->second);
            if (body.empty()) {
                ADD_FAILURE() << "tests/README.md: `" << command << " " << o << "`: no test " << it->second;
                continue;
            }
            // Any of the option's names ("-v,--verbose"), and the subcommand, in the test's text.
            bool uses = false;
            std::stringstream names(o);
            for (std::string n; std::getline(names, n, ',');) uses = uses || body.find("\"" + n + " ") != std::string::npos ||
                                                                              body.find("\"" + n + "\"") != std::string::npos ||
                                                                              body.find(" " + n + " ") != std::string::npos ||
                                                                              body.find(" " + n + "\"") != std::string::npos;
            if (command != "(global)") uses = uses && body.find(command + " ") != std::string::npos;
            EXPECT_TRUE(uses) << it->second << " does not run `" << command << " " << o << "`";
            exercised += uses;
        }
        for (const auto& [o, t] : table[command])
            EXPECT_TRUE(options.count(o)) << "tests/README.md lists `" << command << " " << o << "`, which --help does not show";
    }
    std::printf("options exercised by a test: %zu of %zu\n", exercised, total);
    EXPECT_EQ(exercised, total);
}

// --version, --threads (the compute threads reported), -v (debug lines), -q (no info lines).
TEST(CliOptions, GlobalVersionThreadsVerboseQuiet) {
    std::string out;
    ASSERT_EQ(test::run_s2m("--version", &out), 0);
    EXPECT_NE(out.find(std::string("s2m ") + S2M_VERSION), std::string::npos) << out;
    for (int threads : {1, 2}) {
        const auto j = nlohmann::json::parse(s2m_ok("-q --threads " + std::to_string(threads) + " info --system --json"));
        EXPECT_EQ(j["torch_threads"].get<int>(), threads);
    }
    // -v: the debug line of reconstruct's precision choice (--precision auto); without it, none.
    const fs::path dir = test::temp_dir("cli_global");
    const std::string rec = " reconstruct --model " + (kSource / "data" / "models" / "demo-mlp").string() + " " +
                            (kSource / "data" / "moticon" / "230927_102137.txt").string() + " --out " + (dir / "rec").string();
    out = s2m_ok("-v --threads 1" + rec);
    EXPECT_NE(out.find("debug: precision auto"), std::string::npos) << out;
    out = s2m_ok("--threads 1" + rec);
    EXPECT_EQ(out.find("debug:"), std::string::npos) << out;
    // -q: the retarget's info line only without it.
    out = s2m_ok("retarget " + (kCmu / "07_01.bvh").string() + " --map cmu --out " + dir.string());
    EXPECT_NE(out.find("info: "), std::string::npos) << out;
    out = s2m_ok("-q retarget " + (kCmu / "07_01.bvh").string() + " --map cmu --out " + dir.string());
    EXPECT_EQ(out.find("info: "), std::string::npos) << out;
}

// info --system (CPU facts, BLAS, threads) and --scale on a BVH (heights scale with it).
TEST(CliOptions, InfoSystemAndScale) {
    const auto sys = nlohmann::json::parse(s2m_ok("-q --threads 2 info --system --json"));
    for (const char* k : {"cpu", "cores", "avx2", "blas_core", "torch_threads", "precision_auto"}) EXPECT_TRUE(sys.contains(k)) << k;
    EXPECT_GE(sys["cores"].get<int>(), 1);
    const std::string bvh = (kCmu / "07_01.bvh").string();
    const auto a = nlohmann::json::parse(s2m_ok("-q info " + bvh + " --json --scale auto"));
    const auto b = nlohmann::json::parse(s2m_ok("-q info " + bvh + " --json --scale 0.1"));
    ASSERT_TRUE(a.contains("height_m")) << a.dump();
    // auto detects CMU's 0.056444 m units.
    EXPECT_NEAR(b["height_m"].get<double>() / a["height_m"].get<double>(), 0.1 / 0.056444, 1e-3);
    // A model folder: its type and the sampler settings stored in it.
    const auto m = nlohmann::json::parse(s2m_ok("-q info " + (kSource / "data" / "models" / "demo").string() + " --json"));
    EXPECT_EQ(m["model_type"], "step2motion");
    EXPECT_EQ(m["sampler_settings"]["sampler"], "fast");
    EXPECT_EQ(m["sampler_settings"]["steps"], 2);
    EXPECT_EQ(m["sampler_settings"]["samples"], 8);
}

// info --compare: a file against itself is 0; a copy whose root moves 2 cm in one frame is 2 cm
// apart there; files of different lengths are refused with one line.
TEST(CliOptions, InfoCompareMeasuresJointDistances) {
    const fs::path dir = test::temp_dir("cli_info_compare");
    const std::string a = (kCmu / "07_01.bvh").string();
    const auto same = nlohmann::json::parse(s2m_ok("-q info --compare " + a + " " + a + " --json"));
    EXPECT_EQ(same["max_joint_distance_m"].get<double>(), 0.0);
    io::Bvh bvh = io::read_bvh(a);
    const int root_x = bvh.joints[0].first_channel;  // CMU: Xposition first
    ASSERT_EQ(bvh.joints[0].channels[0], io::Channel::Xposition);
    bvh.value(7, root_x) += 0.02 / io::detect_bvh_scale(bvh);
    io::write_bvh((dir / "moved.bvh").string(), bvh);
    const auto moved = nlohmann::json::parse(s2m_ok("-q info --compare " + a + " " + (dir / "moved.bvh").string() + " --json"));
    EXPECT_NEAR(moved["max_joint_distance_m"].get<double>(), 0.02, 1e-6);
    EXPECT_EQ(moved["max_at_frame"].get<int>(), 7);
    EXPECT_NEAR(moved["mean_joint_distance_m"].get<double>(), 0.02 / bvh.num_frames, 1e-6);
    bvh.num_frames -= 1;
    bvh.values.resize(static_cast<size_t>(bvh.num_frames) * static_cast<size_t>(bvh.num_channels));
    io::write_bvh((dir / "short.bvh").string(), bvh);
    std::string out;
    EXPECT_EQ(test::run_s2m("-q info --compare " + a + " " + (dir / "short.bvh").string(), &out), 2);
    EXPECT_NE(out.find("frames; expected the same number"), std::string::npos) << out;
    EXPECT_EQ(test::run_s2m("-q info --compare " + a, &out), 2);
}

namespace {
// The canonical Neck -> Head bone over the left thigh, in a BVH's rest pose, and that ratio in the
// standard proportions (the authors' skeleton: 0.0891 m and 0.4078 m).
double head_bone_per_thigh(const fs::path& bvh) {
    const io::Skeleton s = io::skeleton_from_bvh(io::read_bvh(bvh.string()), 1.0);
    return s.offsets_m[static_cast<size_t>(s.find("Head"))].norm() / s.offsets_m[static_cast<size_t>(s.find("LeftLeg"))].norm();
}
constexpr double kStandardHeadPerThigh = 0.089132 / 0.407844;
}  // namespace

// retarget --scale (explicit = auto for CMU's unit; another scale scales the skeleton), --fps and
// --proportions.
TEST(CliOptions, RetargetScaleAndFps) {
    const fs::path dir = test::temp_dir("cli_retarget");
    const std::string in = (kCmu / "07_01.bvh").string();
    s2m_ok("-q retarget " + in + " --map cmu --out " + (dir / "auto").string());
    s2m_ok("-q retarget " + in + " --map cmu --scale 0.056444 --out " + (dir / "cmu").string());
    s2m_ok("-q retarget " + in + " --map cmu --scale 0.03 --out " + (dir / "small").string());
    s2m_ok("-q retarget " + in + " --map cmu --fps 30 --out " + (dir / "fps30").string());
    EXPECT_TRUE(read_text(dir / "auto" / "07_01.bvh") == read_text(dir / "cmu" / "07_01.bvh"));
    const io::Bvh a = io::read_bvh((dir / "auto" / "07_01.bvh").string());
    const io::Bvh s = io::read_bvh((dir / "small" / "07_01.bvh").string());
    const io::Bvh r = io::read_bvh((dir / "fps30" / "07_01.bvh").string());
    const double ha = io::skeleton_from_bvh(a, 1.0).rest_height_m(), hs = io::skeleton_from_bvh(s, 1.0).rest_height_m();
    EXPECT_NEAR(hs / ha, 0.03 / 0.056444, 1e-4);
    EXPECT_NEAR(r.frame_time_s, 1.0 / 30, 1e-6);
    const double duration = (a.num_frames - 1) * a.frame_time_s;
    EXPECT_NEAR(r.num_frames, duration * 30 + 1, 1.0);
    EXPECT_GT(a.fps(), 100);  // the source is 120 Hz: --fps did resample
    // --proportions standard: the canonical Neck -> Head bone takes the standard's share of the leg.
    s2m_ok("-q retarget " + in + " --map cmu --proportions standard --out " + (dir / "standard").string());
    EXPECT_GT(std::abs(head_bone_per_thigh(dir / "auto" / "07_01.bvh") - kStandardHeadPerThigh), 0.05);
    EXPECT_NEAR(head_bone_per_thigh(dir / "standard" / "07_01.bvh"), kStandardHeadPerThigh, 1e-3);
    std::string out;
    EXPECT_NE(test::run_s2m("-q retarget " + in + " --map cmu --proportions tall --out " + (dir / "tall").string(), &out), 0);
    EXPECT_NE(out.find("--proportions"), std::string::npos) << out;
}

// synth --rate-hz / --layout / --scale (with the other synth options), then preprocess --hz / --map /
// --scale on its output.
TEST(CliOptions, SynthAndPreprocessOptions) {
    const fs::path dir = test::temp_dir("cli_synth");
    const std::string in = (kCmu / "07_01.bvh").string();
    auto synth = [&](const std::string& name, const std::string& extra) {
        s2m_ok("-q synth " + in + " --map cmu --subject S1 --weight-kg 65 --insole-size 7 --noise realistic --seed 4" + extra +
               " --out " + (dir / name).string());
        return dir / name / "S1" / "moticon.txt" / "07_01.txt";
    };
    const fs::path plain = synth("plain", "");
    // --layout with the project's copy = the built-in layout; with every sensor area doubled the
    // pressures (force over area) change.
    EXPECT_TRUE(insole_text(synth("layout", " --layout " + (kSource / "data" / "moticon" / "sensor-layout.json").string())) ==
                insole_text(plain));
    auto layout = nlohmann::json::parse(read_text(kSource / "data" / "moticon" / "sensor-layout.json"));
    for (auto& s : layout["sensors"])
        for (auto& [size, area] : s["area_cm2"].items()) area = area.get<double>() * 2;
    std::ofstream(dir / "big-sensors.json") << layout.dump();
    const auto base = io::read_moticon(plain.string());
    const auto big = io::read_moticon(synth("big", " --layout " + (dir / "big-sensors.json").string()).string());
    ASSERT_EQ(big.frames(), base.frames());
    double p_base = 0, p_big = 0;
    for (int f = 0; f < base.frames(); ++f)
        for (int c = 0; c < 16; ++c) {
            p_base += base.feet[0].pressure_n_cm2(f, c);
            p_big += big.feet[0].pressure_n_cm2(f, c);
        }
    EXPECT_GT(p_base, 0);
    EXPECT_NEAR(p_big / p_base, 0.5, 0.1);
    // --rate-hz: 50 Hz insoles over the same duration.
    const auto slow = io::read_moticon(synth("rate50", " --rate-hz 50").string());
    EXPECT_NEAR(slow.rate_hz, 50, 1e-9);
    EXPECT_NEAR(slow.frames(), base.frames() / 2.0, 2);
    EXPECT_EQ(base.insole_size, 7);
    // --scale: CMU's unit explicitly = auto; half of it gives a skeleton half as tall.
    EXPECT_TRUE(insole_text(synth("scale", " --scale 0.056444")) == insole_text(plain));
    synth("half", " --scale 0.028222");
    const double h_plain = io::skeleton_from_bvh(io::read_bvh((dir / "plain" / "S1" / "mocap" / "07_01.bvh").string()), 1).rest_height_m();
    const double h_half = io::skeleton_from_bvh(io::read_bvh((dir / "half" / "S1" / "mocap" / "07_01.bvh").string()), 1).rest_height_m();
    EXPECT_NEAR(h_half / h_plain, 0.5, 1e-4);
    // --proportions standard: the synthesised mocap has the standard skeleton (and other insoles: the
    // toes sit elsewhere).
    const fs::path standard = synth("standard", " --proportions standard");
    EXPECT_NEAR(head_bone_per_thigh(dir / "standard" / "S1" / "mocap" / "07_01.bvh"), kStandardHeadPerThigh, 1e-3);
    EXPECT_GT(std::abs(head_bone_per_thigh(dir / "plain" / "S1" / "mocap" / "07_01.bvh") - kStandardHeadPerThigh), 0.05);
    EXPECT_FALSE(insole_text(standard) == insole_text(plain));

    // preprocess: --hz resamples; --map step2motion and --scale 1 on the canonical BVH (metres) are
    // what auto finds; --scale 0.5 halves every position.
    auto preprocess = [&](const std::string& name, const std::string& extra) {
        const fs::path out = dir / (name + ".h5");
        s2m_ok("-q --threads 2 preprocess --input " + (dir / "plain").string() + " --out " + out.string() +
               " --test-subjects S1 --val-fraction 0 --seed 1 --imu-frame mocap" + extra);
        return io::read_dataset(out.string());
    };
    const auto d30 = preprocess("d30", "");
    const auto d20 = preprocess("d20", " --hz 20");
    const auto mapped = preprocess("mapped", " --map step2motion --scale 1");
    const auto half = preprocess("half", " --scale 0.5");
    ASSERT_EQ(d30.clips.size(), 1u);
    EXPECT_EQ(d20.rate_hz, 20);
    EXPECT_NEAR(d20.clips[0].frames(), d30.clips[0].frames() * 2.0 / 3.0, 2);
    EXPECT_TRUE(mapped.clips[0].poses.isApprox(d30.clips[0].poses));
    EXPECT_TRUE(mapped.clips[0].insoles.isApprox(d30.clips[0].insoles));
    EXPECT_TRUE(half.clips[0].poses.isApprox(0.5f * d30.clips[0].poses, 1e-4f));
    std::string out;
    EXPECT_EQ(test::run_s2m("-q preprocess --input " + (dir / "plain").string() + " --out " + (dir / "x.h5").string() + " --map nosuchmap", &out), 2)
        << out;
}

// reconstruct: every input kind (Moticon .txt, dataset .h5 with --split, a folder, FOLDER:SEQ), the
// output skeleton (--skeleton/--map), the root (--root), --guidance, --precision, both samplers,
// --seed and --samples. With the shipped demo model and the fast sampler where the option allows.
TEST(CliOptions, ReconstructInputsAndOptions) {
    const fs::path dir = test::temp_dir("cli_reconstruct");
    const fs::path ds = synth_folder(dir, true);
    const std::string model = (kSource / "data" / "models" / "demo").string();
    const std::string rec = "-q --threads 2 reconstruct --model " + model + " --sampler fast --steps 2 --precision fp32 --device cpu ";
    auto bvh = [&](const std::string& out, const std::string& name) { return io::read_bvh((dir / out / (name + ".bvh")).string()); };

    // A folder: every sequence; FOLDER:SEQ: that one only, the same motion.
    s2m_ok(rec + ds.string() + " --seed 3 --out " + (dir / "folder").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --out " + (dir / "one").string());
    EXPECT_TRUE(fs::exists(dir / "folder" / "S1_07_01.bvh") || fs::exists(dir / "folder" / "07_01.bvh"));
    size_t in_folder = 0, in_one = 0;
    for (const auto& e : fs::directory_iterator(dir / "folder")) in_folder += e.path().extension() == ".bvh";
    for (const auto& e : fs::directory_iterator(dir / "one")) in_one += e.path().extension() == ".bvh";
    EXPECT_EQ(in_folder, 2u);
    EXPECT_EQ(in_one, 1u);
    const std::string one_name = fs::directory_iterator(dir / "one")->path().stem().string();
    EXPECT_TRUE(read_text(dir / "one" / (one_name + ".bvh")) == read_text(dir / "folder" / (one_name + ".bvh")));

    // --seed: another seed, another sample; --samples 2: another motion again.
    s2m_ok(rec + ds.string() + ":07_01 --seed 4 --out " + (dir / "seed4").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --samples 2 --out " + (dir / "samples2").string());
    EXPECT_GT(max_value_diff(bvh("one", one_name), bvh("seed4", one_name)), 1e-3);
    EXPECT_GT(max_value_diff(bvh("one", one_name), bvh("samples2", one_name)), 1e-3);

    // --guidance 2 changes the motion; --guidance 1 is the default.
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --guidance 2 --out " + (dir / "g2").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --guidance 1 --out " + (dir / "g1").string());
    EXPECT_GT(max_value_diff(bvh("one", one_name), bvh("g2", one_name)), 1e-3);
    EXPECT_TRUE(read_text(dir / "g1" / (one_name + ".bvh")) == read_text(dir / "one" / (one_name + ".bvh")));

    // --precision bf16: the same motion to within bf16 rounding, not the same numbers.
    s2m_ok("-q --threads 2 reconstruct --model " + model + " " + ds.string() + ":07_01 --sampler fast --steps 2 --seed 3 --precision bf16 --out " +
           (dir / "bf16").string());
    const double bf16_diff = max_value_diff(bvh("one", one_name), bvh("bf16", one_name));
    EXPECT_GT(bf16_diff, 0);
    const auto root_fp32 = bvh_root(bvh("one", one_name)), root_bf16 = bvh_root(bvh("bf16", one_name));
    EXPECT_LT((root_fp32.back() - root_bf16.back()).norm(), 0.5);

    // --root double_integration: the root of the BVH is the double integration of the feet's
    // accelerations from the recording's start.
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root double_integration --out " + (dir / "di").string());
    const auto inputs = infer::load_inputs({ds.string() + ":07_01"}, "test", 30);
    ASSERT_EQ(inputs.size(), 1u);
    const Eigen::MatrixXf di = infer::double_integration_root(inputs[0]);
    const auto root_di = bvh_root(bvh("di", one_name));
    ASSERT_EQ(int(root_di.size()), di.rows());
    Eigen::Vector3d pos = root_di[0] - di.row(0).transpose().cast<double>();
    double worst = 0;
    for (size_t f = 0; f < root_di.size(); ++f) {
        pos += di.row(long(f)).transpose().cast<double>();
        worst = std::max(worst, (pos - root_di[f]).norm());
    }
    EXPECT_LT(worst, 1e-4);
    EXPECT_GT((root_di.back() - root_fp32.back()).norm(), 1e-2);

    // --foot-contacts: the same root, the legs changed, and the toes slower while their insole is
    // loaded (BVH forward kinematics; stances as the library finds them). --no-foot-contacts frees
    // them; held is the default of a heading-frame model such as this one.
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --no-foot-contacts --out " + (dir / "free").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --foot-contacts --out " + (dir / "held").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --out " + (dir / "default").string());
    EXPECT_TRUE(read_text(dir / "default" / (one_name + ".bvh")) == read_text(dir / "held" / (one_name + ".bvh")));
    const auto root_free = bvh_root(bvh("free", one_name)), root_held = bvh_root(bvh("held", one_name));
    ASSERT_EQ(root_free.size(), root_held.size());
    for (size_t f = 0; f < root_free.size(); ++f) ASSERT_LT((root_free[f] - root_held[f]).norm(), 1e-5) << "frame " << f;
    EXPECT_GT(max_value_diff(bvh("free", one_name), bvh("held", one_name)), 1e-3);
    auto loaded_toe_speed = [&](const std::string& out) {
        const io::Bvh b = bvh(out, one_name);
        const io::Motion m = io::motion_from_bvh(b, 1.0);
        const auto p = kin::forward_kinematics(m);
        const size_t J = size_t(m.skeleton.size());
        double sum = 0;
        int n = 0;
        for (int foot = 0; foot < 2; ++foot) {
            const int toe = m.skeleton.find(foot == 0 ? "LeftToeBase" : "RightToeBase");
            const Eigen::VectorXf force = inputs[0].insoles.col(foot * 25 + 22);
            for (int f = 1; f < m.frames; ++f)
                if (force[f] > 0.3f * force.maxCoeff() && force[f - 1] > 0.3f * force.maxCoeff()) {
                    Eigen::Vector3d d = p[size_t(f) * J + size_t(toe)] - p[size_t(f - 1) * J + size_t(toe)];
                    d.y() = 0;
                    sum += d.norm() * 30;
                    ++n;
                }
        }
        return n ? sum / n : 0.0;
    };
    const double free_speed = loaded_toe_speed("free"), held_speed = loaded_toe_speed("held");
    std::printf("toe speed while loaded: %.3f m/s free, %.3f m/s with --foot-contacts\n", free_speed, held_speed);
    EXPECT_LT(held_speed, 0.7 * free_speed);

    // --height-m: the output skeleton has the wearer's standing height and, with the wearer's size
    // (the default of a heading-frame model; --wearer-size says so), the body is drawn at its legs
    // before the feet are held, so the held toes stay put in the BVH. --no-wearer-size holds the
    // model's body, whose toes the taller skeleton's longer legs then carry along with the root.
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --height-m 1.95 --out " + (dir / "tall").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --height-m 1.95 --wearer-size --out " + (dir / "tall-size").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --root network --height-m 1.95 --no-wearer-size --out " + (dir / "tall-model").string());
    EXPECT_TRUE(read_text(dir / "tall" / (one_name + ".bvh")) == read_text(dir / "tall-size" / (one_name + ".bvh")));
    EXPECT_NEAR(synth::standing_height_m(io::motion_from_bvh(bvh("tall", one_name), 1.0).skeleton), 1.95, 1e-4);
    EXPECT_NEAR(synth::standing_height_m(io::motion_from_bvh(bvh("tall-model", one_name), 1.0).skeleton), 1.95, 1e-4);
    EXPECT_LT(synth::standing_height_m(io::motion_from_bvh(bvh("held", one_name), 1.0).skeleton), 1.85);
    const double tall_speed = loaded_toe_speed("tall"), tall_model_speed = loaded_toe_speed("tall-model");
    std::printf("toe speed while loaded, 1.95 m skeleton: %.3f m/s with the wearer's size, %.3f m/s at the model's\n", tall_speed,
                tall_model_speed);
    EXPECT_LT(tall_speed, 0.7 * tall_model_speed);
    std::string size_out;
    EXPECT_EQ(test::run_s2m(rec + ds.string() + ":07_01 --height-m 0.3 --out " + (dir / "tiny").string(), &size_out), 2) << size_out;
    EXPECT_NE(size_out.find("--height-m"), std::string::npos) << size_out;

    // --skeleton with --map: the output carries the given skeleton's bone offsets (here the retargeted
    // CMU walker's), not the input's.
    s2m_ok("-q retarget " + (kCmu / "09_01.bvh").string() + " --map cmu --out " + (dir / "skel").string());
    s2m_ok(rec + ds.string() + ":07_01 --seed 3 --skeleton " + (kCmu / "09_01.bvh").string() + " --map cmu --out " + (dir / "skeleton").string());
    const io::Bvh want = io::read_bvh((dir / "skel" / "09_01.bvh").string());
    const io::Bvh got = bvh("skeleton", one_name);
    ASSERT_EQ(got.joints.size(), want.joints.size());
    for (size_t j = 1; j < got.joints.size(); ++j) EXPECT_LT((got.joints[j].offset - want.joints[j].offset).norm(), 1e-5) << j;

    // A dataset file: --split picks the clips; a split without clips is refused.
    const std::string h5 = (kSource / "data" / "demo-heldout.h5").string();
    std::string out;
    EXPECT_EQ(test::run_s2m(rec + h5 + " --split val --out " + (dir / "val").string(), &out), 2) << out;
    EXPECT_NE(out.find("val"), std::string::npos) << out;
    // A Moticon export (no mocap: the standing root), with --details.
    s2m_ok(rec + (kSource / "data" / "moticon" / "230927_102137.txt").string() + " --details --out " + (dir / "moticon").string());
    EXPECT_TRUE(fs::exists(dir / "moticon" / "230927_102137.bvh"));
    EXPECT_TRUE(fs::exists(dir / "moticon" / "230927_102137.json"));

    // --sampler ddpm runs all the schedule's ancestral steps (with the small model trained in
    // CliOptions.TrainCtrlCAndResume: the demo model's 200 steps take a minute); fewer is refused.
    EXPECT_EQ(test::run_s2m("-q reconstruct --model " + model + " " + ds.string() + ":07_01 --sampler ddpm --steps 20 --out " + (dir / "x").string(), &out), 2)
        << out;
}

// Sampler settings stored in the model: `train` chooses them on the validation clips at the end
// (unless --no-tune), `tune` chooses them for an existing model, and `evaluate` and `reconstruct` use
// them for whatever the command line leaves out.
TEST(CliOptions, TuneStoresSamplerSettingsThatEvaluateUses) {
    const fs::path dir = test::temp_dir("cli_tune");
    const fs::path ds = synth_folder(dir, true);
    const fs::path data = dir / "data.h5";
    s2m_ok("-q --threads 2 preprocess --input " + ds.string() + " --out " + data.string() + " --val-fraction 0.5 --seed 2");
    auto config = nlohmann::json::parse(read_text(kSource / "configs" / "tiny.json"));
    config["epochs_pose"] = 4;
    config["epochs_trans"] = 1;
    std::ofstream(dir / "config.json") << config.dump();
    const std::string train = "-q --threads 2 train --config " + (dir / "config.json").string() + " --data " + data.string();
    s2m_ok(train + " --out " + (dir / "auto").string());
    const model::ModelBundle chosen = model::load_model((dir / "auto" / "model.pt").string());
    ASSERT_FALSE(chosen.sampling.empty());
    EXPECT_NE(chosen.sampling.chosen_on.find("split val"), std::string::npos) << chosen.sampling.chosen_on;
    EXPECT_GT(chosen.sampling.val_mpjpe_legs_cm, 0);

    s2m_ok(train + " --no-tune --out " + (dir / "plain").string());
    EXPECT_TRUE(model::load_model((dir / "plain" / "model.pt").string()).sampling.empty());
    std::string out;
    ASSERT_EQ(test::run_s2m("--threads 2 tune --model " + (dir / "plain").string() + " --data " + data.string() +
                                " --split val --no-ddpm --seed 2 --precision fp32 --device cpu",
                            &out),
              0)
        << out;
    std::printf("%s", out.c_str());
    const model::ModelBundle tuned = model::load_model((dir / "plain" / "model.pt").string());
    ASSERT_FALSE(tuned.sampling.empty());
    EXPECT_EQ(tuned.sampling.sampler, "fast");  // --no-ddpm
    EXPECT_NE(out.find("stored in"), std::string::npos);

    // evaluate: the stored settings where nothing is given; a given --sampler wins, the rest stays stored.
    auto evaluated = [&](const std::string& extra, const std::string& name) {
        s2m_ok("-q --threads 2 evaluate --model " + (dir / "plain").string() + " --data " + data.string() + " --split val " + extra +
               " --out " + (dir / name).string());
        return nlohmann::json::parse(read_text(dir / name / "metrics.json"))["plain"];
    };
    const auto stored = evaluated("", "eval_stored");
    EXPECT_EQ(stored["sampler"], tuned.sampling.sampler);
    EXPECT_EQ(stored["steps"], tuned.sampling.steps);
    EXPECT_EQ(stored["samples"], tuned.sampling.samples);
    const auto ddpm = evaluated("--sampler ddpm", "eval_ddpm");
    EXPECT_EQ(ddpm["sampler"], "ddpm");
    EXPECT_EQ(ddpm["steps"], 0);
    EXPECT_EQ(ddpm["samples"], tuned.sampling.samples);
    // reconstruct says which settings it uses.
    ASSERT_EQ(test::run_s2m("--threads 2 reconstruct --model " + (dir / "plain").string() + " " + data.string() +
                                " --split val --out " + (dir / "rec").string(),
                            &out),
              0)
        << out;
    EXPECT_NE(out.find("(unless given: the model's stored settings)"), std::string::npos) << out;
}

// train --device / --precision / --resume, and Ctrl-C through the CLI: interrupted (exit 130) after
// the first checkpoint, last.pt kept, and --resume finishes the run to the configured epochs.
TEST(CliOptions, TrainCtrlCAndResume) {
    const fs::path dir = test::temp_dir("cli_train");
    const fs::path ds = synth_folder(dir, true);
    const fs::path data = dir / "data.h5";
    s2m_ok("-q --threads 2 preprocess --input " + ds.string() + " --out " + data.string() + " --val-fraction 0");
    auto config = nlohmann::json::parse(read_text(kSource / "configs" / "tiny.json"));
    config["epochs_pose"] = 12;
    config["epochs_trans"] = 2;
    std::ofstream(dir / "config.json") << config.dump();
    const fs::path model = dir / "model";
    std::string out;
    // No CUDA in this build (or no GPU): refused before anything is written.
    if (test::run_s2m("-q train --config " + (dir / "config.json").string() + " --data " + data.string() + " --device cuda --out " +
                          (dir / "cuda").string(),
                      &out) != 0) {
        EXPECT_NE(out.find("cuda"), std::string::npos) << out;
        EXPECT_FALSE(fs::exists(dir / "cuda" / "last.pt"));
    }

    const std::string bin = std::string(S2M_BINARY_DIR) + "/bin/s2m";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        ::execl(bin.c_str(), bin.c_str(), "-q", "--threads", "1", "train", "--config", (dir / "config.json").c_str(), "--data",
                data.c_str(), "--out", model.c_str(), "--device", "cpu", "--precision", "fp32", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Ctrl-C once the first epoch's checkpoint is there.
    const auto start = std::chrono::steady_clock::now();
    while (!fs::exists(model / "last.pt") && std::chrono::steady_clock::now() - start < std::chrono::seconds(120))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(fs::exists(model / "last.pt"));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 130);
    EXPECT_TRUE(fs::exists(model / "last.pt"));
    size_t logged = 0;
    {
        std::ifstream log(model / "train_log.jsonl");
        for (std::string l; std::getline(log, l);) ++logged;
    }
    EXPECT_LT(logged, 14u);  // stopped before the end
    for (const auto& e : fs::directory_iterator(model)) EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();

    // --resume finishes: one log line per epoch, pose 1..12 then root 1..2, each once.
    s2m_ok("-q --threads 1 train --config " + (dir / "config.json").string() + " --data " + data.string() + " --out " + model.string() +
           " --resume --device cpu --precision fp32");
    std::ifstream log(model / "train_log.jsonl");
    std::vector<std::pair<std::string, int>> epochs;
    for (std::string l; std::getline(log, l);) {
        const auto j = nlohmann::json::parse(l);
        epochs.emplace_back(j["phase"].get<std::string>(), j["epoch"].get<int>());
    }
    ASSERT_EQ(epochs.size(), 14u);
    for (int e = 0; e < 12; ++e) EXPECT_EQ(epochs[size_t(e)], std::make_pair(std::string("pose"), e + 1));
    EXPECT_EQ(epochs[12], std::make_pair(std::string("root"), 1));
    EXPECT_EQ(epochs[13], std::make_pair(std::string("root"), 2));
    EXPECT_TRUE(fs::exists(model / "model.pt"));
    // The trained model reconstructs with the ancestral sampler (all 50 steps of tiny.json) and with
    // the fast one, to different samples.
    s2m_ok("-q --threads 2 reconstruct --model " + model.string() + " " + ds.string() + ":07_01 --sampler ddpm --seed 3 --out " +
           (dir / "ddpm").string());
    s2m_ok("-q --threads 2 reconstruct --model " + model.string() + " " + ds.string() + ":07_01 --sampler fast --steps 2 --seed 3 --out " +
           (dir / "fast").string());
    for (const auto& e : fs::directory_iterator(dir / "ddpm")) {
        const io::Bvh a = io::read_bvh(e.path().string()), b = io::read_bvh((dir / "fast" / e.path().filename()).string());
        EXPECT_EQ(a.num_frames, b.num_frames);
        EXPECT_GT(max_value_diff(a, b), 1e-3);
    }
    // bf16 (CPU autocast) trains too.
    config["epochs_pose"] = 1;
    config["epochs_trans"] = 1;
    std::ofstream(dir / "one.json") << config.dump();
    s2m_ok("-q --threads 1 train --config " + (dir / "one.json").string() + " --data " + data.string() + " --out " + (dir / "bf16").string() +
           " --precision bf16");
    EXPECT_TRUE(fs::exists(dir / "bf16" / "model.pt"));
}

// s2m bench with every option at a smoke size, and the bench programs once each in their smoke mode.
TEST(CliOptions, BenchSmoke) {
    const auto j = nlohmann::json::parse(s2m_ok("-q --threads 2 bench --json --quick --hidden-dim 32 --layers 1 --seconds 4 "
                                                "--precision fp32 --profile --memory-seconds 8 --device cpu"));
    EXPECT_EQ(j["device"].get<std::string>(), "cpu");
    EXPECT_EQ(j["model"]["hidden_dim"].get<int>(), 32);
    EXPECT_EQ(j["model"]["num_layers"].get<int>(), 1);
    EXPECT_EQ(j["threads"].get<int>(), 2);
    EXPECT_EQ(j["precision"].get<std::string>(), "fp32");
    for (const char* k : {"bvh_read_mb_s", "moticon_read_mb_s", "gemm_fp32_gflops", "reconstruct_rtf_200", "reconstruct_rtf_fast",
                          "reconstruct_1h_peak_mb", "train_windows_per_s"}) {
        ASSERT_TRUE(j.contains(k) && j[k].is_number()) << k << ": " << j.dump();
        EXPECT_GT(j[k].get<double>(), 0) << k;
        EXPECT_TRUE(std::isfinite(j[k].get<double>())) << k;
    }
    // The pass's matrix products at the CPU's peak bound the measured pass from below.
    ASSERT_TRUE(j.contains("denoiser_pass_matmul_gflop")) << j.dump();
    EXPECT_GT(j["denoiser_pass_matmul_gflop"].get<double>(), 0);
    if (j.contains("cpu_peak_gflops_fp32")) {
        const double floor_ms = j["denoiser_pass_floor_ms_fp32"].get<double>();
        EXPECT_NEAR(floor_ms, j["denoiser_pass_matmul_gflop"].get<double>() / j["cpu_peak_gflops_fp32"].get<double>() * 1e3,
                    1e-9 * floor_ms);
        EXPECT_GT(j["denoiser_pass_ms_fp32"].get<double>(), floor_ms);
    }
    EXPECT_FALSE(j["profile_pass"].get<std::string>().empty());
    EXPECT_FALSE(j["profile_train_step"].get<std::string>().empty());
    // The human-readable form prints the figures as they come.
    const std::string text = s2m_ok("-q --threads 2 bench --quick --hidden-dim 32 --layers 1 --seconds 4 --memory-seconds 0");
    EXPECT_NE(text.find("gemm_fp32_gflops"), std::string::npos) << text;
    EXPECT_EQ(text.find("reconstruct_1h_peak_mb"), std::string::npos) << text;

    const fs::path bin = fs::path(S2M_BINARY_DIR) / "bin";
    if (!fs::exists(bin / "bench_io")) GTEST_SKIP() << "bench programs not built (S2M_BUILD_BENCH=OFF)";
    auto run = [&](const std::string& cmd, const char* expect) {
        const std::string full = (bin / cmd).string() + " 2>&1";
        FILE* pipe = ::popen(full.c_str(), "r");
        ASSERT_NE(pipe, nullptr);
        std::string o;
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.append(buf, n);
        const int status = ::pclose(pipe);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << o;
        EXPECT_NE(o.find(expect), std::string::npos) << cmd << "\n" << o;
    };
    run("bench_io " + (kCmu / "07_01.bvh").string(), "bvh_read_mb_s");
    run("bench_model --smoke", "training, batch 64");
    run("bench_data --smoke", "preprocess 1 min");
    run("bench_synth --smoke", "synthesise 1 min");
}

// s2m view with every option: two reconstructions side by side, labelled, with the recording's own
// ground truth, explicit details files, a title; and the same without attention (--no-details).
TEST(CliOptions, ViewOptions) {
    const fs::path dir = test::temp_dir("cli_view");
    const fs::path ds = synth_folder(dir, false);
    const std::string rec = "-q --threads 2 reconstruct " + ds.string() + ":07_01 --details --device cpu --precision fp32 --out ";
    s2m_ok(rec + (dir / "mlp").string() + " --model " + (kSource / "data" / "models" / "demo-mlp").string());
    s2m_ok(rec + (dir / "diffusion").string() + " --sampler fast --steps 2 --model " + (kSource / "data" / "models" / "demo").string());
    fs::path mlp_bvh, diffusion_bvh;
    for (const auto& e : fs::directory_iterator(dir / "mlp"))
        if (e.path().extension() == ".bvh") mlp_bvh = e.path();
    for (const auto& e : fs::directory_iterator(dir / "diffusion"))
        if (e.path().extension() == ".bvh") diffusion_bvh = e.path();
    ASSERT_FALSE(mlp_bvh.empty());
    ASSERT_FALSE(diffusion_bvh.empty());
    const auto details = [](const fs::path& bvh) { return fs::path(bvh).replace_extension(".json").string(); };
    const std::string clip = mlp_bvh.stem().string();  // the sequence's name in the folder
    const fs::path full = dir / "full.html", bare = dir / "bare.html";
    s2m_ok("-q view " + mlp_bvh.string() + " " + diffusion_bvh.string() + " --insoles " + ds.string() +
           " --clip " + clip + " --truth recording --label MLP-side --label Diffusion-side --details " + details(mlp_bvh) +
           " --details " + details(diffusion_bvh) + " --title Walk-07-01-side-by-side --out " + full.string());
    s2m_ok("-q view " + diffusion_bvh.string() + " --insoles " + ds.string() + " --clip " + clip + " --no-details --out " + bare.string());
    std::ifstream a(full), b(bare);
    const std::string page((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    const std::string page_bare((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
    for (const char* s : {"MLP-side", "Diffusion-side", "Walk-07-01-side-by-side", "ground truth"})
        EXPECT_NE(page.find(s), std::string::npos) << s;
    EXPECT_EQ(page_bare.find("Diffusion-side"), std::string::npos);
    // Attention is embedded only where asked for: the page without it is smaller than one track's.
    EXPECT_NE(page.find("left_toes"), std::string::npos);
    EXPECT_EQ(page_bare.find("left_toes"), std::string::npos);
}
