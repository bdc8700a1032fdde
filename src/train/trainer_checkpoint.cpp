// last.pt: the weights, optimisers, random streams and position of a run; resuming from it.
#include "trainer_impl.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
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

namespace s2m::train::detail {

namespace {

torch::Tensor bytes_tensor(const std::string& s) {
    auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
    std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
    return t;
}

std::string tensor_bytes(const torch::Tensor& t) {
    auto c = t.contiguous();
    return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<size_t>(c.numel()));
}

std::string optimizer_bytes(torch::optim::Optimizer& opt) {
    torch::serialize::OutputArchive archive;
    opt.save(archive);
    std::ostringstream os;
    archive.save_to(os);
    return os.str();
}

// The moments and step counts come from the checkpoint; the options (the learning rate above all)
// stay those of this run: LibTorch 2.x restores the saved options too, 1.13 did not.
void load_optimizer(torch::optim::Optimizer& opt, const std::string& bytes) {
    std::istringstream is(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(is);
    std::vector<std::unique_ptr<torch::optim::OptimizerOptions>> options;
    for (auto& group : opt.param_groups()) options.push_back(group.options().clone());
    opt.load(archive);
    for (size_t i = 0; i < options.size() && i < opt.param_groups().size(); ++i)
        opt.param_groups()[i].set_options(std::move(options[i]));
}

// The default generator of a device type (CPU, or the current CUDA device).
torch::Tensor generator_state(torch::Device device = torch::kCPU) {
    auto gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
}

void set_generator_state(const torch::Tensor& state, torch::Device device = torch::kCPU) {
    auto gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
}

std::string fmt(double v) {
    std::ostringstream s;
    s.precision(17);
    s << v;
    return s.str();
}

}  // namespace

void Trainer::save_state(const RunState& s) {
    if (!dp_.is_main()) return;  // one writer; every rank holds the same weights
    model::TensorDict extra;
    extra["rng_state"] = generator_state();
    if (device_.is_cuda()) extra["rng_state_cuda"] = generator_state(device_);  // the device's draws too
    extra["optim_pose"] = bytes_tensor(optimizer_bytes(*pose_opt_));
    extra["optim_root"] = bytes_tensor(optimizer_bytes(*root_opt_));
    if (s.perm.defined()) extra["perm"] = s.perm;
    std::map<std::string, std::string> text = {{"phase", s.phase},           {"epoch", std::to_string(s.epoch)},
                                               {"batch", std::to_string(s.batch)}, {"best_pose", fmt(s.best_pose)},
                                               {"best_root", fmt(s.best_root)}, {"root_epoch", std::to_string(s.root_epoch)},
                                               {"world_size", std::to_string(dp_.world_size())}};
    bundle_.to(torch::kCPU);
    model::save_model(out_file("last.pt"), bundle_, extra, text);
    bundle_.to(device_);
}

bool Trainer::load_state(RunState& s) {
    const fs::path last = out_file("last.pt");
    if (!fs::exists(last)) return false;
    model::TensorDict extra;
    std::map<std::string, std::string> text;
    model::ModelBundle saved = model::load_model(last.string(), &extra, &text);
    // Only the epoch counts and the learning rate may change: raising the counts extends a run,
    // finished or not; a lower lr continues it as a step decay (LibTorch's Optimizer::load restores
    // the moments, not the options, so the optimizers keep the lr they were built with).
    model::TrainConfig same = saved.config;
    same.epochs_pose = config_.epochs_pose;
    same.epochs_trans = config_.epochs_trans;
    same.lr = config_.lr;
    if (model::train_config_to_json(same) != model::train_config_to_json(config_))
        fail_input(last.string(), 0,
                   "was trained with another config (only epochs_pose, epochs_trans and lr may change on --resume); use a new --out");
    // Dropout masks follow each rank's share of the batch, so another number of processes would not
    // continue the same run (files from before this key: one process).
    const int saved_world = text.count("world_size") ? std::atoi(text["world_size"].c_str()) : 1;
    if (saved_world != dp_.world_size())
        fail_input(last.string(), 0,
                   "was trained by " + std::to_string(saved_world) + (saved_world == 1 ? " process" : " processes") +
                       ", this run has " + std::to_string(dp_.world_size()) + "; resume it with " +
                       std::to_string(saved_world) + " (the dropout masks depend on the number)");
    bundle_.load_state(saved.state(), last.string());
    for (const char* key : {"rng_state", "optim_pose", "optim_root"})
        if (!extra.count(key)) fail_input(last.string(), 0, std::string("no '") + key + "': not a resumable training state");
    load_optimizer(*pose_opt_, tensor_bytes(extra["optim_pose"]));
    load_optimizer(*root_opt_, tensor_bytes(extra["optim_root"]));
    s.phase = text["phase"];
    try {
        s.epoch = std::stoi(text["epoch"]);
        s.batch = std::stoi(text["batch"]);
        s.best_pose = std::stod(text["best_pose"]);
        s.best_root = std::stod(text["best_root"]);
        s.root_epoch = text.count("root_epoch") ? std::stoi(text["root_epoch"]) : 0;
    } catch (const std::logic_error&) {  // std::invalid_argument, std::out_of_range
        fail_input(last.string(), 0, "training state without readable epoch/batch counters: not a resumable training state");
    }
    if (s.phase != "pose" && s.phase != "root" && s.phase != "done")
        fail_input(last.string(), 0, "training state with an unknown phase '" + s.phase + "'");
    s.perm = extra.count("perm") ? extra["perm"] : torch::Tensor();
    set_generator_state(extra["rng_state"]);
    if (device_.is_cuda() && extra.count("rng_state_cuda")) set_generator_state(extra["rng_state_cuda"], device_);

    // Epochs already trained per phase, and the checks that the new counts do not undo them.
    const int pose_done = s.phase == "pose" ? s.epoch : saved.config.epochs_pose;
    const int root_done = s.phase == "root" ? s.epoch : s.phase == "done" ? saved.config.epochs_trans : s.root_epoch;
    const int pose_min = pose_done + (s.phase == "pose" && s.batch > 0);  // a started epoch counts
    const int root_min = root_done + (s.phase == "root" && s.batch > 0);
    if (config_.epochs_pose < pose_min || config_.epochs_trans < root_min)
        fail_input(last.string(), 0, "holds " + std::to_string(pose_min) + " pose and " + std::to_string(root_min) +
                                         " root epochs already (begun or done); epochs_pose and epochs_trans must be at least that");
    if (s.phase != "pose" && config_.epochs_pose > pose_done) {
        // Back to the pose phase from the best root weights (model.pt), so that a pose improvement
        // saved to model.pt keeps them; the root phase later continues where it stopped.
        s.root_epoch = root_done;
        s.phase = "pose";
        s.epoch = pose_done;
        s.batch = 0;
        s.perm = torch::Tensor();
        const std::string best_path = out_file("model.pt");
        if (fs::exists(best_path)) {
            torch::NoGradGuard no_grad;
            model::load_module_state(*bundle_.root, model::load_model(best_path).state(), "root.", best_path);
        }
    } else if (s.phase == "done" && config_.epochs_trans > root_done) {
        s.phase = "root";
        s.epoch = root_done;
        s.batch = 0;
        s.perm = torch::Tensor();
    }
    return true;
}

}  // namespace s2m::train::detail
