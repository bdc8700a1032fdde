#include "step2motion/imu/zupt.hpp"

#include <algorithm>
#include <cmath>

#include "step2motion/core/error.hpp"
#include "step2motion/io/moticon.hpp"

namespace s2m::imu {

namespace {

constexpr double kG_m_s2 = 9.80665;

int frames_of(double seconds, double rate_hz) { return std::max(1, static_cast<int>(std::lround(seconds * rate_hz))); }

// Maximal runs of equal values: [begin, end) with the value.
struct Run {
    int begin, end;
    unsigned char value;
};
std::vector<Run> runs_of(const std::vector<unsigned char>& x) {
    std::vector<Run> runs;
    for (int i = 0, n = static_cast<int>(x.size()); i < n;) {
        int j = i;
        while (j < n && x[static_cast<size_t>(j)] == x[static_cast<size_t>(i)]) ++j;
        runs.push_back({i, j, x[static_cast<size_t>(i)]});
        i = j;
    }
    return runs;
}

}  // namespace

std::vector<unsigned char> stance_from_force(const Eigen::VectorXf& force, const Eigen::MatrixXf& gyro, double rate_hz,
                                             const ZuptOptions& o) {
    if (!(rate_hz > 0)) fail_input("zupt: rate must be positive");
    const int n = static_cast<int>(force.size());
    if (gyro.size() > 0 && (gyro.rows() != n || gyro.cols() != 3)) fail_input("zupt: expected N x 3 angular rates");
    std::vector<unsigned char> stance(static_cast<size_t>(n), 0);
    if (n == 0) return stance;
    std::vector<float> sorted;
    for (int i = 0; i < n; ++i)
        if (std::isfinite(force[i])) sorted.push_back(force[i]);
    if (sorted.empty()) return stance;
    const size_t k = std::min(sorted.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(k), sorted.end());
    const double threshold = std::max(o.stance_force_min_n, o.stance_force_fraction * sorted[k]);
    for (int i = 0; i < n; ++i)
        stance[static_cast<size_t>(i)] = std::isfinite(force[i]) && force[i] > threshold &&
                                         (gyro.size() == 0 || gyro.row(i).norm() < o.still_gyro_deg_s);

    // Short unloaded gaps between two stances are flicker: merged.
    const int merge = frames_of(o.merge_gap_s, rate_hz);
    for (const Run& r : runs_of(stance))
        if (!r.value && r.begin > 0 && r.end < n && r.end - r.begin < merge)
            std::fill(stance.begin() + r.begin, stance.begin() + r.end, 1);
    // Then stances too short to be one are dropped.
    const int min_stance = frames_of(o.min_stance_s, rate_hz);
    for (const Run& r : runs_of(stance))
        if (r.value && r.end - r.begin < min_stance) std::fill(stance.begin() + r.begin, stance.begin() + r.end, 0);
    return stance;
}

FootPath foot_path(const Eigen::MatrixXf& acc_g, const Eigen::VectorXf& force, const Eigen::MatrixXf& gyro, double rate_hz,
                   const ZuptOptions& o) {
    const int n = static_cast<int>(acc_g.rows());
    if (acc_g.cols() != 3 || force.size() != n) fail_input("zupt: expected N x 3 accelerations and N forces");
    FootPath out;
    out.stance = stance_from_force(force, gyro, rate_hz, o);
    out.position_m = Eigen::MatrixXd::Zero(n, 3);
    if (n < 2) return out;
    const double dt = 1.0 / rate_hz;
    Eigen::MatrixXd a = acc_g.cast<double>() * kG_m_s2;
    for (int i = 0; i < n; ++i)
        if (!a.row(i).allFinite()) a.row(i).setZero();
    Eigen::MatrixXd v = Eigen::MatrixXd::Zero(n, 3);
    const int max_swing = frames_of(o.max_swing_s, rate_hz);
    for (const Run& r : runs_of(out.stance)) {
        if (r.value || r.end - r.begin > max_swing) continue;  // stance, or no gait swing: v = 0
        if (r.begin == 0 && r.end == n) continue;             // never in stance: nothing anchors the velocity
        if (r.begin == 0) {
            // Swing at the start: the velocity is known (0) only at the first stance; integrate backwards.
            for (int f = r.end - 1; f >= 0; --f) v.row(f) = v.row(f + 1) - 0.5 * (a.row(f) + a.row(f + 1)) * dt;
            continue;
        }
        for (int f = r.begin; f < r.end; ++f) v.row(f) = v.row(f - 1) + 0.5 * (a.row(f - 1) + a.row(f)) * dt;
        if (r.end == n) continue;  // still in the air at the end: no stance to correct against
        // The velocity at the next stance must be 0: remove the residual as a ramp over the swing.
        const Eigen::RowVector3d residual = v.row(r.end - 1) + 0.5 * (a.row(r.end - 1) + a.row(r.end)) * dt;
        const double span = r.end - r.begin + 1;
        for (int f = r.begin; f < r.end; ++f) v.row(f) -= residual * ((f - r.begin + 1) / span);
        ++out.strides;
    }
    for (int f = 1; f < n; ++f) out.position_m.row(f) = out.position_m.row(f - 1) + 0.5 * (v.row(f - 1) + v.row(f)) * dt;
    return out;
}

int smoothing_window_frames(double rate_hz, const ZuptOptions& o) { return frames_of(o.smooth_s, rate_hz) | 1; }

Eigen::MatrixXd centred_average(const Eigen::MatrixXd& x, int window) {
    const int n = static_cast<int>(x.rows());
    const int half = std::max(0, window / 2);
    Eigen::MatrixXd prefix = Eigen::MatrixXd::Zero(n + 1, x.cols());
    for (int i = 0; i < n; ++i) prefix.row(i + 1) = prefix.row(i) + x.row(i);
    Eigen::MatrixXd y(n, x.cols());
    for (int i = 0; i < n; ++i) {
        const int h = std::min({half, i, n - 1 - i});
        y.row(i) = (prefix.row(i + h + 1) - prefix.row(i - h)) / (2 * h + 1);
    }
    return y;
}

FeetRoot feet_root(const Eigen::MatrixXf& channels, double rate_hz, const ZuptOptions& o) {
    if (channels.cols() != io::kInsoleChannels) fail_input("zupt: insole frames must have 50 channels");
    FeetRoot out;
    for (int foot = 0; foot < 2; ++foot) {
        const int base = foot * io::kFootChannels;
        out.feet[foot] = foot_path(channels.middleCols(base + io::kAccOffset, 3), channels.col(base + io::kForceOffset),
                                   channels.middleCols(base + io::kGyroOffset, 3), rate_hz, o);
    }
    // A foot never found in stance (a dead insole, or a clip too short for one) does not travel in
    // foot_path, but the body does: then the other foot's path alone is the body's (each foot covers
    // the whole distance), not half of it.
    bool anchored[2];
    for (int foot = 0; foot < 2; ++foot)
        anchored[foot] = std::any_of(out.feet[foot].stance.begin(), out.feet[foot].stance.end(), [](unsigned char s) { return s != 0; });
    Eigen::MatrixXd mean = anchored[0] == anchored[1] ? Eigen::MatrixXd(0.5 * (out.feet[0].position_m + out.feet[1].position_m))
                                                      : out.feet[anchored[0] ? 0 : 1].position_m;
    mean.col(1).setZero();  // Y up: the feet say where the body goes, not how high the pelvis is
    out.position_m = centred_average(mean, smoothing_window_frames(rate_hz, o));
    return out;
}

}  // namespace s2m::imu
