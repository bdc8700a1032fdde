// s2m evaluate: the paper's metrics for one or more models on a dataset file's clips.
#include <iostream>

#include "command.hpp"
#include "step2motion/eval/evaluate.hpp"
#include "step2motion/eval/metrics.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/view/report.hpp"

static std::function<int()> setup_evaluate(CLI::App& app) {
    auto opt = std::make_shared<s2m::eval::EvaluateOptions>();
    auto out = std::make_shared<std::string>();
    auto precision = std::make_shared<std::string>("auto");
    app.add_option("--model", opt->models, "trained model folder (repeat to compare models)")->required();
    app.add_option("--data", opt->data, "dataset file (.h5) with ground truth")->required();
    app.add_option("--split", opt->split, "clips to evaluate: test, val, train or all");
    app.add_option("--seeds", opt->seeds, "sampling seeds per clip");
    app.add_option("--out", *out, "report folder (metrics.json, metrics.csv, table.tex, report.html)")->required();
    auto* steps_opt = app.add_option("--steps", opt->reconstruct.steps,
                                     "denoising steps (default: the model's stored setting; else ddpm: all, fast: 20)");
    auto* sampler_opt = app.add_option("--sampler", opt->reconstruct.sampler, "ddpm or fast (default: the model's stored setting, else ddpm)")
                              ->check(CLI::IsMember({"ddpm", "fast"}));
    app.add_option("--guidance", opt->reconstruct.guidance, "classifier-free guidance weight");
    app.add_option("--seed", opt->reconstruct.seed, "first sampling seed");
    auto* samples_opt = app.add_option("--samples", opt->reconstruct.samples,
                                       "diffusion samples averaged per clip and seed (default: the model's stored setting, else 1)");
    app.add_option("--precision", *precision, "auto (the faster on this machine), fp32 or bf16")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
    opt->reconstruct.device = "auto";
    app.add_option("--device", opt->reconstruct.device, "where the networks run: cpu, cuda, or auto (cuda when a GPU is visible)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    opt->reconstruct.root = "fused";  // as reconstruct's default
    app.add_option("--root", opt->reconstruct.root,
                   "root of every model: fused (default: the feet's path + the network's within-step motion), zupt (the "
                   "feet's alone), network (the paper's) or double_integration")
        ->check(CLI::IsMember(s2m::infer::root_modes()));
    auto* contacts_opt = app.add_flag("--foot-contacts,!--no-foot-contacts", opt->reconstruct.foot_contacts,
                                      "hold each foot still while its insole is loaded (default: on for heading-frame models)");
    auto* wearer_opt = app.add_flag("--wearer-size,!--no-wearer-size", opt->reconstruct.wearer_size,
                                    "draw each clip's body at the size of its skeleton in the dataset, as reconstruct does with "
                                    "--height-m (default: on for heading-frame models)");
    app.add_option("--compare-roots", opt->compare_roots, "also score the first model with these roots (e.g. network,zupt,fused)")
        ->delimiter(',')
        ->check(CLI::IsMember(s2m::infer::root_modes()));
    app.add_flag_callback("--double-integration", [opt] { opt->compare_roots.push_back("double_integration"); },
                          "also score the first model with the root from double integration of foot acceleration");
    return [opt, out, precision, sampler_opt, steps_opt, samples_opt, contacts_opt, wearer_opt]() {
        opt->given = {sampler_opt->count() > 0, steps_opt->count() > 0, samples_opt->count() > 0, contacts_opt->count() > 0,
                      wearer_opt->count() > 0};
        opt->reconstruct.device = s2m::model::resolve_device(opt->reconstruct.device);
        opt->reconstruct.bf16 = s2m::model::resolve_precision(*precision, opt->reconstruct.device) == s2m::model::Precision::Bf16;
        s2m::eval::EvaluationDetails details;
        const auto metrics = s2m::eval::evaluate_models(*opt, &details);
        s2m::eval::write_report(*out, metrics);
        // Each diffusion model's sampler settings (given, or stored in the model).
        std::string settings;
        for (auto it = metrics.begin(); it != metrics.end(); ++it) {
            if (!it->contains("samples") || it.key().find('+') != std::string::npos) continue;
            s2m::infer::ReconstructOptions used;
            used.sampler = (*it)["sampler"].get<std::string>();
            used.steps = (*it)["steps"].get<int>();
            const int steps = s2m::infer::sampler_steps(used), samples = (*it)["samples"].get<int>();
            const std::string line = it.key() + ": " + used.sampler + " sampler, " + (steps > 0 ? std::to_string(steps) : std::string("all")) +
                                     " steps, " + (samples > 1 ? "mean of " + std::to_string(samples) + " samples" : std::string("one sample")) +
                                     " per clip and seed, " + std::to_string(opt->seeds) + " seed(s), feet " +
                                     ((*it)["foot_contacts"].get<bool>() ? "held" : "free") +
                                     ((*it)["wearer_size"].get<bool>() ? ", body at the clip's size" : ", body at the model's size");
            std::printf("%s\n", line.c_str());
            settings += (settings.empty() ? "" : "; ") + line;
        }
        s2m::view::ReportOptions report;
        report.description = opt->data + ", split " + opt->split + (settings.empty() ? "" : "; " + settings);
        s2m::view::write_report_html(*out, metrics, details, report);
        std::printf("%-34s %10s %12s %14s %8s %10s %12s\n", "model", "MPJPE_cm", "Legs_cm", "MPJVE_Legs", "MRPE_m", "drift_%", "heading_deg");
        for (auto it = metrics.begin(); it != metrics.end(); ++it) {
            const auto& o = (*it)["overall"];
            auto v = [&](const char* k) { return o[k]["mean"].is_number() ? o[k]["mean"].get<double>() : NAN; };
            std::printf("%-34s %10.2f %12.2f %14.2f %8.3f %10.1f %12.1f\n", it.key().c_str(), v("MPJPE_cm"), v("MPJPE_Legs_cm"),
                        v("MPJVE_Legs_cm_s"), v("MRPE_m"), v("drift_percent"), v("heading_error_deg"));
        }
        std::cout << "report written to " << *out << "/ (metrics.json, metrics.csv, table.tex, report.html)\n";
        return 0;
    };
}
S2M_COMMAND("evaluate", "metrics of trained models on a dataset file", setup_evaluate);
