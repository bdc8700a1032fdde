#pragma once
// Weights on disk: the reference's plain-dict .pt files (torch.save of a dict of tensors) and our own
// checkpoint = weights + config (JSON) + normalisation statistics + format version, in the same
// container so that either can be opened with torch.load in Python.
#include "step2motion/model/networks.hpp"

#include <map>
#include <string>
#include <vector>

namespace s2m::model {

using TensorDict = std::map<std::string, torch::Tensor>;

// A torch.save file holding a dict (string keys; tensors, strings or ints as values), read and
// written atomically; InputError "<path>: ..." when unreadable or not a dict. The container of
// checkpoints and of trained model files.
c10::impl::GenericDict read_generic_dict(const std::string& path);
void write_generic_dict(const std::string& path, const c10::impl::GenericDict& dict);

// A .pt file holding a plain dict of tensors (our checkpoints' "s2m.*" metadata entries are skipped);
// InputError "<path>: ..." for anything else.
TensorDict read_tensor_dict(const std::string& path);
// Written atomically (temporary + rename).
void write_tensor_dict(const std::string& path, const TensorDict& dict);

// named_parameters() + named_buffers() of `module`, with `prefix` prepended.
TensorDict module_state(const torch::nn::Module& module, const std::string& prefix = "");
std::vector<std::string> state_names(const torch::nn::Module& module);
// Copies dict[prefix + name] into every parameter and buffer. Strict: a missing key, an unexpected
// key under `prefix`, or a shape mismatch is an InputError naming `source` and the key.
void load_module_state(torch::nn::Module& module, const TensorDict& dict, const std::string& prefix,
                       const std::string& source);

// The three networks from "prior.", "control." and "root." entries (strict, as above).
void load_networks(Step2Motion& model, const TensorDict& dict, const std::string& source);

// Sizes from the "config.*" entries of a reference dict (root layers counted from the keys).
ModelConfig config_from_reference_dict(const TensorDict& dict, const std::string& source);
// A reference plain-dict file (prior.*, control.*, root.*, config.*) → networks with its weights.
Step2Motion load_reference_weights(const std::string& path);
// The reverse: our networks as a reference-style plain dict (config.* + weights), e.g. for fixtures.
TensorDict reference_dict(Step2Motion& model);

// Per-channel z-score statistics (reference §2): poses 66 = displacement 3 + joints 63, insoles 50.
struct NormalizationStats {
    torch::Tensor pose_mean, pose_std, insole_mean, insole_std;
    // Empty when valid, else why (sizes, non-finite values, std <= 0).
    std::string check() const;
};

constexpr int kCheckpointFormatVersion = 1;

struct Checkpoint {
    ModelConfig config;
    Step2Motion model{nullptr};
    NormalizationStats stats;
    int format_version = kCheckpointFormatVersion;
};

void save_checkpoint(const std::string& path, Step2Motion& model, const NormalizationStats& stats);
// Reads everything back and checks it: format version, config JSON, every weight's presence and shape,
// the statistics. With `expected`, also that the stored config equals it. One-line InputError otherwise.
Checkpoint load_checkpoint(const std::string& path, const ModelConfig* expected = nullptr);

}  // namespace s2m::model
