#include "step2motion/train/trainer.hpp"

#include "trainer_impl.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <future>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/core/hash.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/imu/frames.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/heading_frame.hpp"
#include "step2motion/model/layers.hpp"
#include "step2motion/model/sampler.hpp"
#include "step2motion/train/distributed.hpp"
#include "step2motion/model/bundle.hpp"

namespace s2m::train {

namespace detail {

using Clock = std::chrono::steady_clock;

Trainer::Trainer(const model::TrainConfig& config, const TrainingSet& data, const TrainOptions& options)
    : config_(config), data_(data), options_(options), schedule_(config.model_config()) {
    device_ = torch::Device(model::resolve_device(options.device));
    dp_ = DataParallel::from_environment(device_.str());
    if (device_.is_cuda() && dp_.active()) device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dp_.local_rank()));
    keyed_draws_ = config.keyed_draws || dp_.active();
    schedule_.to(device_);
    train_windows_ = plan_windows(data.train, config.input_T, config.input_stride);
    val_windows_ = plan_windows(data.val, config.input_T, std::max(1, config.input_T / 2));
    if (config.max_val_windows > 0 && static_cast<int>(val_windows_.size()) > config.max_val_windows) {
        // Evenly spread subset, fixed for the whole run.
        std::vector<WindowRef> subset;
        const double step = double(val_windows_.size()) / config.max_val_windows;
        for (int i = 0; i < config.max_val_windows; ++i) subset.push_back(val_windows_[static_cast<size_t>(i * step)]);
        val_windows_ = subset;
    }
    // Heading frame: yaw-symmetric statistics still, so that turning a normalised window is a
    // rotation of it (the sampler turns inpainted frames between windows' frames).
    stats_ = yaw_symmetric(data.stats);
    if (config.representation == model::Representation::Heading) {
        for (const auto& c : data.train) train_headings_.push_back(insole_headings(c));
        for (const auto& c : data.val) val_headings_.push_back(insole_headings(c));
    }
    pose_mean_ = model::to_tensor(stats_.pose_mean).to(device_);
    pose_std_ = model::to_tensor(stats_.pose_std).to(device_);
    insole_mean_ = model::to_tensor(stats_.insole_mean).to(device_);
    insole_std_ = model::to_tensor(stats_.insole_std).to(device_);
}

void Trainer::log_epoch(const nlohmann::json& j) {
    if (!dp_.is_main()) return;
    append_record(out_file("train_log.jsonl"), j.dump() + "\n");  // whole lines only, even when killed
}

TrainSummary Trainer::run() {
    fs::create_directories(options_.out_dir);
    // Two runs into one folder would interleave their checkpoints and log: the second is refused.
    // In a data-parallel run the writer, rank 0, holds it for all ranks.
    std::optional<DirLock> lock;
    if (dp_.is_main()) lock.emplace(options_.out_dir, "s2m train");
    torch::manual_seed(static_cast<uint64_t>(config_.seed));
    bundle_ = model::ModelBundle::create(config_);
    bundle_.stats = stats_;
    bundle_.rate_hz = data_.rate_hz;
    if (data_.mean_offsets_m.size() == bundle_.skeleton.offsets_m.size() && !data_.train.empty())
        bundle_.skeleton.offsets_m = data_.mean_offsets_m;
    bundle_.to(device_);
    bundle_.train(true);
    pose_opt_ = std::make_unique<torch::optim::Adam>(pose_parameters(), torch::optim::AdamOptions(config_.lr));
    root_opt_ = std::make_unique<torch::optim::Adam>(bundle_.root->parameters(), torch::optim::AdamOptions(config_.lr));

    RunState state;
    const std::string model_path = out_file("model.pt");
    if (options_.resume) {
        if (!load_state(state)) fail_input(options_.out_dir, 0, "--resume: no last.pt to resume from");
        spdlog::info("resuming {} phase at epoch {}, batch {}", state.phase, state.epoch + 1, state.batch);
    } else {
        if (fs::exists(out_file("last.pt")))
            fail_input(options_.out_dir, 0, "already holds a training run; use --resume to continue it or another --out");
        if (dp_.is_main()) std::ofstream(out_file("train_log.jsonl"), std::ios::trunc);
    }
    if (dp_.is_main()) write_file_atomic(out_file("config.json"), model::train_config_to_json(config_) + "\n");  // epochs, lr may have changed
    if (dp_.active()) {
        // Rank 0's weights everywhere (at the start, and after a resume), then the same steps on all.
        std::vector<at::Tensor> weights;
        for (torch::nn::Module* m : {&bundle_.pose_module(), &bundle_.root_module()}) {
            for (const auto& p : m->parameters()) weights.push_back(p);
            for (const auto& b : m->buffers()) weights.push_back(b);
        }
        dp_.broadcast(weights);
        spdlog::info("data-parallel: global batch {} over {} ranks", config_.batch_size, dp_.world_size());
    }

    TrainSummary summary;
    const int B = config_.batch_size;
    const int64_t N = static_cast<int64_t>(train_windows_.size());
    const int64_t per_epoch = config_.max_windows_per_epoch > 0 ? std::min<int64_t>(N, config_.max_windows_per_epoch) : N;
    const int batches = static_cast<int>((per_epoch + B - 1) / B);
    double windows_per_s = 0;

    const auto end_phase = [&](const std::string& phase) {
        dp_.barrier();  // rank 0 has written model.pt
        // The root network trains on top of the best pose weights.
        if (phase == "pose" && fs::exists(model_path)) {
            bundle_.load_state(model::load_model(model_path).state(), model_path);
            bundle_.to(device_);
        }
        state.phase = phase == "pose" ? "root" : "done";
        state.epoch = phase == "pose" ? state.root_epoch : 0;
    };
    for (const std::string phase : {"pose", "root"}) {
        if (state.phase == "done") break;
        if (phase == "pose" && state.phase == "root") continue;
        const int epochs = phase == "pose" ? config_.epochs_pose : config_.epochs_trans;
        torch::optim::Adam& opt = phase == "pose" ? *pose_opt_ : *root_opt_;
        const auto params = phase == "pose" ? pose_parameters() : bundle_.root->parameters();
        Progress progress(phase == "pose" ? "train pose" : "train root", static_cast<int64_t>(epochs) * batches, "batches");
        progress.resume_at(static_cast<int64_t>(state.epoch) * batches + state.batch);
        for (; state.epoch < epochs; ++state.epoch) {
            if (!state.perm.defined())
                state.perm = keyed_draws_ ? torch::randperm(N, window_generator(state.epoch, -1), torch::TensorOptions().dtype(torch::kLong))
                                          : torch::randperm(N, torch::TensorOptions().dtype(torch::kLong));
            const int64_t* order = state.perm.data_ptr<int64_t>();
            double loss_sum = 0;
            int loss_count = 0;
            const auto epoch_start = Clock::now();
            int64_t windows_done = 0;
            // A batch is the global batch; each rank takes its contiguous share. The next share's
            // windows are copied out of the clips on a second thread while this one computes.
            using Batch = std::pair<torch::Tensor, torch::Tensor>;
            const auto share = [&](int batch) {
                const int64_t first = static_cast<int64_t>(batch) * B;
                const auto [begin, end] = dp_.shard(std::min<int64_t>(B, per_epoch - first));
                return std::make_pair(first + begin, static_cast<int>(end - begin));
            };
            const auto load_batch = [&](int batch) {
                const auto [first, n] = share(batch);
                return std::async(std::launch::async, [this, order, first = first, n = n] {
                    Batch b;
                    gather(train_windows_, data_.train, order + first, n, b.first, b.second);
                    return b;
                });
            };
            std::future<Batch> next_batch;
            if (state.batch < batches) next_batch = load_batch(state.batch);
            for (; state.batch < batches; ++state.batch) {
                // Collective, so that every rank stops at the same batch.
                if (dp_.max(stop_requested() ? 1.0 : 0.0) > 0) {
                    save_state(state);
                    summary.interrupted = true;
                    progress.stop("interrupted");
                    spdlog::warn("interrupted: state saved to {}/last.pt; continue with --resume", options_.out_dir);
                    return summary;
                }
                auto [poses, insoles] = next_batch.get();
                const auto [first, n] = share(state.batch);
                const int64_t n_global = std::min<int64_t>(B, per_epoch - static_cast<int64_t>(state.batch) * B);
                if (state.batch + 1 < batches) next_batch = load_batch(state.batch + 1);
                opt.zero_grad();
                double l = 0;
                if (n > 0) {
                    const WindowDraws draws = draw(order + first, n, state.epoch, state.batch);
                    // World: the batch's random yaw. Heading: the windows are in their heading frames
                    // already; the same draw turns them by at most ± heading_jitter_deg.
                    random_yaw(poses, insoles, config_.representation == model::Representation::Heading
                                                   ? (draws.yaw_rad / M_PI - 1) * config_.heading_jitter_deg * M_PI / 180
                                                   : draws.yaw_rad);
                    const auto poses_n = (poses - pose_mean_) / pose_std_;
                    const auto insoles_n = (insoles - insole_mean_) / insole_std_;
                    // This share's mean, weighted by its part of the global batch: the sum over
                    // ranks is the global batch's mean loss, and so is the sum of the gradients.
                    const auto loss = (phase == "pose" ? pose_step(poses_n, insoles_n, draws) : root_step(poses_n, insoles_n)) *
                                      (double(n) / double(n_global));
                    loss.backward();
                    l = loss.item<double>();
                }
                if (dp_.active()) {
                    std::vector<at::Tensor> grads;
                    for (const auto& p : params) {
                        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
                        grads.push_back(p.grad());
                    }
                    dp_.all_reduce_sum(grads);
                    l = dp_.sum(l);
                }
                torch::nn::utils::clip_grad_norm_(params, config_.clip_grad_value);
                opt.step();
                if (!std::isfinite(l)) fail_input("training diverged: the " + phase + " loss is " + std::to_string(l) + " (try a lower lr)");
                loss_sum += l;
                ++loss_count;
                windows_done += n_global;
                char note[96];
                std::snprintf(note, sizeof note, "epoch %d/%d loss %.4f", state.epoch + 1, epochs, loss_sum / loss_count);
                progress.advance(1, note);
            }
            const double train_s = std::chrono::duration<double>(Clock::now() - epoch_start).count();
            windows_per_s = windows_done / std::max(1e-9, train_s);
            nlohmann::json j = {{"phase", phase},
                                {"epoch", state.epoch + 1},
                                {"train_loss", loss_count ? loss_sum / loss_count : NAN},
                                {"windows", windows_done},
                                {"windows_per_s", windows_per_s},
                                {"train_time_s", train_s}};
            const auto val_start = Clock::now();
            bool improved = false;
            if (!dp_.is_main()) {
                // Validation, logs and checkpoints are rank 0's.
            } else if (phase == "pose") {
                const double mpjpe = validate_pose();
                j["val_mpjpe_cm"] = mpjpe;
                const double key = std::isfinite(mpjpe) ? mpjpe : j["train_loss"].get<double>();
                if (key < state.best_pose) {
                    state.best_pose = key;
                    improved = true;
                }
            } else {
                double mrpe = NAN;
                const double vloss = validate_root(&mrpe);
                j["val_root_loss"] = vloss;
                j["val_window_mrpe_m"] = mrpe;
                const double key = std::isfinite(vloss) ? vloss : j["train_loss"].get<double>();
                if (key < state.best_root) {
                    state.best_root = key;
                    improved = true;
                }
            }
            j["val_time_s"] = std::chrono::duration<double>(Clock::now() - val_start).count();
            j["best"] = improved;
            if (improved) {
                bundle_.to(torch::kCPU);
                model::save_model(model_path, bundle_);
                bundle_.to(device_);
            }
            state.batch = 0;
            state.perm = torch::Tensor();
            if (state.epoch + 1 == epochs) {
                end_phase(phase);
                save_state(state);
                log_epoch(j);
                break;
            }
            RunState next = state;
            next.epoch = state.epoch + 1;
            save_state(next);
            log_epoch(j);
        }
        if (state.phase == phase) end_phase(phase);  // nothing left to train in this phase
        progress.finish();
    }
    if (dp_.is_main() && !fs::exists(model_path)) {
        bundle_.to(torch::kCPU);
        model::save_model(model_path, bundle_);
    }
    dp_.barrier();
    summary.best_val_mpjpe_cm = state.best_pose;
    summary.best_val_root_loss = state.best_root;
    summary.windows_per_s = windows_per_s;
    return summary;
}

}  // namespace detail

void check_trainable(const model::TrainConfig& config, const TrainingSet& data, const std::string& source) {
    if (data.train.empty()) fail_input(source, 0, "no training clips");
    int longest = 0;
    for (const auto& c : data.train) longest = std::max(longest, c.frames);
    if (config.input_T > longest)
        fail_input(source, 0, "input_T " + std::to_string(config.input_T) + " is longer than every training clip (longest: " +
                                  std::to_string(longest) + " frames)");
    if (plan_windows(data.train, config.input_T, config.input_stride).empty())
        fail_input(source, 0, "no training windows of " + std::to_string(config.input_T) + " frames");
    if (data.stats.pose_mean.size() != io::kRootAndJointValues || data.stats.insole_mean.size() != io::kInsoleChannels)
        fail_input(source, 0, "normalisation statistics missing or of the wrong size");
}

TrainSummary train_model(const model::TrainConfig& config, const TrainingSet& data, const TrainOptions& options) {
    check_trainable(config, data, options.data_description.empty() ? "training data" : options.data_description);
    detail::Trainer trainer(config, data, options);
    return trainer.run();
}

}  // namespace s2m::train
