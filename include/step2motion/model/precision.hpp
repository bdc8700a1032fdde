#pragma once
// float32 or bfloat16 compute, chosen per machine: bfloat16 (CPU autocast → oneDNN) is 2-3x faster
// where the CPU has bf16 dot-product units (AVX512_BF16, AMX) and slower where oneDNN has to emulate
// them, so `--precision auto` times both once and caches the answer per machine. No torch here.
#include <string>

namespace s2m::model {

enum class Precision { Fp32, Bf16 };
std::string to_string(Precision p);

struct PrecisionProbe {
    double fp32_ms = 0, bf16_ms = 0;  // one probe training step (forward + backward), best of 3
    Precision fastest = Precision::Fp32;
    std::string source;               // "measured now" or "cached in <file>"
    std::string machine;              // what the cache entry is keyed on
};

// A training step of a small Step2Motion network (hidden 256, 2 layers, 50 frames, batch 4) in both
// precisions, on the current thread count. The result is cached in
// $XDG_CACHE_HOME/step2motion/precision.json (default ~/.cache/...) per CPU model, CPU features,
// thread count and LibTorch version; `use_cache` false measures afresh (and updates the cache).
// `device` "cuda" probes the GPU instead (bf16 autocast on CUDA), cached under the GPU's name.
PrecisionProbe probe_precision(bool use_cache = true, const std::string& device = "cpu");

// "fp32" or "bf16": that one; "auto": the probe's fastest on `device` (cpu or cuda, already
// resolved). InputError for anything else.
Precision resolve_precision(const std::string& requested, const std::string& device = "cpu");

}  // namespace s2m::model
