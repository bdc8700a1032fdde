#include "step2motion/model/memory.hpp"

#include "step2motion/model/torch_compat.hpp"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

namespace s2m::model {

namespace {

constexpr size_t kMinCached = size_t(1) << 20;  // smaller blocks stay with malloc
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kAlignment = 64;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

class CpuCache {
public:
    void* take(size_t n) {
        const size_t size = n >= kHugePage ? round_up(n, kHugePage) : round_up(n, size_t(64) << 10);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            // Best fit, but never a block more than 1.25x the request (a big block would be tied up).
            auto it = free_.lower_bound(size);
            if (it != free_.end() && it->first <= size + size / 4) {
                void* p = it->second;
                stats_.cached_bytes -= it->first;
                in_use_[p] = it->first;
                free_.erase(it);
                note_use(in_use_[p]);
                ++stats_.hits;
                return p;
            }
            ++stats_.misses;
        }
        void* p = nullptr;
        const size_t align = size >= kHugePage ? kHugePage : kAlignment;
        if (posix_memalign(&p, align, size) != 0 || !p) throw std::bad_alloc();
        if (size >= kHugePage) ::madvise(p, size, MADV_HUGEPAGE);  // a hint; ignored where THP is off
        std::lock_guard<std::mutex> lock(mutex_);
        in_use_[p] = size;
        note_use(size);
        return p;
    }

    void give_back(void* p) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = in_use_.find(p);
        if (it == in_use_.end()) {  // a small block: straight back to malloc
            std::free(p);
            return;
        }
        const size_t size = it->second;
        in_use_.erase(it);
        stats_.in_use_bytes -= size;
        free_.emplace(size, p);
        stats_.cached_bytes += size;
        trim(max_cached_);
    }

    void set_cap(size_t cap) {
        std::lock_guard<std::mutex> lock(mutex_);
        max_cached_ = cap;
        trim(max_cached_);
    }
    void release() {
        std::lock_guard<std::mutex> lock(mutex_);
        trim(0);
    }
    CpuCacheStats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

private:
    void note_use(size_t size) {
        stats_.in_use_bytes += size;
        if (stats_.in_use_bytes > stats_.peak_in_use_bytes) stats_.peak_in_use_bytes = stats_.in_use_bytes;
    }
    void trim(size_t cap) {
        while (stats_.cached_bytes > cap && !free_.empty()) {
            auto last = std::prev(free_.end());
            stats_.cached_bytes -= last->first;
            std::free(last->second);
            free_.erase(last);
        }
    }

    std::mutex mutex_;
    std::multimap<size_t, void*> free_;
    std::unordered_map<void*, size_t> in_use_;
    size_t max_cached_ = size_t(4) << 30;
    CpuCacheStats stats_;
};

CpuCache& cache() {
    static CpuCache* c = new CpuCache();  // never destroyed: tensors may outlive static destruction
    return *c;
}

void release_block(void* p) { cache().give_back(p); }

// Every block carries the same deleter (ATen's raw_allocate/raw_deallocate require one): small
// blocks come from posix_memalign and go back to free.
class CachingCpuAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) S2M_ALLOCATE_CONST override {
        void* p = nullptr;
        if (n >= kMinCached) {
            p = cache().take(n);
        } else if (posix_memalign(&p, kAlignment, n == 0 ? kAlignment : n) != 0 || !p) {
            throw std::bad_alloc();
        }
        return {p, p, &release_block, c10::Device(c10::DeviceType::CPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override { return &release_block; }
    S2M_ALLOCATOR_COPY_DATA
};

}  // namespace

void install_cpu_cache(size_t max_cached_bytes) {
    static std::once_flag once;
    std::call_once(once, [] {
        static CachingCpuAllocator allocator;
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
    });
    cache().set_cap(max_cached_bytes);
}

CpuCacheStats cpu_cache_stats() { return cache().stats(); }

void release_cpu_cache() { cache().release(); }

}  // namespace s2m::model
