#pragma once
// Where the networks run. No torch here: tools and the torch-free areas pass device names.
#include <string>

namespace s2m::model {

// "cpu" or "cuda": that one ("cuda" fails with one line when this LibTorch has no CUDA or no GPU is
// visible); "auto": cuda when available, else cpu. InputError for anything else.
std::string resolve_device(const std::string& requested);

// Whether this LibTorch was built with CUDA and sees a GPU.
bool cuda_available();

}  // namespace s2m::model
