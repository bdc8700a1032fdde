// Benchmark: BVH read and write speed (MB/s) and the fp32 matrix-product rate LibTorch reaches
// through the BLAS that s2m selects. Prints figures; not a test.
//   bench_io [BVH files or folders...]   (default: data/mocap and ../shared/data/mocap)
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "step2motion/core/files.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/io/bvh.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
    s2m::ensure_fast_blas(argc, argv);
    std::vector<std::string> roots;
    for (int i = 1; i < argc; ++i) roots.emplace_back(argv[i]);
    if (roots.empty()) {
        roots.push_back(std::string(S2M_SOURCE_DIR) + "/data/mocap");
        roots.push_back(std::string(S2M_SOURCE_DIR) + "/../shared/data/mocap");
    }
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const auto& root : roots) {
        if (!fs::exists(root)) continue;
        auto add = [&](const fs::path& p) {
            if (p.extension() == ".bvh") {
                texts.push_back(s2m::read_text_file(p.string()));
                bytes += texts.back().size();
            }
        };
        if (fs::is_directory(root)) {
            for (const auto& e : fs::recursive_directory_iterator(root)) add(e.path());
        } else {
            add(root);
        }
    }
    if (texts.empty()) {
        std::fprintf(stderr, "bench_io: no BVH files found\n");
        return 2;
    }
    const double mb = bytes / 1e6;
    // Read: parse from memory (the file cache makes disk time negligible and variable).
    double best_read = 1e30;
    std::vector<s2m::io::Bvh> parsed(texts.size());
    for (int rep = 0; rep < 3; ++rep) {
        auto t = Clock::now();
        for (size_t i = 0; i < texts.size(); ++i) parsed[i] = s2m::io::parse_bvh(texts[i], "bench");
        best_read = std::min(best_read, seconds_since(t));
    }
    double best_write = 1e30;
    size_t written = 0;
    for (int rep = 0; rep < 3; ++rep) {
        written = 0;
        auto t = Clock::now();
        for (const auto& b : parsed) written += s2m::io::format_bvh(b, {6}).size();
        best_write = std::min(best_write, seconds_since(t));
    }
    std::printf("bvh files: %zu, %.1f MB\n", texts.size(), mb);
    std::printf("bvh_read_mb_s: %.1f\n", mb / best_read);
    std::printf("bvh_write_mb_s: %.1f (%.1f MB of output, 6 decimals)\n", written / 1e6 / best_write, written / 1e6);

    // GEMM: square fp32 products at sizes the networks use in batches.
    const int threads = s2m::available_cores();
    torch::set_num_threads(threads);
    torch::NoGradGuard no_grad;
    const auto blas = s2m::blas_info();
    std::printf("blas: %s, core %s, %d threads\n", blas.library.c_str(), blas.core.c_str(), threads);
    for (int n : {512, 1024, 2048}) {
        auto a = torch::randn({n, n}), b = torch::randn({n, n});
        torch::mm(a, b);
        int reps = n <= 512 ? 50 : n <= 1024 ? 10 : 3;
        auto t = Clock::now();
        for (int r = 0; r < reps; ++r) torch::mm(a, b);
        const double s = seconds_since(t) / reps;
        std::printf("gemm_fp32_gflops (n=%d): %.1f\n", n, 2.0 * n * n * n / s / 1e9);
    }
    return 0;
}
