// s2m preprocess: recordings (UnderPressure folder or JSON manifest) -> one HDF5 dataset file.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/recordings.hpp"
#include "step2motion/kinematics/canonical.hpp"

namespace {

struct PreprocessOptions {
    std::string input, out, test_subjects, imu_frame = "mocap", scale = "auto", map = "auto";
    double hz = 30, val_fraction = 0.1;
    unsigned seed = 0;
};

std::set<std::string> split_list(const std::string& s) {
    std::set<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.insert(item);
    return out;
}

}  // namespace

static std::function<int()> setup_preprocess(CLI::App& app) {
    auto opt = std::make_shared<PreprocessOptions>();
    app.add_option("--input", opt->input, "UnderPressure-layout folder or JSON manifest")->required();
    app.add_option("--out", opt->out, "output dataset (.h5)")->required();
    app.add_option("--hz", opt->hz, "target frame rate")->check(CLI::PositiveNumber);
    app.add_option("--test-subjects", opt->test_subjects, "comma-separated subjects forming the test split, e.g. S4");
    app.add_option("--val-fraction", opt->val_fraction, "share of the remaining clips held out for validation")
        ->check(CLI::Range(0.0, 0.9));
    app.add_option("--seed", opt->seed, "seed of the validation draw");
    app.add_option("--imu-frame", opt->imu_frame,
                   "world frame of the accelerations: mocap (foot orientation from mocap) or filter (insole IMU alone)")
        ->check(CLI::IsMember({"mocap", "filter"}));
    app.add_option("--scale", opt->scale, "BVH units: auto or metres per unit");
    app.add_option("--map", opt->map,
                   "joint map for mocap without one in the manifest: auto (xsens for MVNX, detected for BVH), a preset "
                   "or a JSON map file");
    return [opt]() {
        auto sources = s2m::io::find_recordings(opt->input);
        if (opt->map != "auto") {
            s2m::kin::load_joint_map(opt->map);  // fail early on a bad name or file
            for (auto& s : sources)
                if (s.map == "auto") s.map = opt->map;
        }
        const auto test_subjects = split_list(opt->test_subjects);
        std::set<std::string> known_subjects;
        for (const auto& s : sources) known_subjects.insert(s.subject);
        for (const auto& t : test_subjects)
            if (!known_subjects.count(t)) spdlog::warn("--test-subjects: no recordings of subject '{}'", t);

        s2m::imu::ClipOptions co;
        co.target_hz = opt->hz;
        co.imu_frame = opt->imu_frame == "filter" ? s2m::imu::ImuFrameMode::Filter : s2m::imu::ImuFrameMode::Mocap;
        co.bvh_scale = opt->scale;

        s2m::io::Dataset d;
        d.rate_hz = opt->hz;
        for (int j = 0; j < s2m::kin::kNumJoints; ++j) {
            d.joint_names.push_back(s2m::kin::kJointNames[static_cast<size_t>(j)]);
            d.joint_parents.push_back(s2m::kin::kJointParents[static_cast<size_t>(j)]);
        }
        s2m::Progress progress("preprocess", static_cast<std::int64_t>(sources.size()), "clips");
        const int threads = s2m::cli::globals().threads > 0 ? s2m::cli::globals().threads : s2m::available_cores();
        d.clips = s2m::imu::build_clips(sources, co, threads, [&](const s2m::io::RecordingSource& src) {
            if (s2m::interrupted()) s2m::fail_input("preprocess: interrupted; no output written");
            progress.advance(1, src.name);
        });
        progress.finish();
        for (size_t i = 0; i < sources.size(); ++i)
            d.clips[i].split = test_subjects.count(sources[i].subject) ? "test" : "train";

        // Validation: a seeded draw of whole clips among the non-test ones. A clip and its performances
        // by `s2m synth --variants` people (subject "S1-v2" for "S1") go to the same side together.
        auto performance = [](const std::string& clip_name) {
            const auto slash = clip_name.find('/');
            std::string subject = clip_name.substr(0, slash);
            const auto v = subject.rfind("-v");
            if (v != std::string::npos && v + 2 < subject.size() &&
                subject.find_first_not_of("0123456789", v + 2) == std::string::npos)
                subject.erase(v);
            return slash == std::string::npos ? subject : subject + clip_name.substr(slash);
        };
        std::vector<std::string> order;
        std::map<std::string, std::vector<size_t>> groups;
        size_t n_pool = 0;
        for (size_t i = 0; i < d.clips.size(); ++i) {
            if (d.clips[i].split != "train") continue;
            auto& g = groups[performance(d.clips[i].name)];
            if (g.empty()) order.push_back(performance(d.clips[i].name));
            g.push_back(i);
            ++n_pool;
        }
        std::mt19937 rng(opt->seed);
        std::shuffle(order.begin(), order.end(), rng);
        size_t n_val = static_cast<size_t>(std::lround(opt->val_fraction * static_cast<double>(n_pool)));
        // A positive fraction always holds out at least one clip when there are two to choose from.
        if (opt->val_fraction > 0 && n_val == 0 && order.size() >= 2) n_val = 1;
        // Every subject in --test-subjects makes an evaluation-only file (no statistics: the model
        // being evaluated carries its own).
        const bool evaluation_only = n_pool == 0;
        size_t n_held = 0;
        for (size_t k = 0; k < order.size() && n_held < n_val; ++k)
            for (size_t i : groups[order[k]]) {
                d.clips[i].split = "val";
                ++n_held;
            }
        if (!evaluation_only && n_held >= n_pool)
            s2m::fail_input(opt->input, 0, "no clip left for training (--val-fraction too large)");

        if (evaluation_only) spdlog::info("every clip is in the test split: an evaluation-only dataset, without statistics");
        else d.stats = s2m::io::compute_norm_stats(d.clips, "train");
        d.attributes["created_by"] = std::string("s2m preprocess ") + S2M_VERSION;
        d.attributes["input"] = opt->input;
        d.attributes["test_subjects"] = opt->test_subjects;
        d.attributes["val_fraction"] = std::to_string(opt->val_fraction);
        d.attributes["seed"] = std::to_string(opt->seed);
        d.attributes["imu_frame"] = opt->imu_frame;
        s2m::io::write_dataset(opt->out, d);

        std::map<std::string, std::pair<long, long>> per_split;
        for (const auto& c : d.clips) {
            per_split[c.split].first += 1;
            per_split[c.split].second += c.frames();
        }
        for (const auto& [split, cf] : per_split)
            spdlog::info("{}: {} clips, {} frames ({:.1f} min)", split, cf.first, cf.second, cf.second / opt->hz / 60.0);
        spdlog::info("wrote {}", opt->out);
        return 0;
    };
}
S2M_COMMAND("preprocess", "build an HDF5 dataset from insole recordings, sync files and mocap", setup_preprocess);
