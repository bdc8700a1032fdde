#pragma once
// The trainer's parts, shared by its sources (private to src/train): trainer.cpp (construction and
// the epoch loop), trainer_batches.cpp (windows into batches, the random draws), trainer_step.cpp
// (one optimisation step and validation) and trainer_checkpoint.cpp (last.pt and resuming).
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "step2motion/core/files.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/model/bundle.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/train/data.hpp"
#include "step2motion/train/distributed.hpp"
#include "step2motion/train/trainer.hpp"

namespace s2m::train::detail {

namespace fs = std::filesystem;

// Everything that must survive an interruption besides the weights.
struct RunState {
    std::string phase = "pose";  // pose, root, done
    int epoch = 0;               // current epoch within the phase (0-based)
    int batch = 0;               // next batch within the epoch
    int root_epoch = 0;          // where the root phase starts: root epochs trained before the pose phase was extended
    double best_pose = INFINITY, best_root = INFINITY;
    torch::Tensor perm;          // window order of the current epoch (undefined: draw a new one)
};

class Trainer {
public:
    Trainer(const model::TrainConfig& config, const TrainingSet& data, const TrainOptions& options);

    TrainSummary run();

private:
    // Raw windows → tensors [B, W, 66] and [B, W, 50] on the device; with the heading representation,
    // turned into each window's heading frame.
    void gather(const std::vector<WindowRef>& clips_windows, const std::vector<Clip>& clips, const int64_t* idx, int n,
                torch::Tensor& poses, torch::Tensor& insoles) const;
    // The random draws of one training step's windows (see draw()).
    struct WindowDraws {
        double yaw_rad = 0;           // the batch's rotation
        torch::Tensor t, keep, eps;   // per window: [n] int64, [n] 0/1, [n, W, 63]
    };
    WindowDraws draw(const int64_t* idx, int n, int epoch, int batch) const;
    at::Generator window_generator(int epoch, int64_t window) const;
    void random_yaw(torch::Tensor& poses, torch::Tensor& insoles, double yaw_rad) const;
    torch::Tensor pose_step(const torch::Tensor& poses_n, const torch::Tensor& insoles_n, const WindowDraws& draws);
    torch::Tensor root_step(const torch::Tensor& poses_n, const torch::Tensor& insoles_n);
    // Runs fn(poses, insoles, n) on the validation windows in batches, in eval mode, without grad.
    void for_each_val_batch(const std::function<void(const torch::Tensor&, const torch::Tensor&, int)>& fn);
    double validate_pose();
    double validate_root(double* mrpe_m);
    // A file of the model folder: model.pt, last.pt, config.json, train_log.jsonl.
    std::string out_file(const char* name) const { return (fs::path(options_.out_dir) / name).string(); }
    void save_state(const RunState& s);
    bool load_state(RunState& s);
    void log_epoch(const nlohmann::json& j);
    std::vector<torch::Tensor> pose_parameters();
    bool stop_requested() const { return interrupted() || (options_.should_stop && options_.should_stop()); }

    const model::TrainConfig& config_;
    const TrainingSet& data_;
    const TrainOptions& options_;
    torch::Device device_{torch::kCPU};
    DataParallel dp_;  // one process unless launched with WORLD_SIZE > 1 (torchrun)
    bool keyed_draws_ = false;
    model::DiffusionSchedule schedule_;
    model::ModelBundle bundle_;
    std::unique_ptr<torch::optim::Adam> pose_opt_, root_opt_;
    std::vector<WindowRef> train_windows_, val_windows_;
    model::Normalization stats_;  // of the yaw-augmented training distribution; saved with the model
    torch::Tensor pose_mean_, pose_std_, insole_mean_, insole_std_;
    std::vector<std::vector<float>> train_headings_, val_headings_;  // heading representation: per clip, frames x 2
};

}  // namespace s2m::train::detail
