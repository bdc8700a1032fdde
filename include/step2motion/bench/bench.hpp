#pragma once
// `s2m bench`: the toolkit's speed figures in one place (BVH and Moticon parsing, GEMM, denoiser
// passes, training throughput, reconstruction real-time factors), measured on this machine.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace s2m::bench {

struct BenchOptions {
    int hidden_dim = 256, num_layers = 2, window = 100;  // the paper's size
    double motion_s = 20;                                  // length of the reconstructed sequence
    bool quick = false;                                    // fewer repetitions
    bool profile = false;                                  // top operators of one pass and one training step
    std::string precision = "auto";                        // of the reconstruction figures (auto, fp32, bf16)
    std::string device = "cpu";                            // networks' figures on cpu, cuda or auto
    double hour_s = 3600;                                  // length of the peak-memory run (0: skip)
    std::function<void(const std::string&)> on_figure;     // called as each figure is ready
};

nlohmann::json run_benchmarks(const BenchOptions& options);

// The CPU's arithmetic peak on `threads` threads, from independent multiply-adds kept in registers:
// AVX-512 bf16 dot products (vdpbf16ps) with bf16 = true, float FMAs (AVX-512, else AVX2) with
// false. 0 where the CPU lacks those instructions. About 0.1 s per call.
double cpu_peak_gflops(bool bf16, int threads);

}  // namespace s2m::bench
