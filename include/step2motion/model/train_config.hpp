#pragma once
// Training configuration: the reference's keys (reference §7) plus model_type, root_layers and the
// conditioning ablation. Plain struct, no torch.
#include <string>

#include "step2motion/model/config.hpp"

namespace s2m::model {

enum class ModelType { Step2Motion, Mlp, Transformer, DiffusionStdXattn };
std::string to_string(ModelType t);

// How poses, root displacements and foot accelerations are expressed to the networks. World: as
// stored (the reference's choice; every training batch turned by one random yaw). Heading: each
// window turned into the frame of the feet's mean heading from the insoles themselves
// (imu::window_heading_rad; no mocap at inference) and the output turned back to world.
enum class Representation { World, Heading };
std::string to_string(Representation r);

struct TrainConfig {
    int seed = 0;
    int epochs_pose = 500;
    int epochs_trans = 200;
    int batch_size = 256;
    double lr = 1e-3;
    double clip_grad_value = 100.0;  // gradient-norm clip, per network
    int input_T = 100;               // window length, frames
    int input_stride = 1;            // window stride over each clip, frames
    int hidden_dim = 256;
    int num_layers = 2;
    int diffusion_T = 200;
    int diffusion_val_T = 10;        // steps of the cheap validation sampler
    std::string prediction_mode = "x0";
    double p_uncond = 0.2;
    int transformer_n_heads = 4;
    int transformer_d_ff = 512;
    double transformer_dropout = 0.1;
    ModelType model_type = ModelType::Step2Motion;
    int root_layers = 1;
    model::ConditionInputs condition_inputs = model::ConditionInputs::All;
    bool cross_attention_locality = false;  // model::ModelConfig::cross_attention_locality
    bool zero_terminal_snr = false;         // model::ModelConfig::zero_terminal_snr
    int insole_encoder_layers = 0;          // model::ModelConfig::insole_encoder_layers
    double timestep_power = 1.0;            // model::DiffusionSchedule::training_steps (1 = reference)
    // The struct's default is the reference's, which model files from before the key hold; a config
    // file without the key gets Heading (parse_train_config).
    Representation representation = Representation::World;
    // Heading: each batch's frame turned by a uniform draw within ± this, so that the networks
    // tolerate heading estimates that far off.
    double heading_jitter_deg = 5.0;
    // Optional caps for quick runs: windows drawn per epoch (0 = all), validation clips (0 = all).
    int max_windows_per_epoch = 0;
    int max_val_windows = 0;
    // Every random draw of a training window from a generator keyed by (seed, epoch, window), so that
    // the run does not depend on how windows are batched or on the number of processes; always on in
    // data-parallel runs. Off: torch's global stream.
    bool keyed_draws = false;

    model::ModelConfig model_config() const;
};

// Parses a JSON object; an unknown key or a value of the wrong type or range is an InputError
// naming the file and the key. `representation_when_absent`: Heading for a new config, World for
// the config stored in a model file from before the key.
TrainConfig parse_train_config(const std::string& json_text, const std::string& source,
                               Representation representation_when_absent = Representation::Heading);
TrainConfig read_train_config(const std::string& path);
std::string train_config_to_json(const TrainConfig& c);

}  // namespace s2m::model
