// The player's data (fixed-point base64 arrays), the page's self-containment and size, the report.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "step2motion/core/error.hpp"
#include "step2motion/eval/metrics.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/view/page.hpp"
#include "step2motion/view/report.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

std::vector<unsigned char> unbase64(const std::string& s) {
    auto digit = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::vector<unsigned char> out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        const int d = digit(c);
        if (d < 0) break;  // '=' padding
        acc = (acc << 6) | uint32_t(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

// The page's decoding (player.js decodeArray), redone here.
std::vector<double> decode(const nlohmann::json& a) {
    const auto bytes = unbase64(a["b64"].get<std::string>());
    const std::string type = a["type"];
    const double scale = a["scale"];
    size_t n = 1;
    for (int d : a["shape"]) n *= size_t(d);
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) {
        if (type == "f32") {
            uint32_t u = uint32_t(bytes[4 * i]) | uint32_t(bytes[4 * i + 1]) << 8 | uint32_t(bytes[4 * i + 2]) << 16 | uint32_t(bytes[4 * i + 3]) << 24;
            float f;
            std::memcpy(&f, &u, 4);
            v[i] = f;
        } else if (type == "i16") {
            v[i] = int16_t(uint16_t(bytes[2 * i] | bytes[2 * i + 1] << 8)) * scale;
        } else if (type == "u16") {
            v[i] = uint16_t(bytes[2 * i] | bytes[2 * i + 1] << 8) * scale;
        } else {
            v[i] = bytes[i] * scale;
        }
    }
    return v;
}

// A walking-like canonical track: root moving 1.3 m/s along x, joints swinging around the rest pose.
view::Track synthetic_track(int frames, double phase, const std::string& label) {
    view::Track t;
    t.label = label;
    t.parents.assign(kin::kJointParents.begin(), kin::kJointParents.end());
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-0.4, 0.4);
    std::vector<Eigen::Vector3d> offsets(22);
    for (auto& o : offsets) o = Eigen::Vector3d(u(rng), u(rng) + 0.2, u(rng));
    for (int f = 0; f < frames; ++f) {
        const Eigen::Vector3d root(1.3 * f / 30.0, 0.95 + 0.02 * std::sin(f * 0.4 + phase), 0.1 * std::sin(f * 0.01));
        for (int j = 0; j < 22; ++j)
            t.positions_m.push_back(j == 0 ? root : root + offsets[size_t(j)] + 0.1 * Eigen::Vector3d(std::sin(f * 0.2 + j), 0, std::cos(f * 0.2 + j)));
    }
    return t;
}

Eigen::MatrixXf synthetic_insoles(int frames) {
    Eigen::MatrixXf ins = Eigen::MatrixXf::Zero(frames, io::kInsoleChannels);
    for (int f = 0; f < frames; ++f)
        for (int foot = 0; foot < 2; ++foot) {
            const bool stance = ((f / 15) + foot) % 2 == 0;
            for (int k = 0; k < 16; ++k) ins(f, foot * 25 + k) = stance ? 2.0f + 0.37f * float(k) : 0.f;
            ins(f, foot * 25 + io::kForceOffset) = stance ? 700.f : 3.f;
            ins(f, foot * 25 + io::kCopOffset) = stance ? 0.12f : 0.f;
            ins(f, foot * 25 + io::kCopOffset + 1) = stance ? -0.05f : 0.f;
        }
    return ins;
}

std::string page_data_json(const std::string& html) {
    const std::string open = "<script type=\"application/json\" class=\"s2m-data\">";
    const size_t a = html.find(open);
    const size_t b = html.find("</script>", a);
    EXPECT_NE(a, std::string::npos);
    return html.substr(a + open.size(), b - a - open.size());
}

}  // namespace

TEST(ViewPage, Base64KnownVectors) {
    // RFC 4648 section 10.
    const std::pair<const char*, const char*> cases[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [in, out] : cases) EXPECT_EQ(view::base64(in, std::strlen(in)), out) << in;
}

TEST(ViewPage, DataRoundTripsThroughTheFixedPointArrays) {
    view::PlayerData d;
    d.fps = 30;
    d.tracks.push_back(synthetic_track(90, 0, "model"));
    auto truth = synthetic_track(100, 1, "truth");
    truth.kind = "truth";
    d.tracks.push_back(truth);
    d.tracks[0].attention.resize(90 * 24);
    for (size_t i = 0; i < d.tracks[0].attention.size(); ++i) d.tracks[0].attention[i] = float(i % 97) / 97.f;
    d.insoles = synthetic_insoles(95);
    const auto j = view::player_json(d);
    EXPECT_EQ(j["frames"], 90);  // the shortest of tracks and insoles
    for (int t = 0; t < 2; ++t) {
        const auto root = decode(j["tracks"][t]["root"]), rel = decode(j["tracks"][t]["joints"]);
        double worst = 0;
        for (int f = 0; f < 90; ++f)
            for (int k = 0; k < 22; ++k)
                for (int a = 0; a < 3; ++a) {
                    const double page = root[size_t(f * 3 + a)] + rel[size_t((f * 22 + k) * 3 + a)];
                    worst = std::max(worst, std::abs(page - d.tracks[size_t(t)].positions_m[size_t(f * 22 + k)][a]));
                }
        EXPECT_LT(worst, 0.0006) << "joint positions within half a millimetre (plus float rounding)";
    }
    EXPECT_EQ(j["tracks"][1]["kind"], "truth");
    EXPECT_TRUE(j["tracks"][1]["attention"].is_null());
    const auto att = decode(j["tracks"][0]["attention"]);
    for (size_t i = 0; i < att.size(); ++i) ASSERT_NEAR(att[i], d.tracks[0].attention[i], 1e-5);
    const auto pressure = decode(j["insoles"]["pressure"]), force = decode(j["insoles"]["force"]), stance = decode(j["insoles"]["stance"]);
    for (int f = 0; f < 90; ++f)
        for (int foot = 0; foot < 2; ++foot) {
            for (int k = 0; k < 16; ++k) ASSERT_NEAR(pressure[size_t((f * 2 + foot) * 16 + k)], d.insoles(f, foot * 25 + k), 0.0051);
            ASSERT_NEAR(force[size_t(f * 2 + foot)], d.insoles(f, foot * 25 + io::kForceOffset), 0.051);
            ASSERT_EQ(stance[size_t(f * 2 + foot)] > 0.5, d.insoles(f, foot * 25 + io::kForceOffset) >= 50.f);
        }
}

TEST(ViewPage, StanceIsTheExportersCopThreshold) {
    EXPECT_FALSE(view::in_stance(0));
    EXPECT_FALSE(view::in_stance(49.9));
    EXPECT_TRUE(view::in_stance(50));
    EXPECT_TRUE(view::in_stance(800));
}

TEST(ViewPage, PageIsSelfContainedAndEscapesLabels) {
    view::PlayerData d;
    d.tracks.push_back(synthetic_track(30, 0, "</script><script>alert(1)</script>"));
    d.insoles = synthetic_insoles(30);
    const std::string html = view::page_html("a <title>", "<h1>x</h1>", {view::player_json(d)});
    // Exactly the two script elements the page is made of: the data and the player.
    size_t scripts = 0;
    for (size_t p = html.find("<script"); p != std::string::npos; p = html.find("<script", p + 1)) ++scripts;
    EXPECT_EQ(scripts, 2u);
    EXPECT_NE(html.find("a &lt;title&gt;"), std::string::npos);
    EXPECT_NE(html.find(std::string(view::web_asset("player.js")).substr(0, 200)), std::string::npos);
    EXPECT_NE(html.find(std::string(view::web_asset("player.css")).substr(0, 100)), std::string::npos);
    // Nothing fetched: no src/href attributes, no CSS url() or @import.
    for (const char* fetch : {" src=", " href=", "url(", "@import", "fetch(", "XMLHttpRequest"}) EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
    // The label comes back intact from the JSON.
    const auto j = nlohmann::json::parse(page_data_json(html));
    EXPECT_EQ(j["tracks"][0]["label"], "</script><script>alert(1)</script>");
}

TEST(ViewPage, OneMinuteClipPageStaysUnderTwoMegabytes) {
    // One minute at 30 Hz: a reconstruction with attention, the ground truth, both insoles.
    const int frames = 60 * 30;
    view::PlayerData d;
    d.tracks.push_back(synthetic_track(frames, 0, "model"));
    d.tracks[0].attention.assign(size_t(frames) * 24, 0.3f);
    auto truth = synthetic_track(frames, 1, "truth");
    truth.kind = "truth";
    d.tracks.push_back(truth);
    d.insoles = synthetic_insoles(frames);
    const std::string html = view::page_html("one minute", "", {view::player_json(d)});
    EXPECT_LT(html.size(), 2u << 20);
    std::printf("one-minute page with truth and attention: %.0f KB\n", html.size() / 1024.0);
}

TEST(ViewPage, DetailsMustMatchTheirBvh) {
    const fs::path dir = test::temp_dir("view_details");
    auto track = synthetic_track(10, 0, "m");
    nlohmann::json j;
    j["components"] = {"left_toes", "left_heel", "left_imu", "left_force_cop", "right_toes", "right_heel", "right_imu", "right_force_cop"};
    j["attention"] = nlohmann::json::array();
    for (int f = 0; f < 9; ++f) j["attention"].push_back(nlohmann::json::array({std::vector<float>(8, 0.1f), std::vector<float>(8, 0.2f), std::vector<float>(8, 0.3f)}));
    std::ofstream(dir / "short.json") << j.dump();
    EXPECT_THROW(view::attach_details(track, (dir / "short.json").string()), InputError);
    j["attention"].push_back(j["attention"][0]);
    std::ofstream(dir / "ok.json") << j.dump();
    const auto components = view::attach_details(track, (dir / "ok.json").string());
    EXPECT_EQ(components[0], "left_toes");
    ASSERT_EQ(track.attention.size(), 10u * 24);
    EXPECT_FLOAT_EQ(track.attention[8], 0.2f);  // frame 0, body part 1, component 0
    std::ofstream(dir / "bad.json") << "{\"components\": [1]";
    EXPECT_THROW(view::attach_details(track, (dir / "bad.json").string()), InputError);
}

TEST(ViewReport, PlotsTablesCurvesAndPlayers) {
    const fs::path dir = test::temp_dir("view_report");
    fs::create_directories(dir / "m1");
    std::ofstream(dir / "m1" / "train_log.jsonl") << "{\"epoch\":1,\"phase\":\"pose\",\"train_loss\":0.9,\"val_mpjpe_cm\":20,\"val_time_s\":1}\n"
                                                     "{\"epoch\":2,\"phase\":\"pose\",\"train_loss\":0.5,\"val_mpjpe_cm\":15,\"val_time_s\":1}\n";
    eval::EvaluationDetails d;
    for (int c = 0; c < 4; ++c) {
        infer::InsoleSequence s;
        s.name = "clip" + std::to_string(c);
        s.insoles = synthetic_insoles(40);
        s.poses = Eigen::MatrixXf::Constant(40, 66, 0.01f * float(c));
        s.root_start_m = Eigen::Vector3d(0, 0.9, 0);
        d.clips.push_back(s);
    }
    nlohmann::json metrics;
    for (const char* m : {"m1", "m2"}) {
        eval::ModelDetails md;
        md.name = m;
        md.dir = (dir / m).string();
        md.joint_error_cm.assign(21, m[1] == '1' ? 5.0 : 7.0);
        for (int c = 0; c < 4; ++c) {
            md.frame_error_cm.push_back(std::vector<float>(40, float(c)));
            md.poses.push_back(Eigen::MatrixXf::Zero(40, 66));
            metrics[m]["clips"]["clip" + std::to_string(c)]["MPJPE_cm"]["mean"] = c == 2 ? 30.0 : 10.0 + c;
        }
        for (const auto& k : eval::kMetricKeys) metrics[m]["overall"][k] = {{"mean", m[1] == '1' ? 1.0 : 2.0}, {"std", 0.5}};
        d.models.push_back(md);
    }
    view::ReportOptions o;
    o.worst_clips = 2;
    view::write_report_html(dir.string(), metrics, d, o);
    std::ifstream in(dir / "report.html");
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(html.find("<table class=\"s2m-metrics\">"), std::string::npos);
    EXPECT_NE(html.find("class=\"best\""), std::string::npos);
    EXPECT_NE(html.find("MPJPE per joint"), std::string::npos);
    EXPECT_NE(html.find("LeftToeBase"), std::string::npos);
    // The worst clips by the first model: clip2 (30 cm), then clip3 (13 cm).
    EXPECT_NE(html.find("clip2: MPJPE over time"), std::string::npos);
    EXPECT_NE(html.find("clip3: MPJPE over time"), std::string::npos);
    EXPECT_EQ(html.find("clip1: MPJPE over time"), std::string::npos);
    EXPECT_NE(html.find("m1 · pose · val_mpjpe_cm"), std::string::npos);
    EXPECT_EQ(html.find("val_time_s"), std::string::npos);
    EXPECT_NE(html.find("no train_log.jsonl in"), std::string::npos);  // m2 has none
    size_t players = 0;
    for (size_t p = html.find("class=\"s2m-data\">{"); p != std::string::npos; p = html.find("class=\"s2m-data\">{", p + 1)) ++players;
    EXPECT_EQ(players, 2u);
    for (const char* fetch : {" src=", " href=", "url(", "@import"}) EXPECT_EQ(html.find(fetch), std::string::npos) << fetch;
}

TEST(ViewReport, LinePlotPlacesPointsOnItsAxes) {
    view::Series s{"s", "#000", {0, 10}, {0, 100}};
    const std::string svg = view::svg_line_plot("t", "x", "y", {s}, 500, 200);
    // left margin 62, plot width 500-62-150 = 288; top 26, plot height 200-26-38 = 136.
    EXPECT_NE(svg.find("points=\"62.0,162.0 350.0,26.0 \""), std::string::npos) << svg;
}
