#include "step2motion/bench/bench.hpp"

#include <chrono>
#include <fstream>
#include <cmath>
#include <sstream>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "step2motion/core/system.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/kernels.hpp"
#include "step2motion/model/layers.hpp"
#include "step2motion/model/memory.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/model/bundle.hpp"
#include "step2motion/model/profile.hpp"

namespace s2m::bench {

using infer::InsoleSequence;
using infer::ReconstructOptions;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Best of `reps` timings of fn, in seconds.
double best_of(int reps, const std::function<void()>& fn) {
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        auto t = Clock::now();
        fn();
        best = std::min(best, seconds_since(t));
    }
    return best;
}

// The whole operator table of a profile (s2m -v bench --profile): self ms, calls, share.
void log_profile(const char* what, const model::OpProfile& prof) {
    spdlog::debug("profile of {}: {:.2f} ms in operators on the calling thread", what, prof.total_ms);
    for (const auto& op : prof.ops)
        spdlog::debug("  {:<40} {:9.3f} ms {:6} calls {:5.1f} %{}", op.name, op.self_ms, op.calls,
                      prof.total_ms > 0 ? 100 * op.self_ms / prof.total_ms : 0.0,
                      op.gflop > 0 && op.self_ms > 0 ? fmt::format(" {:7.1f} GFLOPS", op.gflop / op.self_ms * 1e3) : "");
}

// Peak resident set size of this process (VmHWM), and resetting it (Linux >= 4.0).
double peak_rss_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// A synthetic BVH text (canonical-sized hierarchy, 10 s at 120 fps) for parse timing.
std::string sample_bvh() {
    io::Bvh b;
    const int J = 22;
    for (int j = 0; j < J; ++j) {
        io::BvhJoint joint;
        joint.name = "j" + std::to_string(j);
        joint.parent = j == 0 ? -1 : j - 1;
        joint.offset = Eigen::Vector3d(0, 0.1, 0);
        if (j == 0) joint.channels = {io::Channel::Xposition, io::Channel::Yposition, io::Channel::Zposition};
        for (auto c : {io::Channel::Zrotation, io::Channel::Xrotation, io::Channel::Yrotation}) joint.channels.push_back(c);
        joint.first_channel = b.num_channels;
        b.num_channels += static_cast<int>(joint.channels.size());
        b.joints.push_back(joint);
    }
    b.num_frames = 1200;
    b.frame_time_s = 1.0 / 120;
    b.values.resize(static_cast<size_t>(b.num_frames) * b.num_channels);
    for (size_t i = 0; i < b.values.size(); ++i) b.values[i] = std::sin(0.001 * i) * 90;
    return io::format_bvh(b, {5});
}

std::string sample_moticon(int frames) {
    io::MoticonRecording r;
    r.header_style = "current";
    r.insole_size = 6;
    r.rate_hz = 100;
    r.header["Size"] = "6";
    r.time_s.resize(static_cast<size_t>(frames));
    for (int f = 0; f < frames; ++f) r.time_s[static_cast<size_t>(f)] = f * 0.01;
    for (auto& foot : r.feet) {
        foot.pressure_n_cm2 = (Eigen::MatrixXf::Random(frames, io::kPressureCells).array().abs() * 10).matrix();
        foot.pressure_n_cm2 = (foot.pressure_n_cm2 * 4).array().round().matrix() / 4;
        foot.acceleration_g = Eigen::MatrixXf::Random(frames, 3);
        foot.angular_rate_deg_s = Eigen::MatrixXf::Random(frames, 3) * 200;
        foot.total_force_n = Eigen::VectorXf::Random(frames).array().abs() * 500;
        foot.center_of_pressure = Eigen::MatrixXf::Random(frames, 2) * 0.4;
        foot.valid.assign(static_cast<size_t>(frames), 1);
    }
    return io::format_moticon(r);
}

}  // namespace

nlohmann::json run_benchmarks(const BenchOptions& o) {
    nlohmann::json j;
    auto report = [&](const std::string& key, double value) {
        j[key] = value;
        if (o.on_figure) {
            std::ostringstream s;
            s << key << ": " << value;
            o.on_figure(s.str());
        }
    };
    const int reps = o.quick ? 2 : 5;
    torch::manual_seed(0);

    {
        const std::string text = sample_bvh();
        const double s = best_of(reps, [&] { io::parse_bvh(text, "bench.bvh"); });
        report("bvh_read_mb_s", text.size() / 1e6 / s);
    }
    {
        const std::string text = sample_moticon(60000);
        const double s = best_of(reps, [&] { io::parse_moticon(text, "bench.txt"); });
        report("moticon_read_mb_s", text.size() / 1e6 / s);
    }
    {
        torch::NoGradGuard no_grad;
        const int n = 1024;
        auto a = torch::randn({n, n}), b = torch::randn({n, n});
        const double s = best_of(reps * 2, [&] { torch::mm(a, b); });
        report("gemm_fp32_gflops", 2.0 * n * n * n / s / 1e9);
    }
    // What the cores can do at best, for holding the figures below against.
    const double peak_fp32 = cpu_peak_gflops(false, at::get_num_threads());
    const double peak_bf16 = cpu_peak_gflops(true, at::get_num_threads());
    if (peak_fp32 > 0) report("cpu_peak_gflops_fp32", peak_fp32);
    if (peak_bf16 > 0) report("cpu_peak_gflops_bf16", peak_bf16);

    // Networks at the requested size, random weights.
    model::TrainConfig config;
    config.hidden_dim = o.hidden_dim;
    config.num_layers = o.num_layers;
    config.input_T = o.window;
    model::ModelBundle bundle = model::ModelBundle::create(config);
    bundle.stats.pose_mean.assign(io::kRootAndJointValues, 0.f);
    bundle.stats.pose_std.assign(io::kRootAndJointValues, 1.f);
    bundle.stats.insole_mean.assign(io::kInsoleChannels, 0.f);
    bundle.stats.insole_std.assign(io::kInsoleChannels, 1.f);
    // The networks' figures on the requested device; parsing and GEMM above are the CPU's.
    const torch::Device dev(model::resolve_device(o.device));
    const auto on_dev = torch::TensorOptions().device(dev);
    const auto sync = [&] {
        if (dev.is_cuda()) torch::cuda::synchronize();
    };
    j["device"] = dev.str();
    bundle.to(dev);
    model::DiffusionSchedule schedule(config.model_config());
    schedule.to(dev);
    const model::PrecisionProbe probe = model::probe_precision(true, dev.str());
    const bool auto_bf16 = o.precision == "auto" ? probe.fastest == model::Precision::Bf16 : o.precision == "bf16";
    j["precision_auto"] = model::to_string(probe.fastest);
    j["precision"] = auto_bf16 ? "bf16" : "fp32";
    j["precision_probe"] = {{"fp32_ms", probe.fp32_ms}, {"bf16_ms", probe.bf16_ms}, {"source", probe.source}};
    j["fast_kernels"] = model::kernels::isa();

    // One denoiser pass, batch 1, cached conditioning (as the sampler runs it).
    auto x = torch::randn({1, o.window, io::kJointValues}, on_dev);
    auto c = torch::randn({1, o.window, io::kInsoleChannels}, on_dev);
    auto t1 = torch::full({1}, 100, on_dev.dtype(torch::kLong));
    // The pass runs inside one inference/autocast scope, as in the sampler (weights cast once).
    auto time_passes = [&](bool bf16, int passes, const std::function<void(const std::function<void()>&)>& measure) {
        c10::InferenceMode inference;
        model::Autocast ac(bf16, dev);
        const auto cond = bundle.diffusion->condition(c);
        measure([&] { bundle.diffusion->denoise(x, t1, &cond); });
    };
    bundle.train(false);
    const int passes = o.quick ? 10 : 50;
    for (bool bf16 : {false, true})
        time_passes(bf16, passes, [&](const std::function<void()>& fn) {
            fn();
            const double s = best_of(3, [&] {
                for (int i = 0; i < passes; ++i) fn();
                sync();
            });
            report(bf16 ? "denoiser_pass_ms_bf16" : "denoiser_pass_ms_fp32", s / passes * 1e3);
        });
    // The pass's matrix products as LibTorch's profiler counts them, and the least time they alone
    // take at the CPU's peak: no implementation of this network passes faster on this CPU.
    time_passes(false, 1, [&](const std::function<void()>& fn) {
        fn();
        const double gflop = model::profile_ops(fn).matmul_gflop;
        report("denoiser_pass_matmul_gflop", gflop);
        if (!dev.is_cuda() && peak_fp32 > 0) report("denoiser_pass_floor_ms_fp32", gflop / peak_fp32 * 1e3);
        if (!dev.is_cuda() && peak_bf16 > 0) report("denoiser_pass_floor_ms_bf16", gflop / peak_bf16 * 1e3);
    });
    if (o.profile) {
        time_passes(auto_bf16, 10, [&](const std::function<void()>& fn) {
            fn();
            const auto prof = model::profile_ops([&] {
                for (int i = 0; i < 10; ++i) fn();
            });
            j["profile_pass"] = prof.summary(5);
            log_profile("one denoiser pass (x10)", prof);
        });
        if (o.on_figure) o.on_figure("profile_pass: " + j["profile_pass"].get<std::string>());
    }

    // Training throughput: batch 64, forward + backward + gradient clipping + Adam.
    bundle.train(true);
    auto params = bundle.diffusion->parameters();
    torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3));
    const int64_t B = 64;
    auto x0 = torch::randn({B, o.window, io::kJointValues}, on_dev);
    auto cb = torch::randn({B, o.window, io::kInsoleChannels}, on_dev);
    auto train_step = [&](bool bf16) {
        auto t = torch::randint(0, config.diffusion_T + 1, {B}, on_dev.dtype(torch::kLong));
        auto x_t = schedule.q_sample(x0, t, torch::randn_like(x0));
        auto keep = (torch::rand({B}, on_dev) >= 0.2).to(torch::kFloat);
        opt.zero_grad();
        torch::Tensor loss;
        {
            model::Autocast ac(bf16, dev);
            const auto cond = bundle.diffusion->condition(cb, keep);
            loss = model::pose_loss(bundle.diffusion->denoise(x_t, t, &cond).to(torch::kFloat), x0);
        }
        loss.backward();
        torch::nn::utils::clip_grad_norm_(params, 100.0);
        opt.step();
    };
    for (bool bf16 : {false, true}) {
        train_step(bf16);
        const int steps = o.quick ? 2 : 5;
        const double s = best_of(1, [&] {
            for (int i = 0; i < steps; ++i) train_step(bf16);
            sync();
        });
        report(bf16 ? "train_windows_per_s_bf16" : "train_windows_per_s_fp32", B * steps / s);
    }
    j["train_windows_per_s"] = j[auto_bf16 ? "train_windows_per_s_bf16" : "train_windows_per_s_fp32"];
    if (o.profile) {
        const auto prof = model::profile_ops([&] { train_step(auto_bf16); });
        j["profile_train_step"] = prof.summary(5);
        log_profile("one training step", prof);
        if (o.on_figure) o.on_figure("profile_train_step: " + j["profile_train_step"].get<std::string>());
    }
    bundle.train(false);

    // Random insoles of `seconds` at the model's rate, and the options every reconstruction figure shares.
    const auto random_sequence = [&bundle](const char* name, double seconds) {
        InsoleSequence seq;
        seq.name = name;
        seq.rate_hz = bundle.rate_hz;
        seq.insoles = Eigen::MatrixXf::Random(static_cast<int>(seconds * bundle.rate_hz), io::kInsoleChannels);
        seq.insole_heading_rad = 3 * Eigen::MatrixXf::Random(seq.insoles.rows(), 2);  // heading-frame models turn windows
        return seq;
    };
    ReconstructOptions base;
    base.progress = false;
    base.bf16 = auto_bf16;
    base.device = dev.str();
    {
        // Reconstruction of a sequence of motion_s seconds: full 200-step DDPM and the fast 20-step
        // sampler, in the precision auto picks.
        const InsoleSequence seq = random_sequence("bench", o.motion_s);
        ReconstructOptions ro = base;
        const double full = best_of(1, [&] { infer::reconstruct(bundle, {seq}, ro); });
        report("reconstruct_rtf_200", full / o.motion_s);
        ro.sampler = "fast";
        ro.steps = 20;
        const double fast = best_of(o.quick ? 1 : 3, [&] { infer::reconstruct(bundle, {seq}, ro); });
        report("reconstruct_rtf_fast", fast / o.motion_s);
        if (o.profile) log_profile("a reconstruction, 20-step fast sampler", model::profile_ops([&] { infer::reconstruct(bundle, {seq}, ro); }));
    }
    if (o.hour_s > 0) {
        // Peak resident memory of reconstructing o.hour_s seconds (an hour by default) with the fast
        // sampler at 2 steps: memory, not time, is measured here; it must not grow with the length.
        const InsoleSequence seq = random_sequence("hour", o.hour_s);
        ReconstructOptions ro = base;
        ro.sampler = "fast";
        ro.steps = 2;
        model::release_cpu_cache();
        reset_peak_rss();
        infer::reconstruct(bundle, {seq}, ro);
        report("reconstruct_1h_peak_mb", peak_rss_mb());
    }
    const auto blas = blas_info();
    j["blas_core"] = blas.core;
    j["threads"] = at::get_num_threads();
    j["model"] = {{"hidden_dim", o.hidden_dim}, {"num_layers", o.num_layers}, {"window", o.window}};
    return j;
}

}  // namespace s2m::bench
