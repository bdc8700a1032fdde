#include "step2motion/infer/reconstruct.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "step2motion/core/error.hpp"
#include "step2motion/core/hash.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/imu/frames.hpp"
#include "step2motion/imu/zupt.hpp"
#include "step2motion/infer/contacts.hpp"
#include "step2motion/infer/wearer.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "step2motion/model/baselines.hpp"
#include "step2motion/model/conditioning.hpp"
#include "step2motion/model/device.hpp"
#include "step2motion/model/heading_frame.hpp"
#include "step2motion/model/sampler.hpp"
#include "step2motion/model/bundle.hpp"

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

// A window of one sequence (index into that sequence's plan).
struct WindowKey {
    int seq = 0, index = 0;
    bool operator<(const WindowKey& o) const { return seq != o.seq ? seq < o.seq : index < o.index; }
};

}  // namespace

const std::vector<std::string>& attention_components() {
    // From the model's own component table, so that the labels follow its head order.
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& c : model::insole_components()) {
            const std::string n = c.name;  // lpressure_toes, lpressure_heel, limu, lothers, r...
            const std::string side = n[0] == 'l' ? "left_" : "right_";
            const std::string part = n.substr(1);
            out.push_back(side + (part == "pressure_toes" ? "toes" : part == "pressure_heel" ? "heel" : part == "imu" ? "imu" : "force_cop"));
        }
        return out;
    }();
    return names;
}

ReconstructOptions with_model_defaults(ReconstructOptions o, const model::ModelBundle& m, const SamplerChoice& given) {
    if (!given.foot_contacts) o.foot_contacts = m.config.representation == model::Representation::Heading;
    if (!given.wearer_size) o.wearer_size = m.config.representation == model::Representation::Heading;
    const model::SamplingDefaults& d = m.sampling;
    if (d.empty() || !m.is_diffusion()) return o;
    if (!given.sampler) o.sampler = d.sampler;
    if (!given.steps) o.steps = o.sampler == d.sampler ? d.steps : 0;
    if (!given.samples) o.samples = d.samples;
    return o;
}

int sampler_steps(const ReconstructOptions& options) {
    if (options.sampler != "fast") return 0;
    return options.steps > 0 ? options.steps : 20;
}

// The steps of one reconstruction run; see reconstruct.hpp.
class Reconstructor::Impl {
public:
    Impl(model::ModelBundle& bundle, const ReconstructOptions& opt) : bundle_(bundle), opt_(opt), schedule_(bundle.config.model_config()) {
        if (opt.sampler != "ddpm" && opt.sampler != "fast") fail_input("--sampler " + opt.sampler + ": expected ddpm or fast");
        if (opt.sampler == "ddpm" && opt.steps > 0 && opt.steps < bundle.config.diffusion_T)
            fail_input("--steps " + std::to_string(opt.steps) + " with --sampler ddpm: the ancestral sampler runs all " +
                       std::to_string(bundle.config.diffusion_T) + " steps; use --sampler fast for fewer");
        const auto& modes = root_modes();
        if (std::find(modes.begin(), modes.end(), opt.root) == modes.end())
            fail_input("root: expected network, zupt, fused or double_integration, found " + opt.root);
        if (opt.samples < 1) fail_input("--samples: expected at least 1");
        if (opt.max_batch_rows < 1) fail_input("reconstruct: max_batch_rows must be at least 1");
        W_ = bundle.config.input_T;
        half_ = W_ / 2;
        steps_ = sampler_steps(opt);
        samples_ = bundle.is_diffusion() ? opt.samples : 1;
        device_ = torch::Device(model::resolve_device(opt.device));
        bundle_.to(device_);
        schedule_.to(device_);
        insole_mean_ = model::to_tensor(bundle.stats.insole_mean).to(device_);
        insole_std_ = model::to_tensor(bundle.stats.insole_std).to(device_);
        pose_mean_ = model::to_tensor(bundle.stats.pose_mean).to(device_);
        pose_std_ = model::to_tensor(bundle.stats.pose_std).to(device_);
        heading_ = bundle.config.representation == model::Representation::Heading;
        if (heading_) check_yaw_symmetric(bundle.stats);
    }

    std::vector<Reconstruction> run(const std::vector<InsoleSequence>& inputs) {
        c10::InferenceMode inference;
        bundle_.train(false);
        prepare(inputs);
        const int64_t levels = bundle_.is_diffusion() ? static_cast<int64_t>(model::sampler_levels(schedule_, steps_).size()) : 1;
        int64_t windows = 0;
        for (const auto& p : plans_) windows += static_cast<int64_t>(p.size());
        Progress progress("reconstruct", windows * levels * samples_, bundle_.is_diffusion() ? "window steps" : "windows");
        progress_ = &progress;
        if (!opt_.progress) Progress::set_enabled(false);
        if (opt_.root != "double_integration") root_from_network();
        if (bundle_.is_diffusion()) sample_all();
        else regress_all();
        progress.finish();
        if (!opt_.progress) Progress::set_enabled(true);
        progress_ = nullptr;
        for (size_t s = 0; s < inputs.size(); ++s) {
            // The body at the wearer's size before the feet are held where they stand.
            if (opt_.wearer_size && inputs[s].wearer_leg_length_m > 0) scale_to_wearer(out_[s].poses, inputs[s].wearer_leg_length_m);
            apply_root(out_[s].poses, inputs[s], opt_.root);
            if (opt_.foot_contacts) lock_foot_contacts(out_[s].poses, inputs[s]);
        }
        return std::move(out_);
    }

private:
    // Heading frame: windows are turned in normalised space (insoles here, inpainted frames between
    // windows), which is a rotation only when every turned triple's x and z share mean 0 and one
    // std, as the trainer's statistics do (train::yaw_symmetric).
    static void check_yaw_symmetric(const model::Normalization& n) {
        const auto symmetric = [](const std::vector<float>& mean, const std::vector<float>& sd, size_t x) {
            return x + 2 < mean.size() && mean[x] == 0 && mean[x + 2] == 0 && sd[x] == sd[x + 2];
        };
        bool ok = n.pose_mean.size() == io::kRootAndJointValues && n.insole_mean.size() == io::kInsoleChannels;
        for (size_t t = 0; ok && t < 22; ++t) ok = symmetric(n.pose_mean, n.pose_std, 3 * t);
        for (size_t x : {16u, 41u}) ok = ok && symmetric(n.insole_mean, n.insole_std, x);
        if (!ok) fail_input("model: representation heading needs yaw-symmetric statistics (mean 0 and one std for x and z), as s2m train stores");
    }

    // Per window: the turn from world into its heading frame is -window_heading_[seq][index].
    void plan_headings(const std::vector<InsoleSequence>& inputs) {
        window_heading_.assign(inputs.size(), {});
        for (size_t s = 0; s < inputs.size(); ++s) {
            const auto& in = inputs[s];
            if (in.insole_heading_rad.rows() != in.frames() || in.insole_heading_rad.cols() != 2)
                fail_input(in.source, 0, "a heading-frame model needs each insole's heading (F x 2); read the input with load_inputs, or "
                                         "rebuild the dataset with s2m preprocess");
            const io::RowMatrixXf ins = in.insoles;
            const Eigen::Matrix<float, Eigen::Dynamic, 2, Eigen::RowMajor> heading = in.insole_heading_rad;
            for (const WindowPlan& p : plans_[s])
                window_heading_[s].push_back(imu::window_heading_rad(ins.data() + size_t(p.start) * io::kInsoleChannels, heading.data() + size_t(p.start) * 2, p.length));
        }
    }
    double heading(const WindowKey& k) const { return window_heading_[size_t(k.seq)][size_t(k.index)]; }
    // Angles [n] on the device: sign * heading of each window.
    torch::Tensor headings(const std::vector<WindowKey>& keys, double sign) const {
        std::vector<double> a;
        for (const auto& k : keys) a.push_back(sign * heading(k));
        return torch::tensor(a, torch::kDouble).to(device_);
    }
    // Rows of a window's frames turned by `angle` [rows] (heading frame only).
    torch::Tensor turned(const torch::Tensor& rows, const torch::Tensor& angle) const {
        return heading_ ? model::turn_about_up(rows, angle) : rows;
    }

    void prepare(const std::vector<InsoleSequence>& inputs) {
        inputs_ = &inputs;
        out_.assign(inputs.size(), Reconstruction());
        insoles_n_.clear();
        plans_.clear();
        for (size_t s = 0; s < inputs.size(); ++s) {
            if (inputs[s].insoles.cols() != io::kInsoleChannels)
                fail_input(inputs[s].source, 0, "expected 50 insole channels per frame");
            insoles_n_.push_back((matrix_tensor(inputs[s].insoles).to(device_) - insole_mean_) / insole_std_);
            plans_.push_back(plan_sequence_windows(inputs[s].frames(), W_));
            out_[s].poses = Eigen::MatrixXf::Zero(inputs[s].frames(), io::kRootAndJointValues);
            if (opt_.details && bundle_.is_diffusion()) out_[s].attention.assign(static_cast<size_t>(inputs[s].frames()) * 24, 0.f);
        }
        if (heading_) plan_headings(inputs);
    }

    const WindowPlan& plan(const WindowKey& k) const { return plans_[size_t(k.seq)][size_t(k.index)]; }

    // Insole windows [n, L, 50] of equal length L.
    torch::Tensor insole_batch(const std::vector<WindowKey>& keys) const {
        std::vector<torch::Tensor> rows;
        for (const auto& k : keys) rows.push_back(insoles_n_[size_t(k.seq)].narrow(0, plan(k).start, plan(k).length));
        const auto batch = torch::stack(rows);
        return heading_ ? model::turn_insole_accelerations(batch, headings(keys, -1)) : batch;
    }

    // Groups of at most `max_windows` windows of equal length, in sequence order; windows of every
    // length, for the computations without inpainting (root network, regressors).
    std::vector<std::vector<WindowKey>> batches_by_length(int64_t max_windows) const {
        std::map<int, std::vector<WindowKey>, std::greater<int>> by_length;
        for (size_t s = 0; s < plans_.size(); ++s)
            for (size_t i = 0; i < plans_[s].size(); ++i) by_length[plans_[s][i].length].push_back({int(s), int(i)});
        std::vector<std::vector<WindowKey>> out;
        for (auto& [length, keys] : by_length)
            for (size_t b = 0; b < keys.size(); b += size_t(max_windows))
                out.emplace_back(keys.begin() + long(b), keys.begin() + long(std::min(keys.size(), b + size_t(max_windows))));
        return out;
    }

    // Copies rows [L, C] (normalised model output) into the kept frames of their windows, denormalised;
    // columns [col, col + C) of the 66-value poses, weighted (averaging samples).
    void write_kept(const std::vector<WindowKey>& keys, const torch::Tensor& values_n, int col, int C, float weight) {
        const auto mean = pose_mean_.narrow(0, col, C), sd = pose_std_.narrow(0, col, C);
        auto values = values_n.to(torch::kFloat) * sd + mean;
        if (heading_) values = model::turn_about_up(values, headings(keys, 1));  // back to world
        values = values.to(torch::kCPU).contiguous();  // the one copy to the host
        const float* v = values.data_ptr<float>();
        const int64_t L = values.size(1);
        for (size_t b = 0; b < keys.size(); ++b) {
            const WindowPlan& p = plan(keys[b]);
            auto& poses = out_[size_t(keys[b].seq)].poses;
            for (int f = p.keep_from; f < p.length; ++f)
                for (int k = 0; k < C; ++k) poses(p.start + f, col + k) += weight * v[(int64_t(b) * L + f) * C + k];
        }
    }

    void root_from_network() {
        for (const auto& keys : batches_by_length(opt_.max_batch_rows)) {
            model::Autocast autocast(opt_.bf16, device_);
            write_kept(keys, bundle_.root->forward(insole_batch(keys)), 0, io::kRootValues, 1.f);
        }
    }

    void regress_all() {
        for (const auto& keys : batches_by_length(opt_.max_batch_rows)) {
            model::Autocast autocast(opt_.bf16, device_);
            const auto batch = insole_batch(keys);
            write_kept(keys, bundle_.mlp ? bundle_.mlp->forward(batch) : bundle_.transformer->forward(batch), io::kRootValues, io::kJointValues, 1.f);
            progress_->advance(static_cast<int64_t>(keys.size()));
        }
    }

    // Diffusion: windows in chunks of consecutive windows (sequence order), all samples of a window in
    // the same chunk; each window's first frames inpainted at every level from its predecessor's last
    // frames (reference §8): from the same chunk, or from the trajectory saved when the predecessor ran
    // in an earlier chunk. A final partial window runs right after the chunk holding its predecessor,
    // so at most one chunk's windows and a few saved trajectories are in memory at any time.
    void sample_all() {
        const int64_t rows_per_window = samples_ * (opt_.guidance != 1.0 ? 2 : 1);
        const int64_t max_windows = std::max<int64_t>(1, opt_.max_batch_rows / rows_per_window);
        std::vector<WindowKey> chunk;
        auto flush = [&] {
            if (chunk.empty()) return;
            run_chunk(chunk);
            // Final partial windows whose predecessor just ran, and sequences shorter than a window.
            std::map<int, std::vector<WindowKey>> partial;
            for (const auto& k : chunk) {
                const auto& p = plans_[size_t(k.seq)];
                if (size_t(k.index) + 1 < p.size() && p[size_t(k.index) + 1].length != W_) partial[p[size_t(k.index) + 1].length].push_back({k.seq, k.index + 1});
            }
            chunk.clear();
            for (auto& [length, keys] : partial)
                for (size_t b = 0; b < keys.size(); b += size_t(max_windows))
                    run_chunk({keys.begin() + long(b), keys.begin() + long(std::min(keys.size(), b + size_t(max_windows)))});
        };
        std::map<int, std::vector<WindowKey>> short_sequences;
        for (size_t s = 0; s < plans_.size(); ++s) {
            for (size_t i = 0; i < plans_[s].size(); ++i) {
                if (plans_[s][i].length != W_) {
                    if (i == 0) short_sequences[plans_[s][i].length].push_back({int(s), 0});
                    continue;  // partial windows run after their predecessor's chunk
                }
                chunk.push_back({int(s), int(i)});
                if (int64_t(chunk.size()) == max_windows) flush();
            }
        }
        flush();
        for (auto& [length, keys] : short_sequences)
            for (size_t b = 0; b < keys.size(); b += size_t(max_windows))
                run_chunk({keys.begin() + long(b), keys.begin() + long(std::min(keys.size(), b + size_t(max_windows)))});
    }

    void run_chunk(const std::vector<WindowKey>& keys) {
        const int64_t n = static_cast<int64_t>(keys.size()), K = samples_, R = n * K;
        const int L = plan(keys.front()).length;
        // Row r = window (r / K), sample (r % K).
        auto insoles = insole_batch(keys).repeat_interleave(K, 0);
        std::map<WindowKey, int64_t> first_row;
        for (int64_t b = 0; b < n; ++b) first_row[keys[size_t(b)]] = b * K;

        // Inpainting sources: a predecessor row in this chunk, or a trajectory saved from an earlier one.
        std::vector<int64_t> dst_in, src_in, dst_saved;
        std::vector<double> turn_in, turn_saved;  // heading frame: from the predecessor's frame into this window's
        std::vector<std::pair<WindowKey, int64_t>> saved_from;  // (predecessor, sample) per dst_saved row
        int overlap = 0;
        for (int64_t b = 0; b < n; ++b) {
            const WindowKey& k = keys[size_t(b)];
            if (k.index == 0) continue;
            const WindowKey prev{k.seq, k.index - 1};
            overlap = std::min(plan(k).length, plan(prev).length - half_);
            auto it = first_row.find(prev);
            for (int64_t s = 0; s < K; ++s) {
                const double turn = heading_ ? heading(prev) - heading(k) : 0.0;
                if (it != first_row.end()) {
                    dst_in.push_back(b * K + s);
                    src_in.push_back(it->second + s);
                    turn_in.push_back(turn);
                } else {
                    turn_saved.push_back(turn);
                    if (!saved_.count({prev, s})) throw std::logic_error("reconstruct: missing predecessor trajectory");
                    dst_saved.push_back(b * K + s);
                    saved_from.push_back({prev, s});
                }
            }
        }
        // Rows whose successor runs in a later chunk: their last frames are saved at every level.
        std::vector<int64_t> keep_rows;
        std::vector<std::pair<WindowKey, int64_t>> keep_as;
        for (int64_t b = 0; b < n; ++b) {
            const WindowKey& k = keys[size_t(b)];
            const WindowKey next{k.seq, k.index + 1};
            if (size_t(next.index) < plans_[size_t(k.seq)].size() && !first_row.count(next))
                for (int64_t s = 0; s < K; ++s) {
                    keep_rows.push_back(b * K + s);
                    keep_as.push_back({k, s});
                }
        }
        // Row indices on the device once per chunk, not at every level.
        const auto rows = [&](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).to(device_); };
        const auto dst_in_t = rows(dst_in), src_in_t = rows(src_in), dst_saved_t = rows(dst_saved), keep_rows_t = rows(keep_rows);
        const auto turn_in_t = torch::tensor(turn_in, torch::kDouble).to(device_), turn_saved_t = torch::tensor(turn_saved, torch::kDouble).to(device_);
        std::map<int64_t, torch::Tensor> kept;  // level -> [rows, half, 63] for keep_rows

        // One generator per row, keyed by (seed, sequence name, window, sample): a window's noise does
        // not depend on the batch it runs in.
        std::vector<at::Generator> gens;
        for (int64_t r = 0; r < R; ++r) {
            const WindowKey& k = keys[size_t(r / K)];
            const uint64_t key = mix64(opt_.seed ^ mix64(name_hash((*inputs_)[size_t(k.seq)].name) + 0x9E3779B97F4A7C15ull * uint64_t(k.index + 1)) ^
                                       mix64(uint64_t(r % K) + 1));
            gens.push_back(at::make_generator<at::CPUGeneratorImpl>(key));
        }

        model::SamplerOptions so;
        so.steps = steps_;
        so.guidance = opt_.guidance;
        so.bf16 = opt_.bf16;
        // Drawn on the host (CPU generators) and copied: the same noise on every device.
        so.noise = [&](const torch::Tensor& like) {
            auto z = torch::empty(like.sizes(), like.options().device(torch::kCPU));
            for (int64_t r = 0; r < R; ++r) z[r].normal_(0, 1, gens[size_t(r)]);
            return z.to(like.device());
        };
        so.on_step = [&](int64_t t, torch::Tensor& x) {
            if (t > 0) progress_->advance(R);
            if (overlap > 0) {
                auto head = x.narrow(1, 0, overlap);
                if (!dst_in.empty())
                    head.index_copy_(0, dst_in_t, turned(x.narrow(1, half_, overlap).index_select(0, src_in_t), turn_in_t));
                if (!dst_saved.empty()) {
                    std::vector<torch::Tensor> parts;
                    for (const auto& from : saved_from) parts.push_back(saved_.at(from).at(t).narrow(0, 0, overlap));
                    head.index_copy_(0, dst_saved_t, turned(torch::stack(parts), turn_saved_t));
                }
            }
            if (!keep_rows.empty()) kept[t] = x.index_select(0, keep_rows_t).narrow(1, half_, L - half_).clone();
        };
        std::vector<torch::Tensor> attention;
        const auto x0 = model::sample_poses(bundle_.diffusion, schedule_, insoles, so, opt_.details ? &attention : nullptr);
        // Saved trajectories this chunk used are no longer needed; store the new ones.
        for (const auto& from : saved_from) saved_.erase(from);
        for (size_t i = 0; i < keep_as.size(); ++i) {
            auto& levels = saved_[keep_as[i]];
            for (auto& [t, rows] : kept) levels[t] = rows[int64_t(i)];
        }
        // Poses: the mean over samples, denormalised, into the kept frames.
        const auto mean_pose = x0.view({n, K, L, io::kJointValues}).mean(1);
        write_kept(keys, mean_pose, io::kRootValues, io::kJointValues, 1.f);
        if (opt_.details && !attention.empty()) write_attention(keys, attention, L);
    }

    // Per frame, body part and component: the attention weight on the same frame of that component,
    // averaged over layers and samples.
    void write_attention(const std::vector<WindowKey>& keys, const std::vector<torch::Tensor>& attention, int L) {
        const int64_t n = static_cast<int64_t>(keys.size()), K = samples_;
        torch::Tensor sum;
        for (const auto& a : attention) {  // [R, 8, 3L, Lk]
            const int64_t Lk = a.size(3);
            auto f = torch::arange(L, a.options().dtype(torch::kLong));
            std::vector<torch::Tensor> per_comp;
            for (int c = 0; c < 8; ++c) {
                auto key = Lk == L ? f : f + c * L;  // standard cross-attention: 8L keys
                std::vector<torch::Tensor> per_part;
                for (int part = 0; part < 3; ++part)
                    per_part.push_back(a.select(1, c).index({torch::indexing::Slice(), f + part * L, key}));  // [R, L]
                per_comp.push_back(torch::stack(per_part, 2));  // [R, L, 3]
            }
            auto w = torch::stack(per_comp, 3).to(torch::kFloat);  // [R, L, 3, 8]
            sum = sum.defined() ? sum + w : w;
        }
        const auto mean = (sum / double(attention.size())).view({n, K, L, 24}).mean(1).to(torch::kCPU).contiguous();
        const float* v = mean.data_ptr<float>();
        for (int64_t b = 0; b < n; ++b) {
            const WindowPlan& p = plan(keys[size_t(b)]);
            auto& att = out_[size_t(keys[size_t(b)].seq)].attention;
            for (int f = p.keep_from; f < p.length; ++f)
                std::copy_n(v + (b * L + f) * 24, 24, att.begin() + long(p.start + f) * 24);
        }
    }

    model::ModelBundle& bundle_;
    ReconstructOptions opt_;
    model::DiffusionSchedule schedule_;
    torch::Device device_{torch::kCPU};
    int W_ = 0, half_ = 0, steps_ = 0;
    int64_t samples_ = 1;
    bool heading_ = false;                               // model::Representation::Heading
    std::vector<std::vector<double>> window_heading_;    // per sequence, per window (radians)
    torch::Tensor insole_mean_, insole_std_, pose_mean_, pose_std_;
    const std::vector<InsoleSequence>* inputs_ = nullptr;
    std::vector<torch::Tensor> insoles_n_;
    std::vector<std::vector<WindowPlan>> plans_;
    std::vector<Reconstruction> out_;
    // Trajectories of windows whose successor runs in a later chunk: (window, sample) -> level -> [half, 63].
    std::map<std::pair<WindowKey, int64_t>, std::map<int64_t, torch::Tensor>> saved_;
    Progress* progress_ = nullptr;
};

Reconstructor::Reconstructor(model::ModelBundle& model, const ReconstructOptions& options)
    : impl_(std::make_unique<Impl>(model, options)) {}
Reconstructor::~Reconstructor() = default;
std::vector<Reconstruction> Reconstructor::run(const std::vector<InsoleSequence>& inputs) { return impl_->run(inputs); }

std::vector<Reconstruction> reconstruct(model::ModelBundle& bundle, const std::vector<InsoleSequence>& inputs,
                                        const ReconstructOptions& opt) {
    return Reconstructor(bundle, opt).run(inputs);
}

Eigen::MatrixXf double_integration_root(const InsoleSequence& input) {
    const auto d = model::double_integration_displacement(matrix_tensor(input.insoles), input.rate_hz).to(torch::kFloat32).contiguous();
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 3, Eigen::RowMajor>>(d.data_ptr<float>(), input.frames(), 3);
}

const std::vector<std::string>& root_modes() {
    static const std::vector<std::string> modes{"network", "zupt", "fused", "double_integration"};
    return modes;
}

void apply_root(Eigen::MatrixXf& poses, const InsoleSequence& input, const std::string& root) {
    if (root == "network") return;
    if (poses.rows() != input.frames() || poses.cols() < 3) fail_input(input.source, 0, "apply_root: poses and insoles differ in length");
    if (root == "double_integration") {
        poses.leftCols(3) = double_integration_root(input);
        return;
    }
    if (root != "zupt" && root != "fused") fail_input("root: expected network, zupt, fused or double_integration, found " + root);
    const int F = input.frames();
    const Eigen::MatrixXd feet = input.feet_root_m.rows() == F ? input.feet_root_m : imu::feet_root(input.insoles, input.rate_hz).position_m;
    Eigen::MatrixXd path = feet;
    if (root == "fused") {
        // The feet carry the distance (their errors grow per step, not per second); the network carries
        // what the feet's step-averaged path cannot: the sway and surge within a step.
        const auto root_m = positions_from_poses(poses, Eigen::Vector3d::Zero()).root_m;
        Eigen::MatrixXd network(F, 3);
        for (int f = 0; f < F; ++f) network.row(f) = root_m[static_cast<size_t>(f)].transpose();
        path += network - imu::centred_average(network, imu::smoothing_window_frames(input.rate_hz));
    }
    for (int f = 1; f < F; ++f) {
        poses(f, 0) = static_cast<float>(path(f, 0) - path(f - 1, 0));
        poses(f, 2) = static_cast<float>(path(f, 2) - path(f - 1, 2));  // Y (vertical) stays the network's
    }
}

MotionOut positions_from_poses(const Eigen::MatrixXf& poses, const Eigen::Vector3d& root_start_m) {
    MotionOut m;
    const int F = static_cast<int>(poses.rows());
    Eigen::Vector3d root = root_start_m;
    for (int f = 0; f < F; ++f) {
        root += poses.row(f).head<3>().cast<double>().transpose();
        m.root_m.push_back(root);
        m.joints_m.push_back(root);
        for (int j = 0; j < io::kDatasetJoints - 1; ++j)
            m.joints_m.push_back(root + Eigen::Vector3d(poses(f, 3 + 3 * j), poses(f, 4 + 3 * j), poses(f, 5 + 3 * j)));
    }
    return m;
}

io::Motion motion_from_poses(const Eigen::MatrixXf& poses, const io::Skeleton& skeleton, double fps,
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
