// `s2m view` in a real browser: headless Chromium loads the page of a reconstruction of the bundled
// normal-pace walk (by the MLP demo model) with no console output; at chosen frames the pixels where the joints project
// (with the camera the page exports) are skeleton-coloured, and the pressure cells of the foot in
// stance are coloured while those of the foot in swing are not. Skips when chromium is not installed
// (scripts/build.sh does not install it; `apt-get install chromium`, or set S2M_CHROMIUM).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "png_image.hpp"
#include "step2motion/infer/inputs.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "step2motion/view/page.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

std::string find_chromium() {
    if (const char* env = std::getenv("S2M_CHROMIUM"); env && *env) return fs::exists(env) ? env : "";
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':'))
        for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
            if (fs::exists(fs::path(dir) / name)) return (fs::path(dir) / name).string();
    return "";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Browser {
    std::string chromium;
    fs::path dir;
    int window_w = 1280, window_h = 1000;
    // Runs chromium headless on `url` with `action` (--dump-dom or --screenshot=FILE); returns stdout,
    // and in `console` the page's console lines (chromium logs them as "...:CONSOLE...").
    std::string run(const std::string& url, const std::string& action, std::vector<std::string>* console, int* code) const {
        const fs::path out = dir / "browser.out", err = dir / "browser.err";
        const std::string cmd = "timeout 120 " + chromium +
                                " --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 --window-size=" +
                                std::to_string(window_w) + "," + std::to_string(window_h) + " --user-data-dir=" + (dir / "profile").string() +
                                " --enable-logging=stderr --v=0 " + action + " '" + url + "' > " + out.string() + " 2> " + err.string();
        const int status = std::system(cmd.c_str());
        *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::stringstream lines(slurp(err));
        std::string line;
        while (std::getline(lines, line))
            if (line.find(":CONSOLE") != std::string::npos) console->push_back(line);
        return slurp(out);
    }
};

// The JSON the page writes into <pre id="s2m-test"> in test mode (text content: &, <, > escaped).
nlohmann::json test_layout(const std::string& dom) {
    const std::string open = "<pre id=\"s2m-test\">";
    // The last one: player.js, inlined above it, names the element in a comment.
    const size_t a = dom.rfind(open);
    if (a == std::string::npos) return nullptr;
    const size_t b = dom.find("</pre>", a);
    std::string text = dom.substr(a + open.size(), b - a - open.size());
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
        for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
    }
    return nlohmann::json::parse(text);
}

std::array<int, 3> hex_colour(const std::string& s) {
    return {std::stoi(s.substr(1, 2), nullptr, 16), std::stoi(s.substr(3, 2), nullptr, 16), std::stoi(s.substr(5, 2), nullptr, 16)};
}
bool near_colour(const uint8_t* p, const std::array<int, 3>& c, int tolerance) {
    for (int k = 0; k < 3; ++k)
        if (std::abs(int(p[k]) - c[size_t(k)]) > tolerance) return false;
    return true;
}
int saturation(const uint8_t* p) { return std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]}); }

// Frames of the recording where `stance_foot` carries weight and the other foot is in the air with
// every cell (nearly) unloaded; the first one after 2 s.
int pick_frame(const infer::InsoleSequence& s, int stance_foot) {
    const int swing = 1 - stance_foot;
    for (int f = 60; f < s.frames(); ++f) {
        if (s.insoles(f, stance_foot * 25 + io::kForceOffset) < 300) continue;
        if (s.insoles(f, swing * 25 + io::kForceOffset) > 5) continue;
        bool quiet = true;
        for (int k = 0; k < 16; ++k) quiet = quiet && s.insoles(f, swing * 25 + k) <= 0.5f;
        if (quiet) return f;
    }
    return -1;
}

}  // namespace

TEST(ViewBrowser, ConsoleLinesAreDetected) {
    // The check below is only worth something if this browser reports console output the way it looks for.
    Browser b{find_chromium(), test::temp_dir("view_browser_console")};
    if (b.chromium.empty()) GTEST_SKIP() << "chromium not installed";
    std::ofstream(b.dir / "bad.html") << "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>";
    std::vector<std::string> console;
    int code = 0;
    b.run("file://" + (b.dir / "bad.html").string(), "--dump-dom", &console, &code);
    EXPECT_EQ(code, 0);
    ASSERT_FALSE(console.empty()) << "chromium printed no console line for an uncaught error";
    EXPECT_NE(console[0].find("undefinedFunction"), std::string::npos) << console[0];
}

TEST(ViewBrowser, NormalWalkPageShowsSkeletonAndInsoles) {
    Browser b{find_chromium(), test::temp_dir("view_browser")};
    if (b.chromium.empty()) GTEST_SKIP() << "chromium not installed";
    const fs::path walk = test::project_data() / "moticon" / "230927_102114.txt";
    // The MLP demo model: deterministic and about a second for this walk (the diffusion demo model
    // takes about a minute on 2 cores; the page does not depend on which model made the BVH).
    const fs::path model = fs::path(S2M_SOURCE_DIR) / "data" / "models" / "demo-mlp";
    std::string out;
    ASSERT_EQ(test::run_s2m("-q reconstruct --model " + model.string() + " " + walk.string() + " --out " + b.dir.string() + " --details", &out),
              0)
        << out;
    const fs::path bvh = b.dir / "230927_102114.bvh", page = b.dir / "walk.html";
    ASSERT_EQ(test::run_s2m("view " + bvh.string() + " --insoles " + walk.string() + " --out " + page.string(), &out), 0) << out;
    EXPECT_NE(out.find("230927_102114.json"), std::string::npos) << "the details JSON beside the BVH is picked up: " << out;

    const auto sequence = infer::load_inputs({walk.string()}, "all", 30).front();
    const io::Bvh file = io::read_bvh(bvh.string());
    const io::Motion motion = io::motion_from_bvh(file, io::detect_bvh_scale(file));
    const auto positions = kin::forward_kinematics(motion);
    const int J = motion.skeleton.size();

    for (int stance_foot = 0; stance_foot < 2; ++stance_foot) {
        const int frame = pick_frame(sequence, stance_foot);
        ASSERT_GE(frame, 0) << "no frame with foot " << stance_foot << " in stance and the other in swing";
        SCOPED_TRACE("frame " + std::to_string(frame) + ", stance foot " + std::to_string(stance_foot));
        const std::string url = "file://" + page.string() + "#frame=" + std::to_string(frame) + "&test";
        std::vector<std::string> console;
        int code = 0;
        const std::string dom = b.run(url, "--dump-dom", &console, &code);
        ASSERT_EQ(code, 0);
        EXPECT_TRUE(console.empty()) << "console output: " << console.front();
        const auto layout = test_layout(dom);
        ASSERT_FALSE(layout.is_null()) << "the page did not write its layout (a script error?)";
        ASSERT_EQ(layout["frame"], frame);
        ASSERT_EQ(layout["device_pixel_ratio"], 1);

        const fs::path shot = b.dir / ("frame" + std::to_string(frame) + ".png");
        b.run(url, "--screenshot=" + shot.string(), &console, &code);
        ASSERT_EQ(code, 0);
        EXPECT_TRUE(console.empty()) << "console output: " << console.front();
        const test::Image img = test::read_png(shot.string());
        ASSERT_EQ(img.width, b.window_w);

        // Joints: project this frame's BVH joints (read here, not by the page) with the page's camera.
        const auto& panel = layout["panels"][0];
        const std::vector<double> m = panel["view_projection"].get<std::vector<double>>();
        const double left = panel["left"], top = panel["top"], width = panel["width"], height = panel["height"];
        const auto colour = hex_colour(layout["colours"][panel["track"].get<int>()].get<std::string>());
        int on_skeleton = 0;
        for (int j = 0; j < J; ++j) {
            const Eigen::Vector3d p = positions[size_t(frame * J + j)];
            double clip[4];
            for (int r = 0; r < 4; ++r) clip[r] = m[size_t(r)] * p.x() + m[size_t(4 + r)] * p.y() + m[size_t(8 + r)] * p.z() + m[size_t(12 + r)];
            ASSERT_GT(clip[3], 0.1) << "joint " << j << " behind the camera";
            const int x = int(std::lround(left + (clip[0] / clip[3] + 1) / 2 * width));
            const int y = int(std::lround(top + (1 - clip[1] / clip[3]) / 2 * height));
            ASSERT_TRUE(x > left && x < left + width && y > top && y < top + height) << "joint " << j << " outside the view";
            const uint8_t* px = img.at(x, y);
            if (near_colour(px, colour, 40)) {
                ++on_skeleton;
            } else {
                ADD_FAILURE() << "joint " << j << " at (" << x << ", " << y << ") has colour " << int(px[0]) << "," << int(px[1]) << "," << int(px[2]);
            }
        }
        EXPECT_EQ(on_skeleton, J);
        // The skeleton colour is the exception in the view, not everywhere (else the check above proves nothing).
        long coloured = 0, total = 0;
        for (int y = int(top); y < int(top + height); y += 2)
            for (int x = int(left); x < int(left + width); x += 2, ++total) coloured += near_colour(img.at(x, y), colour, 40);
        EXPECT_LT(double(coloured) / double(total), 0.05);

        // Pressure cells: sampled at five points inside each cell (the CoP cross may cover its centre).
        ASSERT_EQ(layout["stance"][stance_foot], true);
        ASSERT_EQ(layout["stance"][1 - stance_foot], false);
        int loaded = 0;
        for (int foot = 0; foot < 2; ++foot)
            for (int k = 0; k < 16; ++k) {
                const auto& cell = layout["insole_cells"][foot][k];
                const double cx = cell["x"], cy = cell["y"], r = cell["radius"].get<double>() * 0.5;
                int coloured_points = 0, grey_points = 0;
                for (const auto& [dx, dy] : {std::pair<double, double>{0, 0}, {r, 0}, {-r, 0}, {0, r}, {0, -r}}) {
                    const uint8_t* px = img.at(int(std::lround(cx + dx)), int(std::lround(cy + dy)));
                    coloured_points += saturation(px) >= 60;
                    grey_points += near_colour(px, {206, 210, 216}, 14);
                }
                const float p = sequence.insoles(frame, foot * 25 + k);
                if (foot == stance_foot && p >= 3.f) {
                    ++loaded;
                    EXPECT_GE(coloured_points, 3) << "foot " << foot << " cell " << k + 1 << " (" << p << " N/cm²) is not coloured";
                }
                if (foot != stance_foot) {
                    EXPECT_EQ(grey_points, 5) << "foot " << foot << " (swing) cell " << k + 1 << " is coloured";
                }
            }
        EXPECT_GE(loaded, 3) << "the stance foot should have several loaded cells";
    }
}
