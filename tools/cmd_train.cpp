// s2m train: train a model (pose network, then root network) on a dataset file.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/eval/tune.hpp"
#include "step2motion/infer/inputs.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/train/trainer.hpp"

namespace {
struct TrainCliOptions {
    std::string config, data, out, device = "auto", precision = "auto";
    bool resume = false, no_tune = false;
};
}  // namespace

static std::function<int()> setup_train(CLI::App& app) {
    auto opt = std::make_shared<TrainCliOptions>();
    app.add_option("--config", opt->config, "training config (JSON)")->required();
    app.add_option("--data", opt->data, "dataset file from s2m preprocess (.h5)")->required();
    app.add_option("--out", opt->out, "model folder")->required();
    app.add_flag("--resume", opt->resume, "continue the run saved in the model folder");
    app.add_flag("--no-tune", opt->no_tune, "keep the default sampler settings (do not choose them on the validation clips)");
    app.add_option("--device", opt->device, "where the networks run: cpu, cuda, or auto (cuda when a GPU is visible)")->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    app.add_option("--precision", opt->precision,
                   "auto (the faster on this machine, measured once and cached), fp32, or bf16 (CPU autocast, fp32 master weights)")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
    return [opt]() {
        namespace fs = std::filesystem;
        // Everything is checked before any training starts.
        const s2m::model::TrainConfig config = s2m::model::read_train_config(opt->config);
        if (!fs::exists(opt->data)) s2m::fail_input(opt->data, 0, "no such dataset file");
        const s2m::io::Dataset dataset = s2m::io::read_dataset(opt->data);
        const s2m::train::TrainingSet set = s2m::train::training_set_from_dataset(dataset);
        s2m::train::check_trainable(config, set, opt->data);
        spdlog::info("{}: {} training clips, {} validation clips; model {}", opt->data, set.train.size(), set.val.size(),
                     s2m::model::to_string(config.model_type));
        s2m::train::TrainOptions options;
        options.out_dir = opt->out;
        options.resume = opt->resume;
        options.device = s2m::model::resolve_device(opt->device);
        options.bf16 = s2m::model::resolve_precision(opt->precision, options.device) == s2m::model::Precision::Bf16;
        spdlog::info("device: {}, precision: {}", options.device, options.bf16 ? "bf16" : "fp32");
        options.data_description = opt->data;
        const auto summary = s2m::train::train_model(config, set, options);
        // Rank 0 alone writes files and says so.
        const char* rank = std::getenv("RANK");
        if (summary.interrupted) {
            if (!rank || std::string(rank) == "0")
                std::cout << "interrupted; state saved in " << opt->out << "/last.pt (continue with --resume)\n";
            return 130;
        }
        // Sampler settings chosen on the validation clips and stored in model.pt (rank 0 alone).
        if (!opt->no_tune && (!rank || std::string(rank) == "0") && (config.model_type == s2m::model::ModelType::Step2Motion ||
                                                               config.model_type == s2m::model::ModelType::DiffusionStdXattn)) {
            const bool has_val = std::any_of(dataset.clips.begin(), dataset.clips.end(), [](const auto& c) { return c.split == "val"; });
            if (!has_val) {
                spdlog::info("no validation clips: the model keeps the default sampler settings");
            } else {
                const std::string path = (fs::path(opt->out) / "model.pt").string();
                s2m::model::TensorDict extra;
                std::map<std::string, std::string> extra_text;
                s2m::model::ModelBundle model = s2m::model::load_model(path, &extra, &extra_text);
                const auto val = s2m::infer::load_inputs({opt->data}, "val", dataset.rate_hz);
                s2m::eval::TuneOptions tune;
                tune.base.device = options.device;
                tune.base.bf16 = options.bf16;
                s2m::eval::choose_sampling_defaults(model, val, tune,
                                                    opt->data + ", split val, " + std::to_string(val.size()) + " clips");
                model.to(torch::kCPU);
                s2m::model::save_model(path, model, extra, extra_text);
                spdlog::info("default sampler settings: {} sampler, {} steps, {} sample(s) (validation MPJPE_Legs {:.2f} cm)",
                             model.sampling.sampler, model.sampling.steps, model.sampling.samples, model.sampling.val_mpjpe_legs_cm);
            }
        }
        std::cout << "trained model in " << opt->out << "/model.pt (log: " << opt->out << "/train_log.jsonl)\n";
        return 0;
    };
}
S2M_COMMAND("train", "train a model on a dataset file", setup_train);
