#include "step2motion/infer/reconstruct.hpp"

#include <cmath>
#include <map>

#include "step2motion/core/error.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/model/baselines.hpp"
#include "step2motion/model/sampler.hpp"
#include "step2motion/train/model_bundle.hpp"

namespace s2m::infer {

std::vector<WindowPlan> plan_sequence_windows(int frames, int window) {
    std::vector<WindowPlan> plan;
    const int half = window / 2;
    if (frames <= 0) return plan;
    plan.push_back({0, std::min(window, frames), 0});
    while (plan.back().start + plan.back().length < frames) {
        const int start = plan.back().start + half;
        plan.push_back({start, std::min(window, frames - start), half});
    }
    return plan;
}

namespace {

torch::Tensor matrix_tensor(const Eigen::MatrixXf& m) {
    // Eigen is column-major: copy row by row into a [rows, cols] tensor.
    auto t = torch::empty({m.rows(), m.cols()});
    Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(t.data_ptr<float>(), m.rows(), m.cols()) = m;
    return t;
}

struct WindowRef {
    int seq = 0, index = 0;  // index within its sequence's plan
    WindowPlan plan;
};

}  // namespace

int sampler_steps(const ReconstructOptions& options) {
    if (options.sampler != "fast") return 0;
    return options.steps > 0 ? options.steps : 20;
}

std::vector<Reconstruction> reconstruct(train::ModelBundle& bundle, const std::vector<InsoleSequence>& inputs,
                                        const ReconstructOptions& opt) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(opt.seed);
    bundle.train(false);
    const int W = bundle.config.input_T, half = W / 2;
    const auto insole_mean = train::to_tensor(bundle.stats.insole_mean), insole_std = train::to_tensor(bundle.stats.insole_std);
    const auto pose_mean = train::to_tensor(bundle.stats.pose_mean), pose_std = train::to_tensor(bundle.stats.pose_std);
    model::DiffusionSchedule schedule(bundle.config.model_config());
    const int steps = sampler_steps(opt);
    if (opt.sampler == "ddpm" && opt.steps > 0 && opt.steps < bundle.config.diffusion_T)
        fail_input("--steps " + std::to_string(opt.steps) + " with --sampler ddpm: the ancestral sampler runs all " +
                   std::to_string(bundle.config.diffusion_T) + " steps; use --sampler fast for fewer");
    if (opt.sampler != "ddpm" && opt.sampler != "fast") fail_input("--sampler " + opt.sampler + ": expected ddpm or fast");
    if (opt.root != "network" && opt.root != "double_integration")
        fail_input("root: expected network or double_integration, found " + opt.root);

    std::vector<Reconstruction> out(inputs.size());
    std::vector<torch::Tensor> insoles_n(inputs.size());
    std::vector<std::vector<WindowPlan>> plans(inputs.size());
    for (size_t s = 0; s < inputs.size(); ++s) {
        if (inputs[s].insoles.cols() != 50) fail_input(inputs[s].source, 0, "expected 50 insole channels per frame");
        insoles_n[s] = (matrix_tensor(inputs[s].insoles) - insole_mean) / insole_std;
        plans[s] = plan_sequence_windows(inputs[s].frames(), W);
        out[s].poses = Eigen::MatrixXf::Zero(inputs[s].frames(), 66);
        if (opt.details && bundle.is_diffusion()) out[s].attention.assign(static_cast<size_t>(inputs[s].frames()) * 24, 0.f);
    }

    // Groups of windows of equal length run as one batch; windows are grouped by length so that
    // the full windows of every sequence run in lockstep, then the final partial windows.
    std::map<int, std::vector<WindowRef>, std::greater<int>> groups;
    for (size_t s = 0; s < inputs.size(); ++s)
        for (size_t k = 0; k < plans[s].size(); ++k)
            groups[plans[s][k].length].push_back({static_cast<int>(s), static_cast<int>(k), plans[s][k]});

    int64_t total_windows = 0;
    for (auto& g : groups) total_windows += static_cast<int64_t>(g.second.size());
    // Counted per window and denoising level: one group can hold every window of a batch of inputs,
    // so counting finished windows would leave the bar at 0 until the whole batch is done.
    const bool per_level = bundle.is_diffusion();
    const int64_t levels_per_window =
        per_level ? static_cast<int64_t>(model::sampler_levels(schedule, steps).size()) : 1;
    // Several samples (diffusion only) are drawn one after another from the same random stream and
    // their joint positions averaged; the root network is deterministic.
    const int samples = per_level ? opt.samples : 1;
    if (opt.samples < 1) fail_input("--samples: expected at least 1");
    const float sample_weight = 1.f / static_cast<float>(samples);
    Progress progress("reconstruct", total_windows * levels_per_window * samples, per_level ? "window steps" : "windows");
    if (!opt.progress) Progress::set_enabled(false);

    // Per group: the batch of insole windows and where each window's predecessor is, the same for
    // every sample; the root displacement once, the IMU network being deterministic.
    struct Group {
        int length = 0;
        const std::vector<WindowRef>* windows = nullptr;
        torch::Tensor batch;
        std::vector<int64_t> prev_row;  // row of each window's predecessor in this batch (-1: none or earlier group)
        std::vector<bool> needs_tail;   // a later window in another group needs this window's tail trajectory
    };
    std::vector<Group> batches;
    for (auto& [length, windows] : groups) {
        Group g;
        g.length = length;
        g.windows = &windows;
        const int64_t B = static_cast<int64_t>(windows.size());
        g.batch = torch::empty({B, length, 50});
        std::map<std::pair<int, int>, int64_t> row;
        for (int64_t b = 0; b < B; ++b) {
            const auto& w = windows[static_cast<size_t>(b)];
            g.batch[b] = insoles_n[static_cast<size_t>(w.seq)].narrow(0, w.plan.start, length);
            row[{w.seq, w.index}] = b;
        }
        g.prev_row.assign(static_cast<size_t>(B), -1);
        g.needs_tail.assign(static_cast<size_t>(B), false);
        for (int64_t b = 0; b < B; ++b) {
            const auto& w = windows[static_cast<size_t>(b)];
            auto it = row.find({w.seq, w.index - 1});
            if (w.index > 0 && it != row.end()) g.prev_row[static_cast<size_t>(b)] = it->second;
            const auto& plan = plans[static_cast<size_t>(w.seq)];
            g.needs_tail[static_cast<size_t>(b)] =
                w.index + 1 < static_cast<int>(plan.size()) && plan[static_cast<size_t>(w.index + 1)].length != length;
        }
        if (opt.root == "network") {
            const auto disp = (bundle.root->forward(g.batch) * pose_std.narrow(0, 0, 3) + pose_mean.narrow(0, 0, 3)).contiguous();
            for (int64_t b = 0; b < B; ++b) {
                const auto& w = windows[static_cast<size_t>(b)];
                const float* dp = disp[b].data_ptr<float>();
                for (int f = w.plan.keep_from; f < length; ++f)
                    for (int k = 0; k < 3; ++k) out[static_cast<size_t>(w.seq)].poses(w.plan.start + f, k) = dp[f * 3 + k];
            }
        }
        batches.push_back(std::move(g));
    }

    for (int sample = 0; sample < samples; ++sample) {
        // Per sequence and window: the window's last W/2 frames at each noise level, for the window
        // after it when that one runs in a later group.
        std::map<std::pair<int, int>, std::map<int64_t, torch::Tensor>> tails;
        for (const auto& g : batches) {
            const int length = g.length;
            const auto& windows = *g.windows;
            const auto& prev_row = g.prev_row;
            const auto& needs_tail = g.needs_tail;
            const int64_t B = static_cast<int64_t>(windows.size());
            torch::Tensor x0;
            if (bundle.is_diffusion()) {
                model::SamplerOptions so;
                so.steps = steps;
                so.guidance = opt.guidance;
                so.bf16 = opt.bf16;
                // Inpainting (§8): at every level, each window's first W/2 frames become its
                // predecessor's last W/2 frames at the same level, in window order.
                so.on_step = [&](int64_t t, torch::Tensor& x) {
                    if (t > 0) progress.advance(B);
                    for (int64_t b = 0; b < B; ++b) {
                        const auto& w = windows[static_cast<size_t>(b)];
                        if (w.index == 0) continue;
                        const int64_t p = prev_row[static_cast<size_t>(b)];
                        if (p >= 0) {
                            x[b].narrow(0, 0, half).copy_(x[p].narrow(0, W - half, half));
                        } else {
                            auto& tail = tails[{w.seq, w.index - 1}];
                            auto it = tail.find(t);
                            if (it == tail.end()) throw std::logic_error("reconstruct: missing predecessor trajectory");
                            x[b].narrow(0, 0, half).copy_(it->second);
                        }
                    }
                    for (int64_t b = 0; b < B; ++b)
                        if (needs_tail[static_cast<size_t>(b)]) {
                            const auto& w = windows[static_cast<size_t>(b)];
                            tails[{w.seq, w.index}][t] = x[b].narrow(0, length - half, half).clone();
                        }
                };
                std::vector<torch::Tensor> attention;
                x0 = model::sample_poses(bundle.diffusion, schedule, g.batch, so, opt.details ? &attention : nullptr);
                if (opt.details && !attention.empty()) {
                    // [B, 8, 3L, Lk] per layer; per-component heads attend over the L frames of their
                    // component: take the weight on the same frame, averaged over layers.
                    for (int64_t b = 0; b < B; ++b) {
                        const auto& w = windows[static_cast<size_t>(b)];
                        auto& att = out[static_cast<size_t>(w.seq)].attention;
                        for (int f = w.plan.keep_from; f < length; ++f)
                            for (int part = 0; part < 3; ++part)
                                for (int c = 0; c < 8; ++c) {
                                    double sum = 0;
                                    for (const auto& a : attention) {
                                        const int64_t keys = a.size(3);
                                        const int64_t key = keys == length ? f : c * length + f;  // standard x-attn: 8L keys
                                        sum += a[b][c][part * length + f][key].item<double>();
                                    }
                                    att[static_cast<size_t>((w.plan.start + f) * 24 + part * 8 + c)] +=
                                        sample_weight * static_cast<float>(sum / attention.size());
                                }
                    }
                }
            } else {
                // Regressors: windows in the same layout, no inpainting needed.
                x0 = bundle.mlp ? bundle.mlp->forward(g.batch) : bundle.transformer->forward(g.batch);
            }
            const auto joints = (x0 * pose_std.narrow(0, 3, 63) + pose_mean.narrow(0, 3, 63)).contiguous();
            for (int64_t b = 0; b < B; ++b) {
                const auto& w = windows[static_cast<size_t>(b)];
                auto& poses = out[static_cast<size_t>(w.seq)].poses;
                const float* jp = joints[b].data_ptr<float>();
                for (int f = w.plan.keep_from; f < length; ++f)
                    for (int k = 0; k < 63; ++k) poses(w.plan.start + f, 3 + k) += sample_weight * jp[f * 63 + k];
                if (!per_level) progress.advance();
            }
        }
    }
    progress.finish();
    if (!opt.progress) Progress::set_enabled(true);

    if (opt.root == "double_integration")
        for (size_t s = 0; s < inputs.size(); ++s) out[s].poses.leftCols(3) = double_integration_root(inputs[s]);
    return out;
}

Eigen::MatrixXf double_integration_root(const InsoleSequence& input) {
    const auto d = model::double_integration_displacement(matrix_tensor(input.insoles), input.rate_hz).to(torch::kFloat32).contiguous();
    Eigen::MatrixXf out(input.frames(), 3);
    for (int f = 0; f < input.frames(); ++f)
        for (int k = 0; k < 3; ++k) out(f, k) = d.data_ptr<float>()[f * 3 + k];
    return out;
}

MotionOut positions_from_poses(const Eigen::MatrixXf& poses, const Eigen::Vector3d& root_start_m) {
    MotionOut m;
    const int F = static_cast<int>(poses.rows());
    Eigen::Vector3d root = root_start_m;
    for (int f = 0; f < F; ++f) {
        root += poses.row(f).head<3>().cast<double>().transpose();
        m.root_m.push_back(root);
        m.joints_m.push_back(root);
        for (int j = 0; j < 21; ++j)
            m.joints_m.push_back(root + Eigen::Vector3d(poses(f, 3 + 3 * j), poses(f, 4 + 3 * j), poses(f, 5 + 3 * j)));
    }
    return m;
}

kin::Motion motion_from_poses(const Eigen::MatrixXf& poses, const kin::Skeleton& skeleton, double fps,
                              const Eigen::Vector3d& root_start_m) {
    const MotionOut m = positions_from_poses(poses, root_start_m);
    return kin::inverse_kinematics(skeleton, m.joints_m, static_cast<int>(poses.rows()), fps);
}

std::vector<std::array<bool, 2>> foot_contacts(const MotionOut& m, double fps) {
    const int F = static_cast<int>(m.root_m.size());
    std::vector<std::array<bool, 2>> c(static_cast<size_t>(F), {false, false});
    const int toes[2] = {kin::LeftToeBase, kin::RightToeBase};
    for (int foot = 0; foot < 2; ++foot) {
        double floor_y = 1e30;
        for (int f = 0; f < F; ++f) floor_y = std::min(floor_y, m.joints_m[static_cast<size_t>(f * 22 + toes[foot])].y());
        for (int f = 0; f < F; ++f) {
            const auto& p = m.joints_m[static_cast<size_t>(f * 22 + toes[foot])];
            const auto& q = m.joints_m[static_cast<size_t>(std::min(F - 1, f + 1) * 22 + toes[foot])];
            const auto& o = m.joints_m[static_cast<size_t>(std::max(0, f - 1) * 22 + toes[foot])];
            Eigen::Vector3d v = (q - o) * fps / std::max(1, std::min(F - 1, f + 1) - std::max(0, f - 1));
            v.y() = 0;
            c[static_cast<size_t>(f)][static_cast<size_t>(foot)] = p.y() - floor_y < 0.05 && v.norm() < 0.5;
        }
    }
    return c;
}

std::array<int, 2> count_steps(const MotionOut& m, double lift_m, int min_frames) {
    const int F = static_cast<int>(m.root_m.size());
    const int ankles[2] = {kin::LeftFoot, kin::RightFoot};
    std::array<int, 2> steps{0, 0};
    for (int foot = 0; foot < 2; ++foot) {
        bool swinging = false;
        int run = 0, down = min_frames;  // frames above lift_m in a row; frames down since the last swing
        for (int f = 0; f < F; ++f) {
            const double lift = m.joints_m[static_cast<size_t>(f * 22 + ankles[foot])].y() -
                                m.joints_m[static_cast<size_t>(f * 22 + ankles[1 - foot])].y();
            if (swinging) {
                if (lift < lift_m / 2) {
                    swinging = false;
                    down = 1;
                }
                continue;
            }
            if (lift < lift_m / 2) ++down;
            run = lift > lift_m ? run + 1 : 0;
            if (run >= min_frames) {
                swinging = true;
                run = 0;
                if (down >= min_frames) ++steps[static_cast<size_t>(foot)];  // else back up too soon: the same swing
            }
        }
    }
    return steps;
}

}  // namespace s2m::infer
