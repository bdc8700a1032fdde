// Training windows into device batches, and every random draw of a window.
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

namespace s2m::train::detail {

void Trainer::gather(const std::vector<WindowRef>& windows, const std::vector<Clip>& clips, const int64_t* idx, int n,
                     torch::Tensor& poses, torch::Tensor& insoles) const {
    const int W = config_.input_T;
    poses = torch::empty({n, W, io::kRootAndJointValues});
    insoles = torch::empty({n, W, io::kInsoleChannels});
    float* p = poses.data_ptr<float>();
    float* q = insoles.data_ptr<float>();
    const bool heading = config_.representation == model::Representation::Heading;
    const auto& headings = &clips == &data_.train ? train_headings_ : val_headings_;
    std::vector<double> turn;  // heading: into each window's heading frame
    for (int i = 0; i < n; ++i) {
        const WindowRef& w = windows[static_cast<size_t>(idx[i])];
        const Clip& c = clips[static_cast<size_t>(w.clip)];
        std::copy_n(c.poses.data() + static_cast<size_t>(w.start) * io::kRootAndJointValues, static_cast<size_t>(W) * io::kRootAndJointValues, p + static_cast<size_t>(i) * W * io::kRootAndJointValues);
        std::copy_n(c.insoles.data() + static_cast<size_t>(w.start) * io::kInsoleChannels, static_cast<size_t>(W) * io::kInsoleChannels, q + static_cast<size_t>(i) * W * io::kInsoleChannels);
        if (heading)
            turn.push_back(-imu::window_heading_rad(c.insoles.data() + static_cast<size_t>(w.start) * io::kInsoleChannels,
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
        d.eps = torch::randn({n, config_.input_T, io::kJointValues}, f32).to(device_);
        d.keep = (torch::rand({n}) >= config_.p_uncond).to(torch::kFloat).to(device_);
        return d;
    }
    d.yaw_rad = torch::rand({1}, window_generator(epoch, -2 - static_cast<int64_t>(batch)), f64).item<double>() * 2 * M_PI;
    std::vector<torch::Tensor> t, keep, eps;
    for (int i = 0; i < n; ++i) {
        auto gen = window_generator(epoch, idx[i]);
        t.push_back(schedule_.training_steps(1, config_.timestep_power, gen));
        keep.push_back((torch::rand({1}, gen, f32) >= config_.p_uncond).to(torch::kFloat));
        eps.push_back(torch::randn({config_.input_T, io::kJointValues}, gen, f32));
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
    turn(insoles.narrow(2, io::kAccOffset, 3));
    turn(insoles.narrow(2, io::kRightFootOffset + io::kAccOffset, 3));
}

}  // namespace s2m::train::detail
