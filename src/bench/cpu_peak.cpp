#include "step2motion/bench/bench.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "step2motion/core/system.hpp"

namespace s2m::bench {

namespace {

// 24 independent accumulators hide the multiply-add latency (4-6 cycles) at 2 issues per cycle.
constexpr int kChains = 24;
constexpr long kIterations = 20'000'000;

// The accumulators' sum, so that the loops cannot be optimised away (a byte copy rather than
// _mm512_reduce_add_ps, in which GCC 12 warns of an uninitialised variable).
template <typename Vector, size_t N>
float sum_lanes(const Vector (&acc)[N]) {
    float s = 0;
    for (const auto& a : acc) {
        float lanes[sizeof(Vector) / sizeof(float)];
        std::memcpy(lanes, &a, sizeof a);
        for (float v : lanes) s += v;
    }
    return s;
}

__attribute__((target("avx512f,avx512bf16"))) float bf16_dot_loop(long iterations) {
    __m512 acc[kChains];
    for (auto& a : acc) a = _mm512_setzero_ps();
    const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3c00));  // 2^-7 in bfloat16
    for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 24
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], x, x);
    }
    return sum_lanes(acc);
}

__attribute__((target("avx512f"))) float fp32_fma512_loop(long iterations) {
    __m512 acc[kChains];
    for (auto& a : acc) a = _mm512_setzero_ps();
    const __m512 x = _mm512_set1_ps(1e-7f), y = _mm512_set1_ps(1.0f);
    for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 24
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(x, y, acc[c]);
    }
    return sum_lanes(acc);
}

__attribute__((target("avx2,fma"))) float fp32_fma256_loop(long iterations) {
    __m256 acc[kChains / 2];
    for (auto& a : acc) a = _mm256_setzero_ps();
    const __m256 x = _mm256_set1_ps(1e-7f), y = _mm256_set1_ps(1.0f);
    for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains / 2; ++c) acc[c] = _mm256_fmadd_ps(x, y, acc[c]);
    }
    return sum_lanes(acc);
}

// Wall time of `threads` threads each running loop(kIterations), started together.
double timed_on_threads(int threads, float (*loop)(long)) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    std::vector<float> sink(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ++ready;
            while (!go.load()) std::this_thread::yield();
            sink[static_cast<size_t>(t)] = loop(kIterations);
        });
    while (ready.load() < threads) std::this_thread::yield();
    const auto start = std::chrono::steady_clock::now();
    go = true;
    for (auto& th : pool) th.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

double cpu_peak_gflops(bool bf16, int threads) {
    const CpuFeatures f = cpu_features();
    float (*loop)(long) = nullptr;
    double flop_per_iteration = 0;
    if (bf16 && f.avx512_bf16 && f.avx512f) {
        loop = &bf16_dot_loop;
        flop_per_iteration = kChains * 16 * 2 * 2.0;  // 16 lanes, each 2 products summed into 1
    } else if (!bf16 && f.avx512f) {
        loop = &fp32_fma512_loop;
        flop_per_iteration = kChains * 16 * 2.0;
    } else if (!bf16 && f.avx2 && f.fma) {
        loop = &fp32_fma256_loop;
        flop_per_iteration = kChains / 2 * 8 * 2.0;
    }
    if (!loop || threads < 1) return 0;
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) best = std::min(best, timed_on_threads(threads, loop));
    return threads * kIterations * flop_per_iteration / best / 1e9;
}

}  // namespace s2m::bench
