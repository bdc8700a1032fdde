#include "step2motion/train/data.hpp"

#include <cmath>

#include "step2motion/imu/frames.hpp"

namespace s2m::train {

namespace {
void mean_std(const std::vector<Clip>& clips, int channels, bool poses, std::vector<float>& mean, std::vector<float>& std_out) {
    std::vector<double> sum(static_cast<size_t>(channels), 0.0), sum_sq(static_cast<size_t>(channels), 0.0);
    double count = 0;
    for (const auto& c : clips) {
        const auto& v = poses ? c.poses : c.insoles;
        for (int f = 0; f < c.frames; ++f)
            for (int k = 0; k < channels; ++k) {
                const double x = v[static_cast<size_t>(f) * channels + k];
                sum[static_cast<size_t>(k)] += x;
                sum_sq[static_cast<size_t>(k)] += x * x;
            }
        count += c.frames;
    }
    mean.assign(static_cast<size_t>(channels), 0.f);
    std_out.assign(static_cast<size_t>(channels), 1.f);
    if (count < 1) return;
    for (int k = 0; k < channels; ++k) {
        const double m = sum[static_cast<size_t>(k)] / count;
        const double var = std::max(0.0, sum_sq[static_cast<size_t>(k)] / count - m * m);
        const double s = std::sqrt(var);
        mean[static_cast<size_t>(k)] = static_cast<float>(m);
        std_out[static_cast<size_t>(k)] = s < 1e-6 ? 1.f : static_cast<float>(s);
    }
}
}  // namespace

model::Normalization compute_normalization(const std::vector<Clip>& clips) {
    model::Normalization n;
    mean_std(clips, io::kRootAndJointValues, true, n.pose_mean, n.pose_std);
    mean_std(clips, io::kInsoleChannels, false, n.insole_mean, n.insole_std);
    return n;
}

model::Normalization yaw_symmetric(const model::Normalization& in) {
    model::Normalization n = in;
    auto fix = [](std::vector<float>& mean, std::vector<float>& sd, size_t x) {
        const double ex2 = double(sd[x]) * sd[x] + double(mean[x]) * mean[x];
        const double ez2 = double(sd[x + 2]) * sd[x + 2] + double(mean[x + 2]) * mean[x + 2];
        const double s = std::sqrt((ex2 + ez2) / 2);
        mean[x] = mean[x + 2] = 0.f;
        sd[x] = sd[x + 2] = s < 1e-6 ? 1.f : static_cast<float>(s);
    };
    if (n.pose_mean.size() == io::kRootAndJointValues)
        for (size_t t = 0; t < 22; ++t) fix(n.pose_mean, n.pose_std, 3 * t);
    if (n.insole_mean.size() == io::kInsoleChannels)
        for (size_t x : {16u, 41u}) fix(n.insole_mean, n.insole_std, x);
    return n;
}

std::vector<WindowRef> plan_windows(const std::vector<Clip>& clips, int length, int stride) {
    std::vector<WindowRef> w;
    for (int c = 0; c < static_cast<int>(clips.size()); ++c)
        for (int s = 0; s + length <= clips[static_cast<size_t>(c)].frames; s += stride) w.push_back({c, s});
    return w;
}

std::vector<float> insole_headings(const Clip& c) {
    if (c.heading_rad.size() == static_cast<size_t>(c.frames) * 2) return c.heading_rad;
    const Eigen::MatrixXf poses = Eigen::Map<const io::RowMatrixXf>(c.poses.data(), c.frames, io::kRootAndJointValues);
    const io::RowMatrixXf h = imu::insole_heading_from_poses(poses);
    return std::vector<float>(h.data(), h.data() + h.size());
}

Clip clip_from_dataset(const io::DatasetClip& d) {
    Clip c;
    c.name = d.name;
    c.subject = d.subject;
    c.activity = d.activity;
    c.frames = d.frames();
    c.poses.assign(d.poses.data(), d.poses.data() + d.poses.size());
    c.insoles.assign(d.insoles.data(), d.insoles.data() + d.insoles.size());
    const io::RowMatrixXf h = imu::clip_insole_headings(d);
    c.heading_rad.assign(h.data(), h.data() + h.size());
    return c;
}

TrainingSet training_set_from_dataset(const io::Dataset& dataset) {
    TrainingSet set;
    set.rate_hz = dataset.rate_hz;
    set.mean_offsets_m.assign(22, Eigen::Vector3d::Zero());
    int skeletons = 0;
    for (const auto& d : dataset.clips) {
        if (d.split == "train") {
            set.train.push_back(clip_from_dataset(d));
            for (int k = 0; k < 22; ++k) set.mean_offsets_m[static_cast<size_t>(k)] += d.offsets_m.row(k).transpose();
            ++skeletons;
        } else if (d.split == "val") {
            set.val.push_back(clip_from_dataset(d));
        }
    }
    for (auto& o : set.mean_offsets_m) o /= std::max(1, skeletons);
    if (!dataset.stats.empty()) {
        auto vec = [](const Eigen::VectorXf& v) { return std::vector<float>(v.data(), v.data() + v.size()); };
        set.stats.pose_mean = vec(dataset.stats.pose_mean);
        set.stats.pose_std = vec(dataset.stats.pose_std);
        set.stats.insole_mean = vec(dataset.stats.insole_mean);
        set.stats.insole_std = vec(dataset.stats.insole_std);
    } else {
        set.stats = compute_normalization(set.train);
    }
    return set;
}

}  // namespace s2m::train
