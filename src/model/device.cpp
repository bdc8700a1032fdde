#include "step2motion/model/device.hpp"

#include <torch/torch.h>

#include "step2motion/core/error.hpp"

namespace s2m::model {

bool cuda_available() { return torch::cuda::is_available(); }

std::string resolve_device(const std::string& requested) {
    if (requested == "cpu") return "cpu";
    if (requested == "auto") return cuda_available() ? "cuda" : "cpu";
    if (requested != "cuda") fail_input("--device " + requested + ": expected cpu, cuda or auto");
    if (!cuda_available())
        fail_input("--device cuda: this LibTorch has no CUDA support or no GPU is visible (build with scripts/build.sh "
                   "--torch pip for CUDA; --device auto falls back to the CPU)");
    return "cuda";
}

}  // namespace s2m::model
