// Data-path figures: Moticon text parse speed (MB/s), and the time `s2m preprocess` needs for one
// hour of 100 Hz insoles with 240 Hz mocap (12 clips of 5 min, generated here, BVH + sync CSV).
// Targets (issue 3): >= 100 MB/s and < 10 s. `bench_data --smoke` runs the same steps on a minute of
// data (4 clips of 15 s), for the test suite: it checks that the program works, not its figures.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "step2motion/core/files.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/recordings.hpp"
#include "step2motion/io/sync.hpp"
#include "step2motion/kinematics/canonical.hpp"

using namespace s2m;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Insole channels that look like a walk: pressure in 0.25 steps, IMU, force and COP.
io::MoticonRecording synthetic_insoles(int frames, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0, 1);
    io::MoticonRecording rec;
    rec.source = "bench";
    rec.insole_size = 6;
    rec.rate_hz = 100;
    rec.header["Start time"] = "26.11.2026 10:00:00.000";
    Eigen::MatrixXf ch(frames, io::kInsoleChannels);
    for (int i = 0; i < frames; ++i) {
        rec.time_s.push_back(i / 100.0);
        for (int foot = 0; foot < 2; ++foot) {
            const int b = foot * io::kFootChannels;
            const float phase = static_cast<float>(std::sin(2 * M_PI * i / 110.0 + foot * M_PI));
            for (int c = 0; c < 16; ++c) ch(i, b + c) = std::round(std::max(0.f, 8 * phase + noise(rng)) * 4) / 4;
            for (int c = 0; c < 3; ++c) ch(i, b + io::kAccOffset + c) = (c == 2 ? 1.f : 0.f) + 0.3f * phase + 0.01f * noise(rng);
            for (int c = 0; c < 3; ++c) ch(i, b + io::kGyroOffset + c) = 100 * phase + noise(rng);
            ch(i, b + io::kForceOffset) = std::round(std::max(0.f, 600 * phase));
            ch(i, b + io::kCopOffset) = 0.2f * phase;
            ch(i, b + io::kCopOffset + 1) = 0.05f * noise(rng);
        }
    }
    io::set_insole_channels(rec, ch);
    return rec;
}

// A canonical skeleton walking in a circle at 240 Hz.
io::Motion synthetic_mocap(int frames) {
    io::Motion m;
    io::Skeleton& s = m.skeleton;
    const double off[22][3] = {{0, 0.95, 0},     {0.09, -0.05, 0},  {0, -0.42, 0},   {0, -0.42, 0},   {0, -0.06, 0.14},
                               {-0.09, -0.05, 0}, {0, -0.42, 0},    {0, -0.42, 0},   {0, -0.06, 0.14}, {0, 0.1, 0},
                               {0, 0.12, 0},     {0, 0.12, 0},      {0, 0.12, 0},    {0, 0.1, 0},     {0.04, 0.1, 0},
                               {0.12, 0, 0},     {0.28, 0, 0},      {0.25, 0, 0},    {-0.04, 0.1, 0}, {-0.12, 0, 0},
                               {-0.28, 0, 0},    {-0.25, 0, 0}};
    for (int j = 0; j < 22; ++j) {
        s.names.push_back(kin::kJointNames[static_cast<size_t>(j)]);
        s.parents.push_back(kin::kJointParents[static_cast<size_t>(j)]);
        s.offsets_m.emplace_back(off[j][0], off[j][1], off[j][2]);
        s.end_sites_m.emplace_back();
    }
    m.fps = 240;
    m.resize(frames);
    for (int f = 0; f < frames; ++f) {
        const double t = f / 240.0, w = 2 * M_PI / 1.1;
        const double heading = t * 2 * M_PI / 60;  // one circle a minute
        m.translation(f, 0) = s2m::Vec3(10 * std::sin(heading), 0.95 + 0.02 * std::sin(2 * w * t), 10 * std::cos(heading));
        m.rotation(f, 0) = s2m::Quat(Eigen::AngleAxisd(heading + M_PI / 2, s2m::Vec3::UnitY()));
        for (int j = 1; j < 22; ++j)
            m.rotation(f, j) = s2m::Quat(Eigen::AngleAxisd(0.4 * std::sin(w * t + j), s2m::Vec3::UnitX()));
    }
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    const bool smoke = argc > 1 && std::string(argv[1]) == "--smoke";
    if (argc > 2 || (argc == 2 && !smoke)) {
        std::fprintf(stderr, "usage: bench_data [--smoke]\n");
        return 2;
    }
    const fs::path dir = fs::temp_directory_path() / ("s2m_bench_data_" + std::to_string(::getpid()));
    fs::create_directories(dir);

    // 1. Moticon parse speed on one hour of exporter-formatted text.
    const std::string text = io::format_moticon(synthetic_insoles(smoke ? 6000 : 360000, 1));
    double best = 1e9;
    int frames = 0;
    for (int k = 0; k < 3; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        const io::MoticonRecording r = io::parse_moticon(text, "bench.txt");
        best = std::min(best, seconds_since(t0));
        frames = r.frames();
    }
    std::printf("moticon parse: %.1f MB in %.3f s = %.0f MB/s (%d frames at 100 Hz)\n", text.size() / 1e6, best,
                text.size() / 1e6 / best, frames);

    // The real exports, when ../shared is there (small files: per-file overheads count).
    const fs::path real = fs::path(S2M_SOURCE_DIR).parent_path() / "shared" / "data" / "moticon";
    if (fs::exists(real)) {
        std::vector<std::string> texts;
        size_t bytes = 0;
        for (const auto& e : fs::directory_iterator(real))
            if (e.path().extension() == ".txt") {
                texts.push_back(read_text_file(e.path().string()));
                bytes += texts.back().size();
            }
        const int reps = 20;
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < reps; ++k)
            for (const auto& t : texts) io::parse_moticon(t, "real.txt");
        const double t = seconds_since(t0);
        std::printf("moticon parse, the %zu real exports: %.0f MB/s\n", texts.size(), bytes * reps / 1e6 / t);
    }

    // 2. One hour of recordings: 12 clips x 5 min, 100 Hz insoles (lead 0.5 s) + 240 Hz BVH + sync.
    const int clips = smoke ? 4 : 12, clip_s = smoke ? 15 : 300;
    const auto g0 = std::chrono::steady_clock::now();
    const io::Motion mocap = synthetic_mocap(clip_s * 240);
    const io::Bvh bvh = io::bvh_from_motion(mocap);
    for (int c = 0; c < clips; ++c) {
        const std::string subject = "S" + std::to_string(c % 4 + 1), seq = "walk_" + std::to_string(c);
        fs::create_directories(dir / subject / "moticon.txt");
        fs::create_directories(dir / subject / "sync.csv");
        fs::create_directories(dir / subject / "bvh");
        io::write_moticon((dir / subject / "moticon.txt" / (seq + ".txt")).string(), synthetic_insoles((clip_s + 1) * 100, c));
        io::write_bvh((dir / subject / "bvh" / (seq + ".bvh")).string(), bvh, {5});
        io::SyncInfo sync;
        sync.left_insole = {50, 50 + clip_s * 100, 0};
        sync.right_insole = {48, 48 + clip_s * 100, 0};
        sync.mocap = {0, clip_s * 240, 0};
        write_file_atomic((dir / subject / "sync.csv" / (seq + ".csv")).string(), io::format_sync_csv(sync));
    }
    std::printf("generated %d min (%d clips) in %.1f s under %s\n", clips * clip_s / 60, clips, seconds_since(g0), dir.c_str());

    // What `s2m preprocess --input DIR --out DATA.h5` does, timed from the files to the dataset.
    const auto t0 = std::chrono::steady_clock::now();
    io::Dataset d;
    d.rate_hz = 30;
    for (int j = 0; j < 22; ++j) {
        d.joint_names.push_back(kin::kJointNames[static_cast<size_t>(j)]);
        d.joint_parents.push_back(kin::kJointParents[static_cast<size_t>(j)]);
    }
    const auto sources = io::find_recordings(dir.string());
    const auto tb = std::chrono::steady_clock::now();
    d.clips = imu::build_clips(sources, {}, available_cores());
    const double t_build = seconds_since(tb);
    for (size_t i = 0; i < sources.size(); ++i) d.clips[i].split = sources[i].subject == "S4" ? "test" : "train";
    d.stats = io::compute_norm_stats(d.clips, "train");
    const auto tw = std::chrono::steady_clock::now();
    io::write_dataset((dir / "data.h5").string(), d);
    const double t_write = seconds_since(tw), total = seconds_since(t0);
    long out_frames = 0;
    for (const auto& c : d.clips) out_frames += c.frames();
    // Where the time goes, on the first clip.
    {
        const auto srcs = io::find_recordings(dir.string());
        auto ta = std::chrono::steady_clock::now();
        const io::MoticonRecording r = io::read_moticon(srcs[0].insoles);
        const double t_moticon = seconds_since(ta);
        ta = std::chrono::steady_clock::now();
        const io::Bvh b = io::read_bvh(srcs[0].mocap);
        const double t_bvh_parse = seconds_since(ta);
        ta = std::chrono::steady_clock::now();
        const io::Motion m = io::motion_from_bvh(b, 1.0);
        const double t_motion = seconds_since(ta);
        std::printf("one clip alone: moticon read %.3f s, BVH parse %.3f s, BVH -> motion %.3f s\n", t_moticon,
                    t_bvh_parse, t_motion);
        (void)r;
        (void)m;
    }
    std::printf("preprocess %d min (100 Hz insoles + 240 Hz BVH): %.2f s (clips %.2f s on %d threads, HDF5 write %.2f s); "
                "%ld frames at 30 Hz, %.1f MB dataset\n",
                clips * clip_s / 60, total, t_build, available_cores(), t_write, out_frames, fs::file_size(dir / "data.h5") / 1e6);
    fs::remove_all(dir);
    return 0;
}
