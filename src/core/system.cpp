#include "step2motion/core/system.hpp"

#include <cpuid.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace s2m {

namespace {
bool cpuid_bit(unsigned leaf, unsigned subleaf, int reg, int bit) {
    unsigned r[4] = {0, 0, 0, 0};
    if (!__get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3])) return false;
    return (r[reg] >> bit) & 1u;
}
}  // namespace

int available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1u, std::thread::hardware_concurrency());
}

CpuFeatures cpu_features() {
    CpuFeatures f;
    enum { EAX, EBX, ECX, EDX };
    f.avx2 = cpuid_bit(7, 0, EBX, 5);
    f.fma = cpuid_bit(1, 0, ECX, 12);
    f.avx512f = cpuid_bit(7, 0, EBX, 16);
    f.avx512dq = cpuid_bit(7, 0, EBX, 17);
    f.avx512bw = cpuid_bit(7, 0, EBX, 30);
    f.avx512vl = cpuid_bit(7, 0, EBX, 31);
    f.avx512_bf16 = cpuid_bit(7, 1, EAX, 5);
    f.amx_bf16 = cpuid_bit(7, 0, EDX, 22);
    f.amx_tile = cpuid_bit(7, 0, EDX, 24);
    f.logical_cores = available_cores();
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) f.model = line.substr(colon + 2);
            break;
        }
    }
    return f;
}

void ensure_fast_blas(int argc, char** argv, bool needed) {
    (void)argc;
    if (!needed || std::getenv("OPENBLAS_CORETYPE") || std::getenv("S2M_NO_REEXEC")) return;
    CpuFeatures f = cpu_features();
    if (!f.avx512f) return;
    // Mark the re-executed process so that a failing exec can never loop.
    ::setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    ::setenv("S2M_NO_REEXEC", "1", 0);
    ::execv("/proc/self/exe", argv);
    // exec failed: carry on with the slow kernel rather than fail.
    ::unsetenv("S2M_NO_REEXEC");
}

BlasInfo blas_info() {
    BlasInfo info;
    using CharFn = char* (*)();
    using IntFn = int (*)();
    auto config = reinterpret_cast<CharFn>(::dlsym(RTLD_DEFAULT, "openblas_get_config"));
    auto core = reinterpret_cast<CharFn>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    auto threads = reinterpret_cast<IntFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    auto parallel = reinterpret_cast<IntFn>(::dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (config) {
        info.library = std::string("OpenBLAS ") + config();
        if (parallel) info.library += parallel() == 2 ? " (OpenMP)" : parallel() == 1 ? " (pthreads)" : " (serial)";
    } else {
        info.library = "not OpenBLAS (reference BLAS? install libopenblas0-openmp)";
    }
    info.core = core ? core() : "unknown";
    info.threads = threads ? threads() : 0;
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    info.coretype_env = env ? env : "";
    return info;
}

}  // namespace s2m
