#include "step2motion/train/trainer.hpp"

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
#include "step2motion/train/model_bundle.hpp"

namespace s2m::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void check_trainable(const TrainConfig& config, const TrainingSet& data, const std::string& source) {
    if (data.train.empty()) fail_input(source, 0, "no training clips");
    int longest = 0;
    for (const auto& c : data.train) longest = std::max(longest, c.frames);
    if (config.input_T > longest)
        fail_input(source, 0, "input_T " + std::to_string(config.input_T) + " is longer than every training clip (longest: " +
                                  std::to_string(longest) + " frames)");
    if (plan_windows(data.train, config.input_T, config.input_stride).empty())
        fail_input(source, 0, "no training windows of " + std::to_string(config.input_T) + " frames");
    if (data.stats.pose_mean.size() != 66 || data.stats.insole_mean.size() != 50)
        fail_input(source, 0, "normalisation statistics missing or of the wrong size");
}

namespace {

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
    Trainer(const TrainConfig& config, const TrainingSet& data, const TrainOptions& options)
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
        if (config.representation == Representation::Heading) {
            for (const auto& c : data.train) train_headings_.push_back(insole_headings(c));
            for (const auto& c : data.val) val_headings_.push_back(insole_headings(c));
        }
        pose_mean_ = to_tensor(stats_.pose_mean).to(device_);
        pose_std_ = to_tensor(stats_.pose_std).to(device_);
        insole_mean_ = to_tensor(stats_.insole_mean).to(device_);
        insole_std_ = to_tensor(stats_.insole_std).to(device_);
    }

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

    const TrainConfig& config_;
    const TrainingSet& data_;
    const TrainOptions& options_;
    torch::Device device_{torch::kCPU};
    DataParallel dp_;  // one process unless launched with WORLD_SIZE > 1 (torchrun)
    bool keyed_draws_ = false;
    model::DiffusionSchedule schedule_;
    ModelBundle bundle_;
    std::unique_ptr<torch::optim::Adam> pose_opt_, root_opt_;
    std::vector<WindowRef> train_windows_, val_windows_;
    Normalization stats_;  // of the yaw-augmented training distribution; saved with the model
    torch::Tensor pose_mean_, pose_std_, insole_mean_, insole_std_;
    std::vector<std::vector<float>> train_headings_, val_headings_;  // heading representation: per clip, frames x 2
};

void Trainer::gather(const std::vector<WindowRef>& windows, const std::vector<Clip>& clips, const int64_t* idx, int n,
                     torch::Tensor& poses, torch::Tensor& insoles) const {
    const int W = config_.input_T;
    poses = torch::empty({n, W, 66});
    insoles = torch::empty({n, W, 50});
    float* p = poses.data_ptr<float>();
    float* q = insoles.data_ptr<float>();
    const bool heading = config_.representation == Representation::Heading;
    const auto& headings = &clips == &data_.train ? train_headings_ : val_headings_;
    std::vector<double> turn;  // heading: into each window's heading frame
    for (int i = 0; i < n; ++i) {
        const WindowRef& w = windows[static_cast<size_t>(idx[i])];
        const Clip& c = clips[static_cast<size_t>(w.clip)];
        std::copy_n(c.poses.data() + static_cast<size_t>(w.start) * 66, static_cast<size_t>(W) * 66, p + static_cast<size_t>(i) * W * 66);
        std::copy_n(c.insoles.data() + static_cast<size_t>(w.start) * 50, static_cast<size_t>(W) * 50, q + static_cast<size_t>(i) * W * 50);
        if (heading)
            turn.push_back(-imu::window_heading_rad(c.insoles.data() + static_cast<size_t>(w.start) * 50,
                                                    headings[static_cast<size_t>(w.clip)].data() + static_cast<size_t>(w.start) * 2, W));
    }
    if (heading) {
        const auto angle = torch::tensor(turn, torch::kDouble);
        poses = model::turn_about_up(poses, angle);
        insoles = model::turn_insole_accelerations(insoles, angle);
    }
    poses = poses.to(device_);
    insoles = insoles.to(device_);
}

// A generator per (run seed, epoch, window): a window's draws do not depend on the batch it lands in
// nor on the number of processes sharing the epoch. Window -1 orders the epoch; -2 - b is batch b.
at::Generator Trainer::window_generator(int epoch, int64_t window) const {
    const uint64_t key = mix64(mix64(static_cast<uint64_t>(config_.seed) + 0x9E3779B97F4A7C15ull) ^
                               mix64(static_cast<uint64_t>(epoch) + 1) ^ mix64(static_cast<uint64_t>(window) + 0x632BE59BD9B4E019ull));
    return at::make_generator<at::CPUGeneratorImpl>(key);
}

// The yaw augmentation is one rotation per global batch (as the reference draws it); per window the
// diffusion level, the condition dropout and the noise. Keyed (config.keyed_draws, or several
// ranks): the batch's rotation from its index, each window's draws from its own generator. Else
// torch's global stream (rotation, levels, noise, dropout, every step and phase). Drawn on the host,
// then copied to the device.
Trainer::WindowDraws Trainer::draw(const int64_t* idx, int n, int epoch, int batch) const {
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat), f64 = f32.dtype(torch::kDouble);
    WindowDraws d;
    if (n == 0) return d;
    if (!keyed_draws_) {
        d.yaw_rad = torch::rand({1}, f64).item<double>() * 2 * M_PI;
        d.t = schedule_.training_steps(n, config_.timestep_power).to(device_);
        d.eps = torch::randn({n, config_.input_T, model::kPoseValues}, f32).to(device_);
        d.keep = (torch::rand({n}) >= config_.p_uncond).to(torch::kFloat).to(device_);
        return d;
    }
    d.yaw_rad = torch::rand({1}, window_generator(epoch, -2 - static_cast<int64_t>(batch)), f64).item<double>() * 2 * M_PI;
    std::vector<torch::Tensor> t, keep, eps;
    for (int i = 0; i < n; ++i) {
        auto gen = window_generator(epoch, idx[i]);
        t.push_back(schedule_.training_steps(1, config_.timestep_power, gen));
        keep.push_back((torch::rand({1}, gen, f32) >= config_.p_uncond).to(torch::kFloat));
        eps.push_back(torch::randn({config_.input_T, model::kPoseValues}, gen, f32));
    }
    d.t = torch::cat(t).to(device_);
    d.keep = torch::cat(keep).to(device_);
    d.eps = torch::stack(eps).to(device_);
    return d;
}

// One rotation about world Y for the batch: displacements, joint positions and world-frame foot
// accelerations turn together; angular rates stay in the insole frame (reference §7).
void Trainer::random_yaw(torch::Tensor& poses, torch::Tensor& insoles, double yaw_rad) const {
    const double c = std::cos(yaw_rad), s = std::sin(yaw_rad);
    auto turn = [&](torch::Tensor v) {  // [..., 3] view, modified in place
        auto x = v.select(-1, 0).clone();
        auto z = v.select(-1, 2).clone();
        v.select(-1, 0).copy_(c * x + s * z);
        v.select(-1, 2).copy_(-s * x + c * z);
    };
    const auto B = poses.size(0), W = poses.size(1);
    turn(poses.view({B, W, 22, 3}));
    turn(insoles.narrow(2, 16, 3));
    turn(insoles.narrow(2, 41, 3));
}

std::vector<torch::Tensor> Trainer::pose_parameters() {
    if (bundle_.diffusion) {
        auto p = bundle_.diffusion->prior->parameters();
        auto q = bundle_.diffusion->control->parameters();
        p.insert(p.end(), q.begin(), q.end());
        return p;
    }
    return bundle_.pose_module().parameters();
}

torch::Tensor Trainer::pose_step(const torch::Tensor& poses_n, const torch::Tensor& insoles_n, const WindowDraws& draws) {
    const auto x0 = poses_n.narrow(2, 3, 63);
    model::Autocast autocast(options_.bf16, device_);
    torch::Tensor pred;
    if (bundle_.diffusion) {
        const auto& t = draws.t;
        const auto x_t = schedule_.q_sample(x0, t, draws.eps.to(x0.options()));
        const auto c_mask = draws.keep.to(x0.options());
        const auto cond = bundle_.diffusion->condition(insoles_n, c_mask);
        pred = bundle_.diffusion->denoise(x_t, t, &cond);
    } else if (bundle_.mlp) {
        pred = bundle_.mlp->forward(insoles_n);
    } else {
        pred = bundle_.transformer->forward(insoles_n);
    }
    return model::pose_loss(pred.to(x0.scalar_type()), x0);
}

torch::Tensor Trainer::root_step(const torch::Tensor& poses_n, const torch::Tensor& insoles_n) {
    model::Autocast autocast(options_.bf16, device_);
    const auto pred = bundle_.root->forward(insoles_n);
    return model::translation_loss(pred.to(poses_n.scalar_type()), poses_n.narrow(2, 0, 3));
}

void Trainer::for_each_val_batch(const std::function<void(const torch::Tensor&, const torch::Tensor&, int)>& fn) {
    torch::NoGradGuard no_grad;
    bundle_.train(false);
    const size_t B = static_cast<size_t>(config_.batch_size);
    std::vector<int64_t> idx(val_windows_.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    for (size_t b = 0; b < idx.size(); b += B) {
        const int n = static_cast<int>(std::min(idx.size() - b, B));
        torch::Tensor poses, insoles;
        gather(val_windows_, data_.val, idx.data() + b, n, poses, insoles);
        fn(poses, (insoles - insole_mean_) / insole_std_, n);
    }
    bundle_.train(true);
}

// Mean per-joint position error (cm) of the cheap sampler on validation windows.
double Trainer::validate_pose() {
    if (val_windows_.empty()) return NAN;
    double sum = 0;
    int64_t count = 0;
    for_each_val_batch([&](const torch::Tensor& poses, const torch::Tensor& insoles_n, int n) {
        torch::Tensor x0_hat;
        if (bundle_.diffusion) {
            model::SamplerOptions so;
            so.steps = config_.diffusion_val_T;
            so.bf16 = options_.bf16;
            x0_hat = model::sample_poses(bundle_.diffusion, schedule_, insoles_n, so);
        } else {
            model::Autocast autocast(options_.bf16, device_);
            x0_hat = (bundle_.mlp ? bundle_.mlp->forward(insoles_n) : bundle_.transformer->forward(insoles_n)).to(torch::kFloat32);
        }
        const auto joints = x0_hat * pose_std_.narrow(0, 3, 63) + pose_mean_.narrow(0, 3, 63);
        const auto err = (joints - poses.narrow(2, 3, 63)).view({n, -1, 21, 3}).norm(2, -1);
        sum += err.sum().item<double>() * 100;
        count += err.numel();
    });
    return sum / std::max<int64_t>(1, count);
}

// Validation translation loss; *mrpe_m gets the mean root position error within windows (m).
double Trainer::validate_root(double* mrpe_m) {
    *mrpe_m = NAN;
    if (val_windows_.empty()) return NAN;
    double loss_sum = 0, err_sum = 0;
    int64_t batches = 0, count = 0;
    for_each_val_batch([&](const torch::Tensor& poses, const torch::Tensor& insoles_n, int) {
        model::Autocast autocast(options_.bf16, device_);
        const auto pred = bundle_.root->forward(insoles_n).to(torch::kFloat32);
        const auto target = (poses.narrow(2, 0, 3) - pose_mean_.narrow(0, 0, 3)) / pose_std_.narrow(0, 0, 3);
        loss_sum += model::translation_loss(pred, target).item<double>();
        ++batches;
        const auto disp = pred * pose_std_.narrow(0, 0, 3) + pose_mean_.narrow(0, 0, 3);
        err_sum += (disp.cumsum(1) - poses.narrow(2, 0, 3).cumsum(1)).norm(2, -1).sum().item<double>();
        count += poses.size(0) * poses.size(1);
    });
    *mrpe_m = err_sum / std::max<int64_t>(1, count);
    return loss_sum / std::max<int64_t>(1, batches);
}

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
                                               {"best_root", fmt(s.best_root)}, {"root_epoch", std::to_string(s.root_epoch)}};
    bundle_.to(torch::kCPU);
    save_model(out_file("last.pt"), bundle_, extra, text);
    bundle_.to(device_);
}

bool Trainer::load_state(RunState& s) {
    const fs::path last = out_file("last.pt");
    if (!fs::exists(last)) return false;
    model::TensorDict extra;
    std::map<std::string, std::string> text;
    ModelBundle saved = load_model(last.string(), &extra, &text);
    // Only the epoch counts and the learning rate may change: raising the counts extends a run,
    // finished or not; a lower lr continues it as a step decay (LibTorch's Optimizer::load restores
    // the moments, not the options, so the optimizers keep the lr they were built with).
    TrainConfig same = saved.config;
    same.epochs_pose = config_.epochs_pose;
    same.epochs_trans = config_.epochs_trans;
    same.lr = config_.lr;
    if (train_config_to_json(same) != train_config_to_json(config_))
        fail_input(last.string(), 0,
                   "was trained with another config (only epochs_pose, epochs_trans and lr may change on --resume); use a new --out");
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
            model::load_module_state(*bundle_.root, load_model(best_path).state(), "root.", best_path);
        }
    } else if (s.phase == "done" && config_.epochs_trans > root_done) {
        s.phase = "root";
        s.epoch = root_done;
        s.batch = 0;
        s.perm = torch::Tensor();
    }
    return true;
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
    bundle_ = ModelBundle::create(config_);
    bundle_.stats = stats_;
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
    if (dp_.is_main()) write_file_atomic(out_file("config.json"), train_config_to_json(config_) + "\n");  // epochs, lr may have changed
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
            bundle_.load_state(load_model(model_path).state(), model_path);
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
                    random_yaw(poses, insoles, config_.representation == Representation::Heading
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
                save_model(model_path, bundle_);
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
        save_model(model_path, bundle_);
    }
    dp_.barrier();
    summary.best_val_mpjpe_cm = state.best_pose;
    summary.best_val_root_loss = state.best_root;
    summary.windows_per_s = windows_per_s;
    return summary;
}

}  // namespace

TrainSummary train_model(const TrainConfig& config, const TrainingSet& data, const TrainOptions& options) {
    check_trainable(config, data, options.data_description.empty() ? "training data" : options.data_description);
    Trainer trainer(config, data, options);
    return trainer.run();
}

}  // namespace s2m::train
