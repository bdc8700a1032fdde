#pragma once
// The training procedure of reference §7: pose network, then root network, with durable,
// resumable checkpoints. No torch in this header.
#include <functional>
#include <string>

#include "step2motion/model/train_config.hpp"
#include "step2motion/train/data.hpp"

namespace s2m::train {

struct TrainOptions {
    std::string out_dir;
    bool resume = false;
    std::string device = "cpu";   // cpu or cuda
    bool bf16 = false;            // CPU autocast to bfloat16, fp32 master weights
    // Polled between batches; true interrupts the run (state is saved, exit is clean). Ctrl-C
    // (s2m::interrupted()) is always polled too.
    std::function<bool()> should_stop;
    std::string data_description;  // recorded in the log
};

struct TrainSummary {
    bool interrupted = false;
    int pose_epochs_done = 0, root_epochs_done = 0;
    double best_val_mpjpe_cm = 0, best_val_root_loss = 0;
    double windows_per_s = 0;
};

// MODEL_DIR gets model.pt (best weights + stats + config), last.pt (everything to resume),
// config.json and train_log.jsonl. With resume, continues from last.pt and ends with the same
// weights as an uninterrupted run with the same seed.
TrainSummary train_model(const model::TrainConfig& config, const TrainingSet& data, const TrainOptions& options);

// Checks before any training starts: windows fit, non-empty splits. InputError naming the problem.
void check_trainable(const model::TrainConfig& config, const TrainingSet& data, const std::string& data_source);

}  // namespace s2m::train
