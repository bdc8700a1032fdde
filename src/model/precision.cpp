#include "step2motion/model/precision.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/networks.hpp"

namespace s2m::model {

namespace fs = std::filesystem;

std::string to_string(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

namespace {

// The GPU's model from the NVIDIA driver (no CUDA headers needed, so that the CPU build has it too).
std::string gpu_name() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/driver/nvidia/gpus", ec)) {
        std::ifstream in(e.path() / "information");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("Model:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 6));
    }
    return "unknown";
}

std::string machine_key(const torch::Device& device) {
    if (device.is_cuda()) return "cuda|torch=" TORCH_VERSION "|gpu=" + gpu_name();
    const CpuFeatures f = cpu_features();
    std::string key = f.model + "|avx2=" + std::to_string(f.avx2) + ",avx512f=" + std::to_string(f.avx512f) +
                      ",avx512_bf16=" + std::to_string(f.avx512_bf16) + ",amx_bf16=" + std::to_string(f.amx_bf16) +
                      "|threads=" + std::to_string(at::get_num_threads()) + "|torch=" + TORCH_VERSION;
    return key;
}

fs::path cache_file() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    fs::path dir = xdg && *xdg ? fs::path(xdg) : home && *home ? fs::path(home) / ".cache" : fs::path();
    if (dir.empty()) return {};
    return dir / "step2motion" / "precision.json";
}

double step_ms(Step2Motion& model, const DiffusionSchedule& schedule, bool bf16, const torch::Device& device) {
    const int64_t B = device.is_cuda() ? 64 : 4, S = model->config.input_T;
    const auto opts = torch::TensorOptions().device(device);
    auto x0 = torch::randn({B, S, io::kJointValues}, opts), c = torch::randn({B, S, io::kInsoleChannels}, opts);
    auto t = torch::randint(0, schedule.steps() + 1, {B}, opts.dtype(torch::kLong));
    auto run = [&] {
        {
            Autocast autocast(bf16, device);
            auto cond = model->condition(c);
            auto loss = pose_loss(model->denoise(schedule.q_sample(x0, t, torch::randn_like(x0)), t, &cond).to(torch::kFloat), x0);
            loss.backward();
        }
        if (device.is_cuda()) torch::cuda::synchronize();
    };
    run();  // warm-up: oneDNN builds its kernels on first use
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        run();
        best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

}  // namespace

PrecisionProbe probe_precision(bool use_cache, const std::string& device_name) {
    const torch::Device device(device_name);
    PrecisionProbe p;
    p.machine = machine_key(device);
    const fs::path file = cache_file();
    nlohmann::json cache = nlohmann::json::object();
    if (!file.empty() && fs::exists(file)) {
        try {
            cache = nlohmann::json::parse(read_text_file(file.string()));
            if (!cache.is_object()) cache = nlohmann::json::object();
        } catch (const std::exception&) {
            cache = nlohmann::json::object();  // unreadable cache: measure again and rewrite it
        }
    }
    if (use_cache && cache.contains(p.machine)) {
        const auto& e = cache[p.machine];
        if (e.is_object() && e.value("fp32_ms", 0.0) > 0 && e.value("bf16_ms", 0.0) > 0) {
            p.fp32_ms = e["fp32_ms"].get<double>();
            p.bf16_ms = e["bf16_ms"].get<double>();
            p.fastest = p.bf16_ms < p.fp32_ms ? Precision::Bf16 : Precision::Fp32;
            p.source = "cached in " + file.string();
            return p;
        }
    }
    {
        // The probe's weights come from seed 0; the caller's random stream is restored afterwards.
        auto gen = at::detail::getDefaultCPUGenerator();
        const auto state = [&] {
            std::lock_guard<std::mutex> lock(gen.mutex());
            return gen.get_state();
        }();
        torch::manual_seed(0);
        ModelConfig c;
        c.input_T = 50;
        Step2Motion model(c);
        model->train();
        model->to(device);
        DiffusionSchedule schedule(c);
        schedule.to(device);
        p.fp32_ms = step_ms(model, schedule, false, device);
        p.bf16_ms = step_ms(model, schedule, true, device);
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state);
    }
    p.fastest = p.bf16_ms < p.fp32_ms ? Precision::Bf16 : Precision::Fp32;
    p.source = "measured now";
    if (!file.empty()) {
        try {
            fs::create_directories(file.parent_path());
            cache[p.machine] = {{"fp32_ms", p.fp32_ms}, {"bf16_ms", p.bf16_ms}};
            write_file_atomic(file.string(), cache.dump(2) + "\n");
        } catch (const std::exception& e) {
            spdlog::debug("precision probe: cannot write {}: {}", file.string(), e.what());
        }
    }
    return p;
}

Precision resolve_precision(const std::string& requested, const std::string& device) {
    if (requested == "fp32") return Precision::Fp32;
    if (requested == "bf16") return Precision::Bf16;
    if (requested != "auto") fail_input("--precision " + requested + ": expected auto, fp32 or bf16");
    const PrecisionProbe p = probe_precision(true, device);
    spdlog::debug("precision auto: {} (probe step fp32 {:.1f} ms, bf16 {:.1f} ms, {})", to_string(p.fastest), p.fp32_ms,
                  p.bf16_ms, p.source);
    return p.fastest;
}

}  // namespace s2m::model
