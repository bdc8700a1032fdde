#pragma once
// The one place that knows which LibTorch it is built against: Debian's 1.13 (the default) or a
// 2.x from PyPI's `torch` wheel (the CUDA build). Everything version-dependent goes through here.
// Internal to the library's torch sources (it includes ATen).
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define S2M_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// The c10d class that runs collectives: 2.0 split ProcessGroup into a front and per-device Backends
// (ProcessGroupGloo and ProcessGroupNCCL became Backends).
namespace c10d {
#if S2M_TORCH_AT_LEAST(2, 0)
class Backend;
#else
class ProcessGroup;
#endif
}  // namespace c10d

// c10::Allocator: 2.x made allocate() non-const and copy_data() a required override.
#if S2M_TORCH_AT_LEAST(2, 2)
#define S2M_ALLOCATE_CONST
#define S2M_ALLOCATOR_COPY_DATA \
    void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
#define S2M_ALLOCATE_CONST const
#define S2M_ALLOCATOR_COPY_DATA
#endif

namespace s2m::model::compat {

#if S2M_TORCH_AT_LEAST(2, 0)
using CollectiveBackend = ::c10d::Backend;
#else
using CollectiveBackend = ::c10d::ProcessGroup;
#endif

// Autocast state per device type (CPU or CUDA); 2.4 replaced the per-device function names by
// functions taking the device type.
inline bool autocast_enabled(c10::DeviceType d) {
#if S2M_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(d);
#else
    return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

inline at::ScalarType autocast_dtype(c10::DeviceType d) {
#if S2M_TORCH_AT_LEAST(2, 4)
    return at::autocast::get_autocast_dtype(d);
#else
    return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

inline void set_autocast(c10::DeviceType d, bool enabled, at::ScalarType dtype) {
#if S2M_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(d, enabled);
    at::autocast::set_autocast_dtype(d, dtype);
#else
    if (d == c10::DeviceType::CPU) {
        at::autocast::set_cpu_enabled(enabled);
        at::autocast::set_autocast_cpu_dtype(dtype);
    } else {
        at::autocast::set_enabled(enabled);
        at::autocast::set_autocast_gpu_dtype(dtype);
    }
#endif
}

}  // namespace s2m::model::compat
