// s2m synth: synthesise insole recordings (pressure, IMU) from motion capture into a dataset folder in
// the UnderPressure layout.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/core/hash.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/synth/dataset.hpp"
#include "step2motion/synth/gait_stats.hpp"
#include "step2motion/synth/synthesizer.hpp"

namespace {
struct SynthCliOptions {
    std::vector<std::string> inputs;
    std::string map, out, subject = "S1", noise = "none", scale = "auto", layout, proportions = "source";
    double weight_kg = 70, rate_hz = 100;
    int insole_size = 6, variants = 0;
    std::uint64_t seed = 1;
};

std::vector<std::string> collect_bvh(const std::vector<std::string>& inputs) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    for (const auto& in : inputs) {
        std::error_code ec;
        if (fs::is_directory(in, ec)) {
            std::vector<std::string> found;
            for (const auto& e : fs::recursive_directory_iterator(in, ec)) {
                std::string ext = e.path().extension().string();
                std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                if (e.is_regular_file() && ext == ".bvh") found.push_back(e.path().string());
            }
            if (found.empty()) s2m::fail_input(in + ": no .bvh files in this folder");
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(in, ec)) {
            files.push_back(in);
        } else {
            s2m::fail_input(in + ": no such file or folder");
        }
    }
    return files;
}
}  // namespace

static std::function<int()> setup_synth(CLI::App& app) {
    auto opt = std::make_shared<SynthCliOptions>();
    app.add_option("inputs", opt->inputs, "BVH files or folders of them")->required();
    app.add_option("--map", opt->map, "joint map: preset (step2motion, cmu, xsens, mixamo, snu, daz) or JSON file")->required();
    app.add_option("--out", opt->out, "dataset folder (created; later runs add to it)")->required();
    app.add_option("--subject", opt->subject, "subject id in the dataset")->capture_default_str();
    app.add_option("--weight-kg", opt->weight_kg, "body mass")->capture_default_str()->check(CLI::Range(20.0, 300.0));
    app.add_option("--insole-size", opt->insole_size, "Moticon insole size")->capture_default_str()->check(CLI::Range(1, 12));
    app.add_option("--rate-hz", opt->rate_hz, "insole sample rate")->capture_default_str()->check(CLI::Range(1.0, 1000.0));
    app.add_option("--noise", opt->noise, "none (exact) or realistic (bias, noise, drop-outs)")->capture_default_str();
    app.add_option("--seed", opt->seed, "random seed of the noise")->capture_default_str();
    app.add_option("--scale", opt->scale, "metres per BVH unit, or auto")->capture_default_str();
    app.add_option("--proportions", opt->proportions, "bone lengths: source (the mocap's own joint placement) or standard (one set of proportions for every source, scaled to the leg)")
        ->capture_default_str()
        ->check(CLI::IsMember({"source", "standard"}));
    app.add_option("--layout", opt->layout, "sensor-layout.json (default: the project's copy)");
    app.add_option("--variants", opt->variants,
                   "augmentation: N virtual people SUBJECT-v1..vN (height 1.50-1.95 m, BMI 19-30, the insole size that fits "
                   "±1, IMU mounted ±5 deg off in yaw and pitch), each performing every clip; their own masses and sizes "
                   "replace --weight-kg and --insole-size")
        ->capture_default_str()
        ->check(CLI::Range(0, 100));
    return [opt]() {
        namespace fs = std::filesystem;
        s2m::install_interrupt_handlers();
        s2m::synth::SynthOptions so;
        so.noise = s2m::synth::parse_noise_model(opt->noise);
        so.weight_kg = opt->weight_kg;
        so.insole_size = opt->insole_size;
        so.rate_hz = opt->rate_hz;
        so.seed = opt->seed;
        if (opt->subject.empty() || opt->subject.find_first_of("/\\ ,") != std::string::npos)
            s2m::fail_input("--subject '" + opt->subject + "': expected a name without spaces, commas or slashes");
        const s2m::io::SensorLayout layout =
            opt->layout.empty() ? s2m::io::default_sensor_layout() : s2m::io::load_sensor_layout(opt->layout);
        const s2m::kin::JointMap map = s2m::kin::load_joint_map(opt->map);
        const std::vector<std::string> files = collect_bvh(opt->inputs);
        std::set<std::string> seen;
        for (const auto& f : files)
            if (!seen.insert(fs::path(f).stem().string()).second)
                s2m::fail_input(f + ": another input has the same sequence name '" + fs::path(f).stem().string() +
                                "'; synthesise them into different subjects");

        s2m::Progress progress("synth", static_cast<std::int64_t>(files.size()), "clips");
        std::set<std::string> written_subjects;
        for (const auto& input : files) {
            if (s2m::interrupted()) return 130;
            const s2m::io::Bvh bvh = s2m::io::read_bvh(input);
            double scale;
            if (opt->scale == "auto") {
                scale = map.scale_m_per_unit ? *map.scale_m_per_unit : s2m::io::detect_bvh_scale(bvh);
            } else {
                try {
                    scale = std::stod(opt->scale);
                } catch (...) {
                    s2m::fail_input("--scale " + opt->scale + ": expected auto or a positive number");
                }
                if (!(scale > 0)) s2m::fail_input("--scale " + opt->scale + ": expected a positive number");
            }
            if (bvh.num_frames < 2) s2m::fail_input(input, 0, "expected at least 2 motion frames");
            const s2m::io::Motion source = s2m::io::motion_from_bvh(bvh, scale);
            s2m::io::Motion canon = s2m::kin::retarget_to_canonical(source, map, input, s2m::kin::parse_proportions(opt->proportions));
            if (const int dropped = s2m::synth::drop_leading_rest_frames(canon))
                spdlog::info("{}: dropped {} leading rest-pose frame(s)", input, dropped);
            const std::string seq = fs::path(input).stem().string();
            so.name = seq;
            so.notes = "synthesised by s2m synth from " + fs::path(input).filename().string();
            // One person as captured, or each virtual person of --variants.
            for (int v = opt->variants > 0 ? 1 : 0; v <= opt->variants; ++v) {
                s2m::synth::SynthOptions person = so;
                s2m::io::Motion motion = canon;
                std::string subject = opt->subject;
                double weight_kg = opt->weight_kg;
                int insole_size = opt->insole_size;
                if (v > 0) {
                    const s2m::synth::Variant var = s2m::synth::draw_variant(opt->seed, opt->subject, v);
                    s2m::synth::scale_motion(motion, var.height_m / s2m::synth::standing_height_m(canon.skeleton));
                    subject = opt->subject + "-v" + std::to_string(v);
                    weight_kg = person.weight_kg = var.weight_kg;
                    insole_size = person.insole_size = var.insole_size;
                    person.seed = var.noise_seed ^ s2m::name_hash(seq);
                    person.imu_mount_yaw_deg = var.imu_mount_yaw_deg;
                    person.imu_mount_pitch_deg = var.imu_mount_pitch_deg;
                }
                s2m::synth::SynthDiagnostics diag;
                const s2m::io::MoticonRecording rec = s2m::synth::synthesize_insoles(motion, person, layout, &diag);
                if (!written_subjects.count(subject)) {
                    const double foot = 0.5 * (diag.feet[0].length_m + diag.feet[1].length_m);
                    s2m::synth::merge_subject(opt->out, s2m::synth::describe_subject(motion.skeleton, subject, weight_kg, insole_size, foot));
                    written_subjects.insert(subject);
                }
                const auto paths = s2m::synth::write_sequence(opt->out, subject, seq, rec, motion);
                const auto stats = s2m::synth::gait_statistics(rec, weight_kg * 9.80665);
                spdlog::info("{} -> {} ({} insole samples at {:g} Hz, {:.1f} s; stance L {:.0f} % R {:.0f} %, mean force {:.2f} BW)",
                             input, paths.insoles, rec.frames(), rec.rate_hz, rec.frames() / rec.rate_hz,
                             100 * stats.feet[0].stance_fraction, 100 * stats.feet[1].stance_fraction, stats.mean_total_force_bw);
            }
            progress.advance(1, seq);
        }
        progress.finish();
        return 0;
    };
}
S2M_COMMAND("synth", "synthesise insole recordings from motion capture into an UnderPressure-style dataset", setup_synth);
