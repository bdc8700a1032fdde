// s2m tune: choose a diffusion model's default sampler settings on clips with ground truth and store
// them in its model.pt (what `s2m train` does at the end of training).
#include <spdlog/spdlog.h>

#include <cstdio>

#include "command.hpp"
#include "step2motion/eval/tune.hpp"
#include "step2motion/infer/inputs.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/model/bundle.hpp"

namespace {
struct TuneCli {
    std::string model, data, split = "val", precision = "auto", device = "auto";
    bool no_ddpm = false;
    uint64_t seed = 0;
};
}  // namespace

static std::function<int()> setup_tune(CLI::App& app) {
    auto opt = std::make_shared<TuneCli>();
    app.add_option("--model", opt->model, "diffusion model folder (its model.pt is rewritten)")->required();
    app.add_option("--data", opt->data, "dataset file (.h5) with ground truth")->required();
    app.add_option("--split", opt->split, "clips to choose on: val (default), test, train or all");
    app.add_option("--seed", opt->seed, "sampling seed");
    app.add_flag("--no-ddpm", opt->no_ddpm, "leave out the full ancestral sampler (the slowest candidate)");
    app.add_option("--precision", opt->precision, "auto (the faster on this machine), fp32 or bf16")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
    app.add_option("--device", opt->device, "where the networks run: cpu, cuda, or auto")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    return [opt]() {
        const std::string path = s2m::model::model_file(opt->model);
        s2m::model::TensorDict extra;
        std::map<std::string, std::string> extra_text;
        s2m::model::ModelBundle model = s2m::model::load_model(path, &extra, &extra_text);
        const auto clips = s2m::infer::load_inputs({opt->data}, opt->split, model.rate_hz);
        s2m::eval::TuneOptions options;
        options.include_ddpm = !opt->no_ddpm;
        options.base.seed = opt->seed;
        options.base.device = s2m::model::resolve_device(opt->device);
        options.base.bf16 = s2m::model::resolve_precision(opt->precision, options.base.device) == s2m::model::Precision::Bf16;
        const auto trials = s2m::eval::choose_sampling_defaults(
            model, clips, options, opt->data + ", split " + opt->split + ", " + std::to_string(clips.size()) + " clips");
        std::printf("%-8s %6s %8s %14s %10s %9s\n", "sampler", "steps", "samples", "MPJPE_Legs_cm", "MPJPE_cm", "seconds");
        for (const auto& t : trials)
            std::printf("%-8s %6s %8d %14.2f %10.2f %9.1f\n", t.sampler.c_str(), t.steps > 0 ? std::to_string(t.steps).c_str() : "all",
                        t.samples, t.mpjpe_legs_cm, t.mpjpe_cm, t.seconds);
        model.to(torch::kCPU);
        s2m::model::save_model(path, model, extra, extra_text);
        std::printf("stored in %s: %s sampler, %s steps, %d sample(s) (MPJPE_Legs %.2f cm on %s)\n", path.c_str(),
                    model.sampling.sampler.c_str(), model.sampling.steps > 0 ? std::to_string(model.sampling.steps).c_str() : "all",
                    model.sampling.samples, model.sampling.val_mpjpe_legs_cm, model.sampling.chosen_on.c_str());
        return 0;
    };
}
S2M_COMMAND("tune", "choose a diffusion model's default sampler settings on clips with ground truth and store them in it", setup_tune);
