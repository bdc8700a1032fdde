// s2m reconstruct: insole recordings → BVH with a trained model.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/model/bundle.hpp"
#include "step2motion/synth/synthesizer.hpp"

namespace {
struct ReconstructCli {
    std::string model, out, skeleton, split = "test", precision = "auto", map = "step2motion";
    std::vector<std::string> inputs;
    double height_m = 0;
    s2m::infer::ReconstructOptions options;
    bool details = false;
};

// Root height at rest for recordings without mocap: the hips above the lowest joint.
Eigen::Vector3d standing_root(const s2m::io::Skeleton& s) {
    double lowest = 0;
    for (const auto& p : s.rest_positions()) lowest = std::min(lowest, p.y());
    return Eigen::Vector3d(0, -lowest + 0.03, 0);
}
}  // namespace

static std::function<int()> setup_reconstruct(CLI::App& app) {
    auto opt = std::make_shared<ReconstructCli>();
    app.add_option("--model", opt->model, "trained model folder (or its model.pt)")->required();
    app.add_option("inputs", opt->inputs,
                   "Moticon exports (.txt), dataset files (.h5), UnderPressure-layout folders or FOLDER:SEQ")
        ->required();
    app.add_option("--out", opt->out, "output folder for the BVH files")->required();
    auto* steps_opt = app.add_option("--steps", opt->options.steps,
                                     "denoising steps (default: the model's stored setting; else ddpm: all, fast: 20)");
    auto* sampler_opt = app.add_option("--sampler", opt->options.sampler, "ddpm or fast (default: the model's stored setting, else ddpm)")
                            ->check(CLI::IsMember({"ddpm", "fast"}));
    app.add_option("--guidance", opt->options.guidance, "classifier-free guidance weight w (1 = none)");
    app.add_option("--seed", opt->options.seed, "sampling seed");
    auto* samples_opt = app.add_option("--samples", opt->options.samples,
                                       "diffusion samples averaged per input (mean motion; default: the model's stored setting, else 1)");
    app.add_option("--skeleton", opt->skeleton, "output skeleton (BVH; mapped with --map)");
    app.add_option("--map", opt->map, "joint map of --skeleton");
    app.add_option("--split", opt->split, "dataset clips to reconstruct: train, val, test or all");
    app.add_option("--precision", opt->precision, "auto (the faster on this machine), fp32 or bf16")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
    opt->options.device = "auto";
    app.add_option("--device", opt->options.device, "where the networks run: cpu, cuda, or auto (cuda when a GPU is visible)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    // The feet's root is the default: on clips of a mocap source no model saw (SNU basketball) it
    // drifted 6.6 % against the network's 7.4 % (README, "Root from the feet").
    opt->options.root = "fused";
    app.add_option("--root", opt->options.root,
                   "fused (default: the feet's path + the network's within-step motion), network (IMU root network), zupt "
                   "(from the feet: zero-velocity updates in every stance), or double_integration")
        ->check(CLI::IsMember(s2m::infer::root_modes()));
    auto* contacts_opt = app.add_flag("--foot-contacts,!--no-foot-contacts", opt->options.foot_contacts,
                                      "hold each foot still while its insole is loaded (default: on for heading-frame models)");
    app.add_option("--height-m", opt->height_m,
                   "the wearer's standing height: the output skeleton is scaled to it and the body drawn at its size")
        ->check(CLI::Range(1.0, 2.5));
    auto* wearer_opt = app.add_flag("--wearer-size,!--no-wearer-size", opt->options.wearer_size,
                                    "draw the body at the output skeleton's size: the wearer's with --height-m, --skeleton or a "
                                    "dataset clip's skeleton (default: on for heading-frame models)");
    app.add_flag("--details", opt->details, "also write <name>.json with attention weights and foot contacts");
    return [opt, sampler_opt, steps_opt, samples_opt, contacts_opt, wearer_opt]() {
        namespace fs = std::filesystem;
        s2m::model::ModelBundle model = s2m::model::load_model(s2m::model::model_file(opt->model));
        const double rate_hz = model.rate_hz;
        auto inputs = s2m::infer::load_inputs(opt->inputs, opt->split, rate_hz);
        s2m::io::Skeleton given;
        if (!opt->skeleton.empty()) {
            const auto bvh = s2m::io::read_bvh(opt->skeleton);
            const auto map = s2m::kin::load_joint_map(opt->map);
            const double scale = map.scale_m_per_unit ? *map.scale_m_per_unit : s2m::io::detect_bvh_scale(bvh);
            given = s2m::kin::retarget_to_canonical(s2m::io::motion_from_bvh(bvh, scale), map, opt->skeleton).skeleton;
        }
        opt->options.device = s2m::model::resolve_device(opt->options.device);
        opt->options.bf16 = s2m::model::resolve_precision(opt->precision, opt->options.device) == s2m::model::Precision::Bf16;
        opt->options.details = opt->details;
        opt->options = s2m::infer::with_model_defaults(opt->options, model,
                                                       {sampler_opt->count() > 0, steps_opt->count() > 0, samples_opt->count() > 0,
                                                        contacts_opt->count() > 0, wearer_opt->count() > 0});
        // Each input's output skeleton: --skeleton, else a dataset clip's own, else the model's; scaled to
        // --height-m when given (a clip's root start with it). The body is drawn at its size, so that
        // the held feet stay put on the skeleton's legs; the wearer's when --skeleton, a clip or
        // --height-m says it.
        std::vector<s2m::io::Skeleton> skeletons;
        bool wearers = true;
        for (auto& in : inputs) {
            s2m::io::Skeleton skeleton = model.skeleton;
            if (!given.names.empty()) skeleton = given;
            else if (in.offsets_m.size() == 22) skeleton.offsets_m = in.offsets_m;
            wearers = wearers && (!given.names.empty() || in.offsets_m.size() == 22 || opt->height_m > 0);
            if (opt->height_m > 0) {
                const double factor = opt->height_m / s2m::synth::standing_height_m(skeleton);
                s2m::synth::scale_skeleton(skeleton, factor);
                in.root_start_m.y() *= factor;
            }
            in.wearer_leg_length_m = s2m::kin::leg_length_m(skeleton.offsets_m);
            skeletons.push_back(std::move(skeleton));
        }
        if (opt->options.wearer_size && !inputs.empty())
            spdlog::info("body drawn at {}: thigh + shin {:.3f} m{}", wearers ? "the wearer's size" : "the output skeleton's size",
                         inputs[0].wearer_leg_length_m,
                         wearers ? (inputs.size() > 1 ? " (first input)" : "") : " (the model's; --height-m gives the wearer's)");
        if (model.is_diffusion()) {
            const int steps = s2m::infer::sampler_steps(opt->options);
            spdlog::info("{} sampler, {} steps, {} sample(s){}", opt->options.sampler, steps > 0 ? std::to_string(steps) : "all",
                         opt->options.samples, model.sampling.empty() ? "" : " (unless given: the model's stored settings)");
        }
        spdlog::info("root {}, foot contacts {}", opt->options.root, opt->options.foot_contacts ? "held (--no-foot-contacts frees them)" : "free");
        const auto results = s2m::infer::reconstruct(model, inputs, opt->options);
        fs::create_directories(opt->out);
        for (size_t i = 0; i < inputs.size(); ++i) {
            const auto& in = inputs[i];
            const s2m::io::Skeleton& skeleton = skeletons[i];
            const Eigen::Vector3d start = in.has_root_start ? in.root_start_m : standing_root(skeleton);
            const auto motion = s2m::infer::motion_from_poses(results[i].poses, skeleton, rate_hz, start);
            const std::string bvh_path = (fs::path(opt->out) / (in.name + ".bvh")).string();
            s2m::io::write_bvh(bvh_path, s2m::io::bvh_from_motion(motion), {6});
            const auto pos = s2m::infer::positions_from_poses(results[i].poses, start);
            const auto steps = s2m::infer::count_steps(pos);
            double distance = 0;
            for (size_t f = 1; f < pos.root_m.size(); ++f) {
                Eigen::Vector3d d = pos.root_m[f] - pos.root_m[f - 1];
                d.y() = 0;
                distance += d.norm();
            }
            const double duration = in.frames() / rate_hz;
            std::printf("%s: %d frames (%.1f s), %.2f m travelled, %.2f m/s, steps L %d R %d", bvh_path.c_str(), in.frames(),
                        duration, distance, distance / duration, steps[0], steps[1]);
            if (in.left_steps >= 0 || in.right_steps >= 0)
                std::printf(" (insole step events L %d R %d)", in.left_steps, in.right_steps);
            if (!in.tag.empty()) std::printf(" [tag %s]", in.tag.c_str());
            std::printf("\n");
            if (opt->details) {
                const auto contacts = s2m::infer::foot_contacts(pos, rate_hz);
                nlohmann::json j;
                j["source"] = in.source;
                j["rate_hz"] = rate_hz;
                j["frames"] = in.frames();
                j["body_parts"] = {"left_leg", "right_leg", "body"};
                j["components"] = s2m::infer::attention_components();
                j["attention_note"] = "per frame, body part and insole component: the attention weight on the same frame of that component, averaged over layers";
                nlohmann::json att = nlohmann::json::array(), con = nlohmann::json::array();
                for (int f = 0; f < in.frames(); ++f) {
                    if (!results[i].attention.empty()) {
                        nlohmann::json frame = nlohmann::json::array();
                        for (int p = 0; p < 3; ++p) {
                            nlohmann::json row = nlohmann::json::array();
                            for (int c = 0; c < 8; ++c) row.push_back(results[i].attention[static_cast<size_t>(f * 24 + p * 8 + c)]);
                            frame.push_back(row);
                        }
                        att.push_back(frame);
                    }
                    con.push_back({contacts[static_cast<size_t>(f)][0], contacts[static_cast<size_t>(f)][1]});
                }
                j["attention"] = att;
                j["foot_contacts"] = con;
                j["steps"] = {{"left", steps[0]}, {"right", steps[1]}};
                s2m::write_file_atomic((fs::path(opt->out) / (in.name + ".json")).string(), j.dump() + "\n");
            }
        }
        std::cout << "wrote " << inputs.size() << " BVH file(s) to " << opt->out << "\n";
        return 0;
    };
}
S2M_COMMAND("reconstruct", "reconstruct motion (BVH) from insole recordings with a trained model", setup_reconstruct);
