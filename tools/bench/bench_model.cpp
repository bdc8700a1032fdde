// Speed of the Step2Motion networks at the paper's size (hidden 256, 2 layers, window 100):
// ms per denoiser pass (batch 1) fp32/bf16 with and without cached conditioning, a full sampled
// window, and training throughput (batch 64, forward + backward + Adam) fp32 and bf16 autocast.
// Usage: bench_model [threads=2] [passes=200] [train_steps=10], or bench_model --smoke (the test suite).
#include "step2motion/core/system.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/networks.hpp"
#include "step2motion/model/sampler.hpp"
#include "step2motion/model/threads.hpp"

#include <ATen/Parallel.h>

#include <ctime>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace s2m::model;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The machine is shared: besides the wall-clock median we report the process CPU time per call,
// which other processes' load does not inflate (with 1 thread it is the unloaded single-core time).
struct Timing {
    double wall_ms, cpu_ms;
};

// Median wall time and mean process CPU time of `reps` calls of fn, after `warmup` untimed calls.
Timing time_calls(int warmup, int reps, const std::function<void()>& fn) {
    for (int i = 0; i < warmup; ++i) fn();
    std::vector<double> v;
    double cpu0 = process_cpu_ms();
    for (int i = 0; i < reps; ++i) {
        auto t0 = Clock::now();
        fn();
        v.push_back(ms_since(t0));
    }
    double cpu = (process_cpu_ms() - cpu0) / reps;
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], cpu};
}

Timing train_step_time(Step2Motion& model, const DiffusionSchedule& sched, bool bf16, int steps) {
    const int64_t B = 64, W = model->config.input_T;
    model->train();
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    auto x0 = torch::randn({B, W, s2m::io::kJointValues}), c = torch::randn({B, W, s2m::io::kInsoleChannels});
    auto step = [&] {
        auto t = torch::randint(0, sched.steps() + 1, {B}, torch::kLong);
        auto keep = (torch::rand({B}) > 0.2).to(torch::kFloat);  // condition dropout p = 0.2
        auto x_t = sched.q_sample(x0, t, torch::randn_like(x0));
        opt.zero_grad();
        torch::Tensor loss;
        {
            Autocast ac(bf16);
            auto cond = model->condition(c, keep);
            loss = pose_loss(model->denoise(x_t, t, &cond).to(torch::kFloat), x0);
        }
        loss.backward();
        torch::nn::utils::clip_grad_norm_(model->parameters(), 100.0);
        opt.step();
    };
    auto timing = time_calls(1, steps, step);
    model->eval();
    return timing;
}

}  // namespace

int main(int argc, char** argv) {
    s2m::ensure_fast_blas(argc, argv);
    // Positional counts; anything else (--help, a typo) gets the usage line instead of a crash.
    // --smoke (for the test suite): 2 fp32 passes, 1 fp32 training step, no whole sampled windows.
    const bool smoke = argc == 2 && std::string(argv[1]) == "--smoke";
    int counts[3] = {2, smoke ? 2 : 200, smoke ? 1 : 10};
    for (int i = 1; !smoke && i < argc && i <= 3; ++i) {
        char* end = nullptr;
        const long v = std::strtol(argv[i], &end, 10);
        if (end == argv[i] || *end != '\0' || v < 1 || v > 100000 || argc > 4) {
            std::fprintf(stderr, "usage: bench_model [threads=2] [passes=200] [train_steps=10] (positive integers), or bench_model --smoke\n");
            return argv[i] == std::string("--help") || argv[i] == std::string("-h") ? 0 : 2;
        }
        counts[i - 1] = static_cast<int>(v);
    }
    const int threads = counts[0], passes = counts[1], train_steps = counts[2];
    at::set_num_threads(threads);
    const bool ftz = std::getenv("S2M_KEEP_DENORMALS") == nullptr;
    if (ftz) set_flush_denormal(true);
    torch::manual_seed(0);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured

    auto blas = s2m::blas_info();
    auto cpu = s2m::cpu_features();
    std::printf("cpu: %s (amx_bf16 %d, avx512_bf16 %d)\n", cpu.model.c_str(), cpu.amx_bf16, cpu.avx512_bf16);
    std::printf("blas: %s, core %s, OPENBLAS_CORETYPE=%s; torch threads %d; flush denormals %s\n",
                blas.library.c_str(), blas.core.c_str(), blas.coretype_env.c_str(), at::get_num_threads(),
                ftz ? "on" : "off (S2M_KEEP_DENORMALS)");

    ModelConfig cfg;  // the paper's size: hidden 256, 2 layers, 4 heads, FF 512, window 100, T 200
    Step2Motion model(cfg);
    model->eval();
    DiffusionSchedule sched(cfg.diffusion_T);
    int64_t n_prior = 0, n_control = 0;
    for (auto& p : model->prior->parameters()) n_prior += p.numel();
    for (auto& p : model->control->parameters()) n_control += p.numel();
    std::printf("parameters: denoiser %.3f M, conditioning %.3f M\n", n_prior / 1e6, n_control / 1e6);

    torch::NoGradGuard ng;
    auto x = torch::randn({1, cfg.input_T, s2m::io::kJointValues}), c = torch::randn({1, cfg.input_T, s2m::io::kInsoleChannels});
    auto t = torch::full({1}, 100, torch::kLong);
    const int warm = smoke ? 1 : std::max(5, passes / 10);
    for (bool bf16 : {false, true}) {
        if (smoke && bf16) continue;  // bf16 is emulated (slow) on CPUs without it
        auto cond = [&] {
            Autocast ac(bf16);
            return model->condition(c);
        }();
        // One autocast scope around the loop, as the sampler holds it (weights cast once, cached).
        Autocast ac(bf16);
        auto uncached = time_calls(warm, passes, [&] {
            auto cd = model->condition(c);
            model->denoise(x, t, &cd);
        });
        auto cached = time_calls(warm, passes, [&] { model->denoise(x, t, &cond); });
        std::printf("denoiser pass, batch 1, %s: conditioning recomputed %.2f ms wall (%.2f ms CPU), "
                    "cached conditioning %.2f ms wall (%.2f ms CPU)\n",
                    bf16 ? "bf16" : "fp32", uncached.wall_ms, uncached.cpu_ms, cached.wall_ms, cached.cpu_ms);
    }
    {
        auto cond = model->condition(c);
        auto ref = model->denoise(x, t, &cond);
        torch::Tensor low;
        {
            Autocast ac;
            auto cb = model->condition(c);
            low = model->denoise(x, t, &cb).to(torch::kFloat);
        }
        std::printf("bf16 effect on one pass (random init): max |diff| %.4g, mean |diff| %.4g, output rms %.4g\n",
                    (low - ref).abs().max().item<double>(), (low - ref).abs().mean().item<double>(),
                    ref.square().mean().sqrt().item<double>());
    }
    // Whole windows: 200 ancestral steps vs a 20-step DDIM, and 8 windows in lockstep.
    auto c8 = c.expand({8, cfg.input_T, s2m::io::kInsoleChannels}).contiguous();
    for (bool bf16 : {false, true}) {
        if (smoke) break;
        SamplerOptions o;
        o.bf16 = bf16;
        auto full = time_calls(0, 1, [&] { sample_poses(model, sched, c, o); });
        o.steps = 20;
        auto few = time_calls(0, 1, [&] { sample_poses(model, sched, c, o); });
        o.steps = 0;
        auto batch8 = time_calls(0, 1, [&] { sample_poses(model, sched, c8, o); });
        std::printf("sampled window (%s), wall (CPU) ms: 200 steps %.0f (%.0f), 20-step DDIM %.0f (%.0f), "
                    "200 steps batched x8 per window %.0f (%.0f)\n",
                    bf16 ? "bf16" : "fp32", full.wall_ms, full.cpu_ms, few.wall_ms, few.cpu_ms, batch8.wall_ms / 8,
                    batch8.cpu_ms / 8);
    }
    if (!smoke) {
        // Effect of bf16 on a whole 20-step sample from the same noise.
        SamplerOptions o;
        o.steps = 20;
        torch::manual_seed(5);
        auto a = sample_poses(model, sched, c, o);
        o.bf16 = true;
        torch::manual_seed(5);
        auto b = sample_poses(model, sched, c, o);
        std::printf("bf16 effect on a 20-step sample (same noise): max |diff| %.4g, mean |diff| %.4g, sample rms %.4g\n",
                    (a - b).abs().max().item<double>(), (a - b).abs().mean().item<double>(),
                    a.square().mean().sqrt().item<double>());
    }
    {
        torch::AutoGradMode grad_on(true);
        for (bool bf16 : {false, true}) {
            if (smoke && bf16) continue;
            auto tm = train_step_time(model, sched, bf16, train_steps);
            std::printf("training, batch 64, forward+backward+Adam (%s): %.1f windows/s wall, %.1f windows/s per "
                        "CPU-second x %d threads\n",
                        bf16 ? "bf16 autocast" : "fp32", 64e3 / tm.wall_ms, 64e3 / tm.cpu_ms * threads, threads);
        }
    }
    // What bounds it: the GEMM rate of the largest product of a pass (300 tokens x 256 -> 512).
    {
        auto a = torch::randn({300, 256}), w = torch::randn({512, 256});
        for (bool bf16 : {false, true}) {
            if (smoke && bf16) continue;
            auto aa = bf16 ? a.to(torch::kBFloat16) : a, ww = bf16 ? w.to(torch::kBFloat16) : w;
            auto tm = time_calls(20, 200, [&] { torch::nn::functional::linear(aa, ww); });
            double gflop = 2.0 * 300 * 256 * 512 / 1e9;
            std::printf("GEMM 300x256x512 %s: %.3f ms wall, %.1f GFLOP/s wall, %.1f GFLOP/s per CPU-second\n",
                        bf16 ? "bf16" : "fp32", tm.wall_ms, gflop / tm.wall_ms * 1e3, gflop / tm.cpu_ms * 1e3);
        }
    }
    std::printf("targets: <= 4 ms per pass, >= 50 windows/s\n");
    return 0;
}
