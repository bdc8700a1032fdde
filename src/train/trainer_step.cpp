// One optimisation step of each network, and validation.
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
    const auto x0 = poses_n.narrow(2, io::kRootValues, io::kJointValues);
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
        const auto joints = x0_hat * pose_std_.narrow(0, io::kRootValues, io::kJointValues) + pose_mean_.narrow(0, io::kRootValues, io::kJointValues);
        const auto err = (joints - poses.narrow(2, io::kRootValues, io::kJointValues)).view({n, -1, io::kDatasetJoints - 1, 3}).norm(2, -1);
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

}  // namespace s2m::train::detail
