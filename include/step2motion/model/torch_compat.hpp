#pragma once
// The one place that knows which LibTorch it is built against: Debian's 1.13 (the default) or a
// 2.x from PyPI's `torch` wheel (the CUDA build). Everything version-dependent goes through here.
// Internal to the library's torch sources (it includes ATen).
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>

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

// softmax(q·kᵀ + bias)·v as one fused kernel: 2.1+'s scaled_dot_product_attention. The callers fold
// 1/√d into q's weights, so it runs with scale 1. Used where it is the faster: on CUDA (flash and
// memory-efficient kernels; the explicit path holds every logit) and for float32 on the CPU (3-4 %
// faster per denoiser pass on a 2-core EPYC). For bf16 on the CPU the explicit batched GEMMs with the
// in-place softmax are 14-37 % faster, and 1.13 has no such operator: there the callers keep them.
// S2M_FUSED_ATTENTION=0 keeps them everywhere (to time one against the other).
inline bool use_fused_attention(const at::Tensor& q) {
#if S2M_TORCH_AT_LEAST(2, 1)
    static const bool enabled = [] {
        const char* v = std::getenv("S2M_FUSED_ATTENTION");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return enabled && (q.is_cuda() || q.scalar_type() != at::kBFloat16);
#else
    (void)q;
    return false;
#endif
}

// q [.., N, dh], k and v [.., S, dh], bias broadcastable to [.., N, S] in q's dtype (or undefined).
inline at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias) {
#if S2M_TORCH_AT_LEAST(2, 1)
    return at::scaled_dot_product_attention(q, k, v, bias.defined() ? std::optional<at::Tensor>(bias) : std::nullopt,
                                            0.0, false, 1.0);
#else
    TORCH_CHECK(false, "fused attention needs LibTorch 2.1 or later");
    return {};
#endif
}

}  // namespace s2m::model::compat
