#pragma once
// A trained model as users handle it: the pose network of any model_type, the IMU-only root
// network, the normalisation statistics, the training config and a default output skeleton, in one
// file (MODEL_DIR/model.pt) that torch.load also opens. Includes LibTorch.
#include <torch/torch.h>

#include <map>
#include <string>

#include "step2motion/io/motion.hpp"
#include "step2motion/model/baselines.hpp"
#include "step2motion/model/checkpoint.hpp"
#include "step2motion/model/networks.hpp"
#include "step2motion/model/train_config.hpp"
#include "step2motion/model/normalization.hpp"

namespace s2m::model {

constexpr int kModelFormatVersion = 1;

// The sampler settings a diffusion model reconstructs with unless told otherwise, chosen on the
// validation clips (eval/tune.hpp) and stored in model.pt. Empty sampler: none stored (ddpm, all steps,
// one sample).
struct SamplingDefaults {
    std::string sampler;  // "ddpm" or "fast"; empty: none stored
    int steps = 0;
    int samples = 1;
    double val_mpjpe_legs_cm = 0;  // what they scored when chosen
    std::string chosen_on;         // e.g. "data.h5, split val, 21 clips"
    bool empty() const { return sampler.empty(); }
};

struct ModelBundle {
    TrainConfig config;
    model::Step2Motion diffusion{nullptr};             // step2motion, diffusion_std_xattn
    model::MlpRegressor mlp{nullptr};                  // mlp
    model::TransformerRegressor transformer{nullptr};  // transformer
    model::RootNet root{nullptr};                      // the diffusion model's own, or a separate one
    Normalization stats;
    io::Skeleton skeleton;                            // default output skeleton (canonical)
    SamplingDefaults sampling;                         // stored sampler settings (diffusion models)
    double rate_hz = 30;                               // frame rate of its training data (files without it: 30)

    // Builds untrained networks for `config` (seeded by the caller through torch::manual_seed).
    static ModelBundle create(const TrainConfig& config);
    bool is_diffusion() const { return static_cast<bool>(diffusion); }
    torch::nn::Module& pose_module();
    torch::nn::Module& root_module();
    void to(const torch::Device& device);
    void train(bool on);
    // Every weight and buffer by its saved name ("prior.*", "control.*", "root.*", "mlp.*", ...).
    model::TensorDict state() const;
    void load_state(const model::TensorDict& dict, const std::string& source);
    int64_t parameter_count() const;
};

// Atomic write; `extra` entries (training state) ride along in the same dict.
void save_model(const std::string& path, const ModelBundle& bundle, const model::TensorDict& extra = {},
                const std::map<std::string, std::string>& extra_text = {});
// Reads and checks a model file: format, version, config, weights, statistics. One-line InputError.
// `extra`/`extra_text` receive the entries save_model was given.
ModelBundle load_model(const std::string& path, model::TensorDict* extra = nullptr,
                       std::map<std::string, std::string>* extra_text = nullptr);
// MODEL_DIR or a model file → the path of the model file.
std::string model_file(const std::string& model_dir_or_file);

// Statistics as tensors [C] and back.
torch::Tensor to_tensor(const std::vector<float>& v);
std::vector<float> to_vector(const torch::Tensor& t);

}  // namespace s2m::model
