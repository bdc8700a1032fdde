// s2m bench: the speed figures of the toolkit on this machine.
#include <iostream>

#include "command.hpp"
#include "step2motion/bench/bench.hpp"

static std::function<int()> setup_bench(CLI::App& app) {
    auto opt = std::make_shared<s2m::bench::BenchOptions>();
    auto json = std::make_shared<bool>(false);
    app.add_flag("--json", *json, "print one JSON object");
    app.add_flag("--quick", opt->quick, "fewer repetitions");
    app.add_option("--hidden-dim", opt->hidden_dim, "network width (paper: 256)");
    app.add_option("--layers", opt->num_layers, "denoiser layers (paper: 2)");
    app.add_option("--seconds", opt->motion_s, "length of the reconstructed sequence");
    app.add_option("--precision", opt->precision, "precision of the reconstruction figures: auto, fp32 or bf16")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
    app.add_option("--device", opt->device, "where the networks run: cpu, cuda, or auto (cuda when a GPU is visible)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    app.add_flag("--profile", opt->profile, "also the top 5 operators of one denoiser pass and one training step");
    app.add_option("--memory-seconds", opt->hour_s, "length of the peak-memory reconstruction (default 3600; 0 skips it)");
    return [opt, json]() {
        if (!*json) opt->on_figure = [](const std::string& line) { std::cout << line << std::endl; };
        const auto j = s2m::bench::run_benchmarks(*opt);
        if (*json) std::cout << j.dump(2) << "\n";
        else std::cout << "blas_core: " << j["blas_core"].get<std::string>() << ", threads: " << j["threads"] << "\n";
        return 0;
    };
}
S2M_COMMAND("bench", "speed figures: parsing, GEMM, denoiser, training, reconstruction", setup_bench);
