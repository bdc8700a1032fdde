#pragma once
// A caching allocator for LibTorch's large CPU buffers. glibc returns blocks above its mmap threshold
// (at most 32 MB) to the kernel when they are freed, so every large temporary of a training step or
// a batched denoiser pass was a fresh mapping, paid for with one page fault per 4 KiB on first touch
// (measured: a 92 MB softmax spent 4/5 of its time faulting). Freed blocks of 1 MiB and more are kept
// and reused; blocks of 2 MiB and more are 2 MiB aligned and advised as transparent huge pages.
// No torch in this header.
#include <cstddef>

namespace s2m::model {

struct CpuCacheStats {
    size_t cached_bytes = 0;        // free blocks held for reuse
    size_t in_use_bytes = 0;        // blocks handed out (large blocks only)
    size_t peak_in_use_bytes = 0;
    size_t hits = 0, misses = 0;
};

// Makes the caching allocator LibTorch's CPU allocator (once; later calls only change the cap).
// Free blocks beyond `max_cached_bytes` are returned to the system, largest first.
void install_cpu_cache(size_t max_cached_bytes = size_t(4) << 30);
CpuCacheStats cpu_cache_stats();
// Returns every cached free block to the system.
void release_cpu_cache();

}  // namespace s2m::model
