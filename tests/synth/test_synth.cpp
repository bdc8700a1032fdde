// The insole synthesiser: standing, walking and running physics, noise, the written dataset.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/synth/dataset.hpp"
#include "step2motion/synth/gait_stats.hpp"
#include "synth_helpers.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using s2m::test::project_data;
using s2m::test::shared_dir;
using s2m::test::synth_clip;

namespace {

constexpr double kG = 9.80665;

std::string bundled(const std::string& clip) { return (project_data() / "mocap" / "cmu" / (clip + ".bvh")).string(); }

// A motionless body: the canonical CMU skeleton in its rest pose (feet flat, legs apart), turned and
// moved away from the origin so that nothing depends on the world frame.
s2m::io::Motion standing_still(int frames) {
    s2m::io::Motion walk = s2m::test::canonical_from_bvh(bundled("07_01"));
    s2m::io::Motion m;
    m.skeleton = walk.skeleton;
    m.fps = 120;
    m.resize(frames);
    const s2m::Quat yaw(Eigen::AngleAxisd(0.65, Eigen::Vector3d::UnitY()));
    for (int f = 0; f < frames; ++f) {
        m.rotation(f, 0) = yaw;
        m.translation(f, 0) = Eigen::Vector3d(1.3, 0.95, -2.1);
    }
    return m;
}

double mean_total_force(const s2m::io::MoticonRecording& rec) {
    double sum = 0;
    for (int i = 0; i < rec.frames(); ++i) sum += rec.feet[0].total_force_n(i) + rec.feet[1].total_force_n(i);
    return sum / rec.frames();
}

std::vector<std::string> clips(const std::string& prefix, const std::string& bundled_clip) {
    std::vector<std::string> out{bundled(bundled_clip)};
    if (!shared_dir().empty())
        for (const auto& e : fs::directory_iterator(shared_dir() / "data" / "mocap" / "cmu"))
            if (e.path().filename().string().rfind(prefix, 0) == 0 && e.path().extension() == ".bvh") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(SynthStanding, AccelerometerReadsOneGUpAndForceIsBodyWeight) {
    const s2m::io::Motion m = standing_still(240);
    for (double weight : {55.0, 70.0, 95.0}) {
        s2m::synth::SynthOptions opt;
        opt.weight_kg = weight;
        s2m::synth::SynthDiagnostics diag;
        const auto rec = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout(), &diag);
        ASSERT_EQ(rec.frames(), 200);  // 240 frames at 120 Hz = 2 s at 100 Hz
        const double bw = weight * kG;
        for (int i = 0; i < rec.frames(); ++i) {
            for (int s = 0; s < 2; ++s) {
                const auto& foot = rec.feet[s];
                EXPECT_NEAR(foot.acceleration_g(i, 0), 0.0, 0.02);
                EXPECT_NEAR(foot.acceleration_g(i, 1), 0.0, 0.02);
                EXPECT_NEAR(foot.acceleration_g(i, 2), 1.0, 0.02);
                EXPECT_NEAR(foot.angular_rate_deg_s.row(i).norm(), 0.0, 0.1);
                // Both feet carry a real share of the weight.
                EXPECT_GT(foot.total_force_n(i), 0.25 * bw);
            }
            const double total = rec.feet[0].total_force_n(i) + rec.feet[1].total_force_n(i);
            ASSERT_NEAR(total, bw, 0.03 * bw) << "frame " << i << ", weight " << weight;
        }
        // Pressure is spread over the sole: heel and forefoot cells both loaded.
        const auto& p = rec.feet[1].pressure_n_cm2;
        EXPECT_GT(p(100, 0) + p(100, 1), 0.0);
        EXPECT_GT(p(100, 9) + p(100, 10), 0.0);
        EXPECT_LT(diag.ground_slope, 1e-6);
    }
}

// An IMU mounted 5 degrees toes-down (or turned 8 degrees about the sole's normal) in the insole: gravity
// shows on its x axis (on its y axis for a pitch after the yaw), on both feet alike.
TEST(SynthStanding, ImuMountingTurnsTheReadings) {
    const s2m::io::Motion m = standing_still(240);
    s2m::synth::SynthOptions opt;
    opt.imu_mount_pitch_deg = {5, 5};
    const auto pitched = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout());
    opt.imu_mount_yaw_deg = {8, 8};
    const auto both = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout());
    for (int s = 0; s < 2; ++s) {
        // Toes down: the x axis points a little down, so the specific force (+1 g up) reads negative on x.
        EXPECT_NEAR(pitched.feet[s].acceleration_g(100, 0), -std::sin(5 * M_PI / 180), 0.01) << s;
        EXPECT_NEAR(pitched.feet[s].acceleration_g(100, 2), std::cos(5 * M_PI / 180), 0.01) << s;
        // Yaw about the sole's normal, then pitch about the turned y: gravity still along the turned x.
        EXPECT_NEAR(both.feet[s].acceleration_g(100, 0), -std::sin(5 * M_PI / 180), 0.01) << s;
        EXPECT_NEAR(both.feet[s].acceleration_g(100, 1), 0.0, 0.01) << s;
    }
}

TEST(SynthStanding, NoiseIsDriftFreeBiasedAndReproducible) {
    const s2m::io::Motion m = standing_still(120 * 60);  // one minute
    s2m::synth::SynthOptions opt;
    opt.noise = s2m::synth::NoiseModel::Realistic;
    opt.seed = 7;
    const auto rec = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout());
    const auto again = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout());
    opt.seed = 8;
    const auto other = s2m::synth::synthesize_insoles(m, opt, s2m::io::default_sensor_layout());
    const int n = rec.frames();
    int missing = 0, differs = 0;
    for (int s = 0; s < 2; ++s) {
        const auto& foot = rec.feet[s];
        Eigen::Vector3d first = Eigen::Vector3d::Zero(), second = Eigen::Vector3d::Zero();
        int n1 = 0, n2 = 0;
        double sq = 0;
        for (int i = 0; i < n; ++i) {
            if (!foot.valid[static_cast<size_t>(i)]) {
                ++missing;
                EXPECT_TRUE(std::isnan(foot.total_force_n(i)));
                continue;
            }
            const Eigen::Vector3d g = foot.angular_rate_deg_s.row(i).cast<double>().transpose();
            (i < n / 2 ? first : second) += g;
            (i < n / 2 ? n1 : n2)++;
            sq += (foot.acceleration_g(i, 2) - 1.0) * (foot.acceleration_g(i, 2) - 1.0);
            differs += !(foot.angular_rate_deg_s(i, 0) == other.feet[s].angular_rate_deg_s(i, 0));
            ASSERT_EQ(foot.angular_rate_deg_s(i, 0), again.feet[s].angular_rate_deg_s(i, 0));
        }
        first /= n1;
        second /= n2;
        // Bias, but no drift: the two halves of the minute agree.
        EXPECT_LT((first - second).norm(), 0.3);
        EXPECT_GT(first.norm(), 0.05);
        EXPECT_GT(std::sqrt(sq / (n1 + n2)), 0.003);  // noisy
    }
    EXPECT_GT(missing, 0);
    EXPECT_LT(missing, 2 * n / 20);  // short drop-outs only
    EXPECT_GT(differs, n / 2);       // another seed, other noise
}

TEST(SynthWalking, AlternatingStanceBodyWeightAndHeelToToe) {
    int stances = 0, forward = 0;
    for (const std::string& path : clips("07_", "07_01")) {
        SCOPED_TRACE(path);
        s2m::synth::SynthOptions opt;
        const auto clip = synth_clip(path, opt);
        const double bw = opt.weight_kg * kG;
        const auto g = s2m::synth::gait_statistics(clip.rec, bw);
        // Mean vertical force over the clip = body weight within 10 %.
        EXPECT_NEAR(mean_total_force(clip.rec) / bw, 1.0, 0.10);
        // Heel strikes alternate between the feet, with double support and no flight.
        std::vector<std::pair<int, int>> strikes;
        for (int s = 0; s < 2; ++s)
            for (const auto& st : g.feet[s].stances)
                if (st.begin > 0) strikes.push_back({st.begin, s});
        std::sort(strikes.begin(), strikes.end());
        ASSERT_GE(strikes.size(), 2u);
        for (size_t k = 1; k < strikes.size(); ++k) EXPECT_NE(strikes[k].second, strikes[k - 1].second);
        EXPECT_GT(g.double_support_fraction, 0.05);
        EXPECT_LT(g.double_support_fraction, 0.5);
        EXPECT_LT(g.flight_fraction, 0.02);
        for (int s = 0; s < 2; ++s) {
            for (const auto& st : g.feet[s].stances) {
                if (!st.complete) continue;
                EXPECT_GE(st.peak_force_n / bw, 0.9);
                EXPECT_LE(st.peak_force_n / bw, 1.5);
                ++stances;
                forward += st.cop_x_end - st.cop_x_start > 0.15;
            }
        }
    }
    ASSERT_GE(stances, 1);
    std::printf("COP heel->toes in %d of %d complete stances\n", forward, stances);
    EXPECT_GE(forward, 0.7 * stances);
}

TEST(SynthRunning, HasFlightPhases) {
    for (const std::string& path : clips("09_0", "09_01")) {
        SCOPED_TRACE(path);
        s2m::synth::SynthOptions opt;
        const auto clip = synth_clip(path, opt);
        const double bw = opt.weight_kg * kG;
        const auto g = s2m::synth::gait_statistics(clip.rec, bw);
        // Flight: stretches where neither foot carries weight, between stances.
        int flight = 0;
        for (int i = 0; i < clip.rec.frames(); ++i)
            flight += clip.rec.feet[0].total_force_n(i) < 0.05 * bw && clip.rec.feet[1].total_force_n(i) < 0.05 * bw;
        EXPECT_GT(g.flight_fraction, 0.1);
        EXPECT_GT(flight, 5);
    }
}

TEST(SynthDataset, RoundTripThroughTheMoticonReader) {
    s2m::synth::SynthOptions opt;
    opt.noise = s2m::synth::NoiseModel::Realistic;
    opt.insole_size = 7;
    const auto clip = synth_clip(bundled("09_01"), opt);
    const fs::path dir = s2m::test::temp_dir("synth-roundtrip");
    const auto paths = s2m::synth::write_sequence(dir.string(), "S3", "09_01", clip.rec, clip.canonical);
    const auto back = s2m::io::read_moticon(paths.insoles);
    ASSERT_EQ(back.frames(), clip.rec.frames());
    EXPECT_EQ(back.insole_size, 7);
    EXPECT_DOUBLE_EQ(back.rate_hz, 100);
    const auto& layout = s2m::io::default_sensor_layout();
    const auto areas = layout.areas_cm2(7);
    double sq = 0;
    int rows = 0, missing = 0;
    for (int s = 0; s < 2; ++s) {
        const auto& a = clip.rec.feet[s];
        const auto& b = back.feet[s];
        ASSERT_EQ(a.valid, b.valid);
        for (int i = 0; i < back.frames(); ++i) {
            if (!a.valid[static_cast<size_t>(i)]) {
                ++missing;
                continue;
            }
            for (int k = 0; k < 16; ++k) ASSERT_EQ(a.pressure_n_cm2(i, k), b.pressure_n_cm2(i, k));
            for (int c = 0; c < 3; ++c) {
                ASSERT_NEAR(a.acceleration_g(i, c), b.acceleration_g(i, c), 1e-6);
                ASSERT_NEAR(a.angular_rate_deg_s(i, c), b.angular_rate_deg_s(i, c), 1e-4);
            }
            ASSERT_EQ(a.total_force_n(i), b.total_force_n(i));
            ASSERT_NEAR(a.center_of_pressure(i, 0), b.center_of_pressure(i, 0), 1e-6);
            ASSERT_NEAR(a.center_of_pressure(i, 1), b.center_of_pressure(i, 1), 1e-6);
            // As in the real files: total force = sum of pressure x area (rounded to whole newtons),
            // centre of pressure = area-weighted centroid of the cells.
            double f = 0, cx = 0;
            for (int k = 0; k < 16; ++k) {
                f += b.pressure_n_cm2(i, k) * areas[static_cast<size_t>(k)];
                cx += b.pressure_n_cm2(i, k) * areas[static_cast<size_t>(k)] * layout.x_anterior[static_cast<size_t>(k)];
            }
            sq += (f - b.total_force_n(i)) * (f - b.total_force_n(i));
            ++rows;
            // The exporter writes (0, 0) up to 50 N.
            EXPECT_NEAR(f > s2m::io::kCopMinForce_n ? cx / f : 0.0, b.center_of_pressure(i, 0), 1e-5);
        }
    }
    EXPECT_GT(missing, 0);  // the realistic noise wrote empty fields, and they came back as missing
    EXPECT_LT(std::sqrt(sq / rows), 0.5);
    // The sync file covers both streams from their first frame.
    const std::string sync = s2m::read_text_file(paths.sync);
    EXPECT_EQ(sync, "name,start,end\nleft_insole,0," + std::to_string(back.frames()) + "\nright_insole,0," +
                        std::to_string(back.frames()) + "\nmocap,0," + std::to_string(clip.canonical.frames) + "\n");
    const auto bvh = s2m::io::read_bvh(paths.mocap);
    EXPECT_EQ(bvh.num_frames, clip.canonical.frames);
}

// Filter-frame clips (insole IMU orientation, as in the wild) must give the same world as the mocap
// the poses come from: the filter's arbitrary heading reference is turned onto the mocap world. The
// walk is turned by 70 degrees first so that the mocap heading cannot agree with the filter's by luck.
TEST(SynthDataset, FilterFrameClipsShareTheMocapWorld) {
    s2m::synth::SynthOptions opt;
    auto clip = synth_clip(bundled("07_01"), opt);
    const s2m::Quat turn(Eigen::AngleAxisd(70 * M_PI / 180, Eigen::Vector3d::UnitY()));
    for (int f = 0; f < clip.canonical.frames; ++f) {
        clip.canonical.rotation(f, 0) = turn * clip.canonical.rotation(f, 0);
        clip.canonical.translation(f, 0) = turn * clip.canonical.translation(f, 0);
    }
    clip.rec = s2m::synth::synthesize_insoles(clip.canonical, opt, s2m::io::default_sensor_layout());
    const fs::path dir = s2m::test::temp_dir("synth-filter-world");
    const auto paths = s2m::synth::write_sequence(dir.string(), "S1", "walk", clip.rec, clip.canonical);
    s2m::io::RecordingSource src;
    src.name = "walk";
    src.insoles = paths.insoles;
    src.sync = paths.sync;
    src.mocap = paths.mocap;
    src.map = "step2motion";
    s2m::imu::ClipOptions o;
    const auto mocap = s2m::imu::build_clip(src, o);
    o.imu_frame = s2m::imu::ImuFrameMode::Filter;
    const auto filter = s2m::imu::build_clip(src, o);
    ASSERT_EQ(mocap.frames(), filter.frames());
    // Stored insole headings (mocap frame: the mocap foot's insole axis). While the foot is loaded
    // (flat) the filter's, turned like its accelerations, and the poses' foot -> toe directions (the
    // stand-in for older files) agree with them; in swing a pitched foot's heading is ill-defined.
    ASSERT_EQ(mocap.insole_heading_rad.rows(), mocap.frames());
    ASSERT_EQ(filter.insole_heading_rad.rows(), filter.frames());
    const Eigen::MatrixXf from_poses = s2m::imu::insole_heading_from_poses(mocap.poses);
    std::vector<double> filter_err_deg, poses_err_deg;
    const auto err_deg = [](double a, double b) { return std::abs(std::remainder(a - b, 2 * M_PI)) * 180 / M_PI; };
    for (int r = 0; r < mocap.frames(); ++r)
        for (int foot = 0; foot < 2; ++foot)
            if (mocap.insoles(r, foot * s2m::io::kFootChannels + s2m::io::kForceOffset) > s2m::imu::kLoadedForceN) {
                filter_err_deg.push_back(err_deg(filter.insole_heading_rad(r, foot), mocap.insole_heading_rad(r, foot)));
                poses_err_deg.push_back(err_deg(from_poses(r, foot), mocap.insole_heading_rad(r, foot)));
            }
    for (auto* e : {&filter_err_deg, &poses_err_deg}) {
        ASSERT_GT(e->size(), 20u);
        std::sort(e->begin(), e->end());
        std::printf("loaded feet: %s heading - the mocap insole axis: median %.2f, worst %.2f deg\n",
                    e == &filter_err_deg ? "filter" : "foot-to-toe", (*e)[e->size() / 2], e->back());
        EXPECT_LT((*e)[e->size() / 2], 8.0);
    }
    // Horizontal world accelerations of both feet: rms difference against rms size, and the yaw that
    // would still best turn the filter's onto the mocap's: the worlds are aligned on the loaded feet's
    // headings, and in swing (most of the acceleration) the filter's yaw strays by some degrees.
    double diff = 0, size = 0;
    for (int r = 0; r < mocap.frames(); ++r)
        for (int foot = 0; foot < 2; ++foot)
            for (int axis : {0, 2}) {
                const int c = foot * s2m::io::kFootChannels + s2m::io::kAccOffset + axis;
                diff += std::pow(mocap.insoles(r, c) - filter.insoles(r, c), 2);
                size += std::pow(mocap.insoles(r, c), 2);
            }
    std::printf("filter vs mocap world: horizontal acceleration rms difference %.3f of rms %.3f g\n",
                std::sqrt(diff / size) * std::sqrt(size / (4.0 * mocap.frames())), std::sqrt(size / (4.0 * mocap.frames())));
    for (int foot = 0; foot < 2; ++foot) {
        double sxx = 0, sxz = 0;
        for (int r = 0; r < mocap.frames(); ++r) {
            const int c = foot * s2m::io::kFootChannels + s2m::io::kAccOffset;
            const std::complex<double> a(mocap.insoles(r, c + 2), mocap.insoles(r, c)), b(filter.insoles(r, c + 2), filter.insoles(r, c));
            const auto p = a * std::conj(b);
            sxx += p.real(); sxz += p.imag();
        }
        const double residual_deg = std::atan2(sxz, sxx) * 180 / M_PI;
        std::printf("foot %d: yaw left between filter and mocap worlds %.2f deg\n", foot, residual_deg);
        EXPECT_LT(std::abs(residual_deg), 15.0);
    }
    // What remains is the filter's tilt error on a short clip with few still phases; unaligned worlds
    // (70 degrees apart) would differ by more than the accelerations themselves.
    EXPECT_LT(std::sqrt(diff / size), 0.8);
}

TEST(SynthDataset, SubjectsCsvMergesAndRefusesAChangedWeight) {
    const fs::path dir = s2m::test::temp_dir("synth-subjects");
    s2m::synth::SubjectRow a;
    a.id = "S1";
    a.height_cm = 170;
    a.weight_kg = 70;
    a.insole_size = 6;
    s2m::synth::merge_subject(dir.string(), a);
    s2m::synth::SubjectRow b = a;
    b.id = "S2";
    b.weight_kg = 82.5;
    s2m::synth::merge_subject(dir.string(), b);
    s2m::synth::merge_subject(dir.string(), a);  // again: unchanged
    const auto rows = s2m::synth::parse_subjects_csv(s2m::read_text_file((dir / "subjects.csv").string()), "subjects.csv");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].id, "S2");
    EXPECT_DOUBLE_EQ(rows[1].weight_kg, 82.5);
    a.weight_kg = 71;
    EXPECT_THROW(s2m::synth::merge_subject(dir.string(), a), s2m::InputError);
    EXPECT_THROW(s2m::synth::parse_subjects_csv("Id,Gender\nS1,M\n", "x.csv"), s2m::InputError);
}

TEST(SynthCli, WritesAndExtendsADataset) {
    if (!s2m::test::have_cli()) GTEST_SKIP() << "no s2m binary in this build";
    const fs::path dir = s2m::test::temp_dir("synth-cli");
    std::string out;
    ASSERT_EQ(s2m::test::run_s2m("synth " + bundled("07_01") + " --map cmu --out " + dir.string() + " --weight-kg 80", &out), 0) << out;
    ASSERT_EQ(s2m::test::run_s2m("synth " + bundled("09_01") + " " + bundled("05_03") +
                                     " --map cmu --noise realistic --seed 3 --out " + dir.string() + " --weight-kg 80",
                                 &out),
              0)
        << out;
    for (const char* seq : {"07_01", "09_01", "05_03"}) {
        const auto p = s2m::synth::sequence_paths(dir.string(), "S1", seq);
        EXPECT_TRUE(fs::exists(p.insoles) && fs::exists(p.sync) && fs::exists(p.mocap)) << seq;
    }
    // Realistic noise: one insole connects late, written as empty fields like the real exports.
    const std::string text = s2m::read_text_file(s2m::synth::sequence_paths(dir.string(), "S1", "09_01").insoles);
    EXPECT_NE(text.find("\t\t"), std::string::npos);
    const auto rows = s2m::synth::parse_subjects_csv(s2m::read_text_file((dir / "subjects.csv").string()), "subjects.csv");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_DOUBLE_EQ(rows[0].weight_kg, 80);
    // The dataset is what `s2m preprocess` reads (UnderPressure layout, sync files, subjects.csv).
    ASSERT_EQ(s2m::test::run_s2m("preprocess --input " + dir.string() + " --out " + (dir / "synth.h5").string(), &out), 0) << out;
    EXPECT_TRUE(fs::exists(dir / "synth.h5"));
    EXPECT_GT(rows[0].height_cm, 150);
    EXPECT_LT(rows[0].height_cm, 200);
    // Bad input: one line, exit code 2.
    EXPECT_EQ(s2m::test::run_s2m("synth " + bundled("07_01") + " --map cmu --out " + dir.string() + " --weight-kg 60", &out), 2);
    EXPECT_NE(out.find("subjects.csv"), std::string::npos) << out;
    EXPECT_EQ(s2m::test::run_s2m("synth /nonexistent.bvh --map cmu --out " + dir.string(), &out), 2);
    EXPECT_EQ(s2m::test::run_s2m("synth " + bundled("07_01") + " --map cmu --noise loud --out " + dir.string(), &out), 2);
    const fs::path bad = dir / "bad.bvh";
    std::ofstream(bad) << "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n";
    EXPECT_EQ(s2m::test::run_s2m("synth " + bad.string() + " --map cmu --out " + dir.string(), &out), 2);
    EXPECT_NE(out.find("bad.bvh:"), std::string::npos) << out;
}

// --variants N: N virtual people of other heights, masses and insole sizes perform every clip;
// reproducible, and each person keeps one body across clips.
TEST(SynthCli, VariantsArePeopleOfOtherSizes) {
    if (!s2m::test::have_cli()) GTEST_SKIP() << "no s2m binary in this build";
    const fs::path dir = s2m::test::temp_dir("synth-variants"), again = s2m::test::temp_dir("synth-variants-again");
    std::string out;
    for (const fs::path& d : {dir, again})
        ASSERT_EQ(s2m::test::run_s2m("synth " + bundled("07_01") + " " + bundled("09_01") + " --map cmu --variants 4 --seed 5 "
                                     "--noise realistic --out " + d.string(), &out), 0) << out;
    const auto rows = s2m::synth::parse_subjects_csv(s2m::read_text_file((dir / "subjects.csv").string()), "subjects.csv");
    ASSERT_EQ(rows.size(), 4u);
    std::set<int> sizes;
    for (int v = 1; v <= 4; ++v) {
        const auto& r = rows[static_cast<size_t>(v - 1)];
        EXPECT_EQ(r.id, "S1-v" + std::to_string(v));
        const auto drawn = s2m::synth::draw_variant(5, "S1", v);
        EXPECT_NEAR(r.height_cm, 100 * drawn.height_m, 4.0) << r.id;  // the rest pose's height vs the standing height
        EXPECT_GE(r.height_cm, 146);
        EXPECT_LE(r.height_cm, 199);
        const double bmi = r.weight_kg / std::pow(drawn.height_m, 2);
        EXPECT_GE(bmi, 19 - 1e-9);
        EXPECT_LE(bmi, 30 + 1e-9);
        EXPECT_EQ(r.insole_size, drawn.insole_size);
        sizes.insert(r.insole_size);
        for (const char* seq : {"07_01", "09_01"}) {
            const auto p = s2m::synth::sequence_paths(dir.string(), r.id, seq);
            ASSERT_TRUE(fs::exists(p.insoles)) << p.insoles;
            // Equal but for the "# Start time" line (the wall clock of each run).
            auto without_start = [](std::string t) {
                const auto at = t.find("# Start time");
                if (at != std::string::npos) t.erase(at, t.find('\n', at) - at);
                return t;
            };
            EXPECT_EQ(without_start(s2m::read_text_file(p.insoles)),
                      without_start(s2m::read_text_file(s2m::synth::sequence_paths(again.string(), r.id, seq).insoles)));
        }
    }
    EXPECT_GE(sizes.size(), 2u);
    EXPECT_FALSE(fs::exists(s2m::synth::sequence_paths(dir.string(), "S1", "07_01").insoles));  // only the variants
    // preprocess keeps one motion's performances on one side of the validation split (no leak from
    // training into validation through a resized copy): 8 clips, half to validation = one motion.
    const std::string h5 = (dir / "variants.h5").string();
    ASSERT_EQ(s2m::test::run_s2m("-q preprocess --input " + dir.string() + " --out " + h5 + " --val-fraction 0.5 --seed 3", &out), 0)
        << out;
    std::map<std::string, std::set<std::string>> splits;
    for (const auto& c : s2m::io::read_dataset(h5).clips) splits[c.name.substr(c.name.find('/') + 1)].insert(c.split);
    ASSERT_EQ(splits.size(), 2u);
    EXPECT_EQ(splits["07_01"].size(), 1u);
    EXPECT_EQ(splits["09_01"].size(), 1u);
    EXPECT_NE(*splits["07_01"].begin(), *splits["09_01"].begin());
    EXPECT_EQ(s2m::synth::insole_size_for_foot(0.243), 4);
    EXPECT_EQ(s2m::synth::insole_size_for_foot(0.243 + 2 * 0.01333), 6);
}

// The heading frame's yaw per window (imu::window_heading_rad) against the hips' facing, on turning
// walks of another studio: from the mocap feet (imu_frame mocap) and from the insole filter alone
// (filter). The left insole's IMU axes must be those of the right one (y to the body's left); a
// mirrored left IMU turns the wrong way under the filter (median 30-37 degrees off before).
TEST(SynthDataset, WindowHeadingFollowsTheHipsOnTurns) {
    S2M_REQUIRE_SHARED();
    s2m::synth::SynthOptions opt;
    opt.noise = s2m::synth::NoiseModel::Realistic;
    for (const char* f : {"woddy2_walk_normal_left_90.bvh", "woddy2_walk_normal_right_90.bvh", "woddy2_walk_normal_left_180.bvh"}) {
        const auto path = s2m::test::shared_dir() / "data/mocap/snu-woody2/Walking/lastmotion" / f;
        const s2m::io::Bvh bvh = s2m::io::read_bvh(path.string());
        const s2m::kin::JointMap map = s2m::kin::load_joint_map("snu");
        const s2m::io::Motion m = s2m::io::motion_from_bvh(bvh, map.scale_m_per_unit ? *map.scale_m_per_unit : s2m::io::detect_bvh_scale(bvh));
        const auto canon = s2m::kin::retarget_to_canonical(m, map, f);
        const auto rec = s2m::synth::synthesize_insoles(canon, opt, s2m::io::default_sensor_layout());
        const auto paths = s2m::synth::write_sequence(s2m::test::temp_dir("synth-turn").string(), "S1", "walk", rec, canon);
        s2m::io::RecordingSource src;
        src.name = "walk";
        src.insoles = paths.insoles;
        src.sync = paths.sync;
        src.mocap = paths.mocap;
        src.map = "step2motion";
        s2m::imu::ClipOptions o;
        for (auto frame : {s2m::imu::ImuFrameMode::Mocap, s2m::imu::ImuFrameMode::Filter}) {
            o.imu_frame = frame;
            const auto c = s2m::imu::build_clip(src, o);
            const s2m::io::RowMatrixXf ins = c.insoles;
            const Eigen::Matrix<float, Eigen::Dynamic, 2, Eigen::RowMajor> h = c.insole_heading_rad;
            const int W = 100;
            std::vector<double> err;
            for (int s = 0; s + W <= c.frames(); s += 10) {
                const double psi = s2m::imu::window_heading_rad(ins.data() + s * 50, h.data() + s * 2, W);
                std::complex<double> body = 0;
                for (int r = s; r < s + W; ++r) {  // facing: the hips' left-right axis (LeftUpLeg - RightUpLeg) turned by -90 deg
                    const double lx = c.poses(r, 3) - c.poses(r, 15), lz = c.poses(r, 5) - c.poses(r, 17);
                    body += std::polar(1.0, std::atan2(lx, lz) - M_PI / 2);
                }
                err.push_back(std::abs(std::remainder(psi - std::arg(body), 2 * M_PI)) * 180 / M_PI);
            }
            ASSERT_FALSE(err.empty());
            std::sort(err.begin(), err.end());
            std::printf("%s, %s frame: window heading - hips facing: median %.1f, worst %.1f deg over %zu windows\n", f, c.imu_frame.c_str(),
                        err[err.size() / 2], err.back(), err.size());
            EXPECT_LT(err[err.size() / 2], frame == s2m::imu::ImuFrameMode::Mocap ? 5.0 : 25.0) << f;
        }
    }
}
