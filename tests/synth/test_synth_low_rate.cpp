// Synthesis from 24/30 fps mocap and fast motion: every shared clip at 24 or 30 fps with locomotion
// gets insoles whose vertical force averages body weight over whole gait cycles, whose feet both take
// stances, alternately, and whose flight phases come only in runs. Prints the worst clip per check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "step2motion/kinematics/motion.hpp"
#include "step2motion/synth/gait_stats.hpp"
#include "synth_helpers.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {

constexpr double kG = 9.80665;

double frame_time_s(const fs::path& bvh) {
    std::ifstream in(bvh);
    for (std::string line; std::getline(in, line);)
        if (line.find("Frame Time") != std::string::npos) return std::stod(line.substr(line.find(':') + 1));
    return 0;
}

// Horizontal root speed (m/s), centred over 0.5 s, per frame.
std::vector<double> root_speed(const io::Motion& m) {
    const int n = m.frames, half = std::max(1, static_cast<int>(std::lround(0.25 * m.fps)));
    std::vector<double> v(static_cast<size_t>(n), 0);
    for (int f = 0; f < n; ++f) {
        const int a = std::max(0, f - half), b = std::min(n - 1, f + half);
        if (b <= a) continue;
        Eigen::Vector3d d = m.translation(b, 0) - m.translation(a, 0);
        d.y() = 0;
        v[static_cast<size_t>(f)] = d.norm() / ((b - a) / m.fps);
    }
    return v;
}

struct Worst {
    double value = -1;
    std::string clip;
    void add(double v, const std::string& c) {
        if (v > value) value = v, clip = c;
    }
};

}  // namespace

TEST(SynthLowRate, LocomotionClipsHaveBodyWeightAlternatingStancesAndFlightOnlyInRuns) {
    S2M_REQUIRE_SHARED();
    const fs::path mocap = test::shared_dir() / "data" / "mocap";
    const std::pair<const char*, const char*> sources[] = {
        {"cmu-16-cuts", "cmu"}, {"cmu-69", "cmu"}, {"snu-woody2", "snu"}, {"snu-basketball", "snu"}};
    int clips = 0, checked = 0, failures = 0;
    Worst force_error, alternation_error, supported_flight;
    for (const auto& [folder, map] : sources) {
        std::vector<fs::path> files;
        for (const auto& e : fs::recursive_directory_iterator(mocap / folder))
            if (e.path().extension() == ".bvh") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& path : files) {
            const double dt = frame_time_s(path);
            if (!(dt > 1.0 / 31 && dt < 1.0 / 23)) continue;  // 24 and 30 fps only
            ++clips;
            const std::string name = fs::relative(path, mocap).string();
            io::Motion canonical;
            try {
                canonical = test::canonical_from_bvh(path.string(), map);
            } catch (const std::exception&) {
                continue;  // a skeleton its preset does not fit (none at present)
            }
            // Locomotion: the root moving faster than 0.5 m/s for at least 2 s, and both feet carried
            // along (each toe travels 2 m or more; a push-recovery clip that steps with one foot only
            // is not gait).
            const auto speed = root_speed(canonical);
            std::vector<double> moving;
            for (double s : speed)
                if (s > 0.5) moving.push_back(s);
            if (moving.size() < 2 * canonical.fps) continue;
            const std::vector<Eigen::Vector3d> pos = kin::forward_kinematics(canonical);
            double toe_travel_m[2] = {0, 0};
            for (int f = 1; f < canonical.frames; ++f)
                for (int s = 0; s < 2; ++s) {
                    const int toe = s == 0 ? kin::LeftToeBase : kin::RightToeBase;
                    Eigen::Vector3d d = pos[size_t(f) * kin::kNumJoints + toe] - pos[size_t(f - 1) * kin::kNumJoints + toe];
                    d.y() = 0;
                    toe_travel_m[s] += d.norm();
                }
            if (std::min(toe_travel_m[0], toe_travel_m[1]) < 2) continue;
            std::sort(moving.begin(), moving.end());
            const double median_speed = moving[moving.size() / 2];
            synth::SynthOptions opt;
            opt.name = name;
            synth::SynthDiagnostics diag;
            const io::MoticonRecording rec = synth::synthesize_insoles(canonical, opt, io::default_sensor_layout(), &diag);
            const double bw = opt.weight_kg * kG;
            const synth::GaitStats g = synth::gait_statistics(rec, bw);
            ++checked;
            // Mean vertical force over whole gait cycles (heel strike to heel strike).
            const double force_err = std::abs(g.mean_total_force_bw - 1);
            force_error.add(force_err, name);
            // Both feet take stances, and consecutive heel strikes mostly change foot.
            std::vector<std::pair<int, int>> strikes;
            for (int s = 0; s < 2; ++s)
                for (const auto& st : g.feet[s].stances)
                    if (st.begin > 0) strikes.push_back({st.begin, s});
            std::sort(strikes.begin(), strikes.end());
            int same = 0;
            for (size_t k = 1; k < strikes.size(); ++k) same += strikes[k].second == strikes[k - 1].second;
            const double same_fraction = strikes.size() > 1 ? double(same) / double(strikes.size() - 1) : 1.0;
            alternation_error.add(same_fraction, name);
            // Flight only in runs and jumps: neither foot loaded while the centre of mass says the body
            // is supported (the mocap's own vertical force above half the body weight) is spurious.
            int spurious = 0;
            for (int i = 0; i < rec.frames(); ++i)
                spurious += rec.feet[0].total_force_n(i) < 0.05 * bw && rec.feet[1].total_force_n(i) < 0.05 * bw &&
                            diag.body_force_n[size_t(i)] > 0.5 * bw;
            const double spurious_fraction = double(spurious) / rec.frames();
            supported_flight.add(spurious_fraction, name);
            const bool ok = force_err <= 0.15 && g.feet[0].stances.size() > 0 && g.feet[1].stances.size() > 0 &&
                            same_fraction <= 0.35 && spurious_fraction <= 0.02;
            if (!ok) {
                ++failures;
                ADD_FAILURE() << name << ": " << rec.frames() << " samples, median speed " << median_speed << " m/s, mean force "
                              << g.mean_total_force_bw << " BW, stances L " << g.feet[0].stances.size() << " R "
                              << g.feet[1].stances.size() << ", same-foot strikes " << same_fraction << ", flight "
                              << g.flight_fraction << " (while supported: " << spurious_fraction << ")";
            }
        }
    }
    std::printf("24/30 fps clips: %d, with locomotion: %d, failing: %d\n", clips, checked, failures);
    std::printf("worst |mean force - BW|: %.3f BW (%s)\n", force_error.value, force_error.clip.c_str());
    std::printf("worst share of same-foot consecutive strikes: %.2f (%s)\n", alternation_error.value, alternation_error.clip.c_str());
    std::printf("worst share of flight while the body is supported: %.3f (%s)\n", supported_flight.value, supported_flight.clip.c_str());
    EXPECT_GT(checked, 100);
}
