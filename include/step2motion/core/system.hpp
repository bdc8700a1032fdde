#pragma once
// What the machine offers for number crunching, and getting the fast BLAS kernel without user effort.
#include <string>

namespace s2m {

struct CpuFeatures {
    std::string model;
    bool avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
    bool avx512_bf16 = false, amx_bf16 = false, amx_tile = false;
    int logical_cores = 1;
};
CpuFeatures cpu_features();

// Debian's OpenBLAS 0.3.21 does not know Sapphire Rapids and falls back to the generic "Prescott"
// kernel (4-5x slower fp32 GEMM). When the CPU has AVX-512 and OPENBLAS_CORETYPE is unset, set it
// to SkylakeX and re-execute this program so that OpenBLAS reads it at load time. Never overrides a
// value already set; S2M_NO_REEXEC=1 disables it. `needed` = false skips it for commands that do no
// linear algebra (a re-exec costs a second LibTorch start-up). Returns only when no re-exec happened.
void ensure_fast_blas(int argc, char** argv, bool needed = true);

struct BlasInfo {
    std::string library;  // e.g. "OpenBLAS 0.3.21 ... (OpenMP)", or "unknown"
    std::string core;     // the kernel OpenBLAS chose, e.g. "SkylakeX"
    int threads = 0;
    std::string coretype_env;  // OPENBLAS_CORETYPE as seen by this process
};
BlasInfo blas_info();

int available_cores();

}  // namespace s2m
