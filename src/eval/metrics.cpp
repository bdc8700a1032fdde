#include "step2motion/eval/metrics.hpp"

#include "step2motion/io/channels.hpp"

#include <cmath>
#include <stdexcept>

namespace s2m::eval {

namespace {
// Indices into the 21 body joints (canonical index - 1).
constexpr int kLegs[] = {0, 1, 2, 3, 4, 5, 6, 7};
constexpr int kToes[] = {3, 7};
constexpr int kLeftHip = 0, kRightHip = 4;  // LeftUpLeg, RightUpLeg among the 21 body joints
constexpr int kEndEffectors[] = {3, 7, 12, 16, 20};  // toes, head, hands
}  // namespace

const std::vector<std::string> kMetricKeys = {"MPJPE_cm",     "MPJPE_Legs_cm", "MPJVE_Legs_cm_s",    "MRPE_m",
                                              "MPEEPE_cm",    "toe_error_cm",  "jitter_m_s3",        "foot_skating_ratio",
                                              "drift_percent", "heading_error_deg"};

double RunningStat::std() const {
    if (count < 2) return 0;
    const double m = mean();
    return std::sqrt(std::max(0.0, sum_sq / count - m * m));
}

MotionSequence from_pose_frames(const float* x, int frames, double fps) {
    MotionSequence s;
    s.fps = fps;
    s.root_m.resize(static_cast<size_t>(frames));
    s.joints_rel_m.resize(static_cast<size_t>(frames) * kBodyJoints);
    Eigen::Vector3d root = Eigen::Vector3d::Zero();
    for (int f = 0; f < frames; ++f) {
        const float* row = x + static_cast<size_t>(f) * io::kRootAndJointValues;
        root += Eigen::Vector3d(row[0], row[1], row[2]);
        s.root_m[static_cast<size_t>(f)] = root;
        for (int j = 0; j < kBodyJoints; ++j)
            s.joints_rel_m[static_cast<size_t>(f * kBodyJoints + j)] =
                Eigen::Vector3d(row[3 + 3 * j], row[4 + 3 * j], row[5 + 3 * j]);
    }
    return s;
}

namespace {

double jitter(const MotionSequence& s) {
    // Mean norm of the third finite difference of global joint positions x fps^3.
    double sum = 0;
    long n = 0;
    const double fps3 = s.fps * s.fps * s.fps;
    for (int f = 0; f + 3 < s.frames(); ++f)
        for (int j = 0; j < kBodyJoints; ++j) {
            const Eigen::Vector3d d = s.global(f + 3, j) - 3 * s.global(f + 2, j) + 3 * s.global(f + 1, j) - s.global(f, j);
            sum += d.norm() * fps3;
            ++n;
        }
    return n ? sum / n : 0;
}

// Facing about the vertical (Y up) from the hips' left-right axis (left hip minus right hip), radians.
double facing_rad(const MotionSequence& s, int f) {
    const Eigen::Vector3d a = s.joints_rel_m[static_cast<size_t>(f * kBodyJoints + kLeftHip)] -
                              s.joints_rel_m[static_cast<size_t>(f * kBodyJoints + kRightHip)];
    return std::atan2(a.x(), a.z());
}

// Share of contact frames whose smoothed horizontal toe speed exceeds the threshold.
double skating_ratio(const MotionSequence& s, const MetricOptions& o) {
    const int F = s.frames();
    if (F < 2) return 0;
    long contacts = 0, skating = 0;
    for (int toe : kToes) {
        double floor_y = 1e30;
        for (int f = 0; f < F; ++f) floor_y = std::min(floor_y, s.global(f, toe).y());
        std::vector<double> speed(static_cast<size_t>(F - 1));
        for (int f = 0; f + 1 < F; ++f) {
            Eigen::Vector3d d = s.global(f + 1, toe) - s.global(f, toe);
            d.y() = 0;
            speed[static_cast<size_t>(f)] = d.norm() * s.fps;
        }
        for (int f = 0; f + 1 < F; ++f) {
            const bool contact = s.global(f, toe).y() - floor_y < o.contact_height_m &&
                                 s.global(f + 1, toe).y() - floor_y < o.contact_height_m;
            if (!contact) continue;
            double avg = 0;
            int n = 0;
            for (int k = std::max(0, f - 2); k <= std::min(F - 2, f + 2); ++k, ++n) avg += speed[static_cast<size_t>(k)];
            ++contacts;
            if (avg / n > o.skate_speed_m_s) ++skating;
        }
    }
    return contacts ? double(skating) / contacts : 0;
}

}  // namespace

void accumulate_metrics(const MotionSequence& p, const MotionSequence& t, MetricSet& out, const MetricOptions& o) {
    if (p.frames() != t.frames()) throw std::invalid_argument("accumulate_metrics: frame counts differ");
    const int F = p.frames();
    auto& mpjpe = out["MPJPE_cm"];
    auto& legs = out["MPJPE_Legs_cm"];
    auto& vel = out["MPJVE_Legs_cm_s"];
    auto& mrpe = out["MRPE_m"];
    auto& ee = out["MPEEPE_cm"];
    auto& toe = out["toe_error_cm"];
    auto at = [](const MotionSequence& s, int f, int j) -> const Eigen::Vector3d& {
        return s.joints_rel_m[static_cast<size_t>(f * kBodyJoints + j)];
    };
    for (int f = 0; f < F; ++f) {
        for (int j = 0; j < kBodyJoints; ++j) mpjpe.add((at(p, f, j) - at(t, f, j)).norm() * 100);
        for (int j : kLegs) legs.add((at(p, f, j) - at(t, f, j)).norm() * 100);
        for (int j : kEndEffectors) ee.add((at(p, f, j) - at(t, f, j)).norm() * 100);
        for (int j : kToes) toe.add((at(p, f, j) - at(t, f, j)).norm() * 100);
        mrpe.add((p.root_m[static_cast<size_t>(f)] - t.root_m[static_cast<size_t>(f)]).norm());
        if (f + 1 < F)
            for (int j : kLegs) {
                const Eigen::Vector3d vp = (at(p, f + 1, j) - at(p, f, j)) * p.fps;
                const Eigen::Vector3d vt = (at(t, f + 1, j) - at(t, f, j)) * t.fps;
                vel.add((vp - vt).norm() * 100);
            }
    }
    out["jitter_m_s3"].add(jitter(p));
    out["jitter_gt_m_s3"].add(jitter(t));
    out["foot_skating_ratio"].add(skating_ratio(p, o));
    // Mean absolute facing error over the clip's frames, one value per clip.
    if (F > 0) {
        double sum = 0;
        for (int f = 0; f < F; ++f) sum += std::abs(std::remainder(facing_rad(p, f) - facing_rad(t, f), 2 * M_PI));
        out["heading_error_deg"].add(sum / F * 180 / M_PI);
    }
    out["foot_skating_ratio_gt"].add(skating_ratio(t, o));
    double travelled = 0;
    for (int f = 1; f < F; ++f) travelled += (t.root_m[static_cast<size_t>(f)] - t.root_m[static_cast<size_t>(f - 1)]).norm();
    if (F > 0 && travelled > 1e-6)
        out["drift_percent"].add((p.root_m.back() - t.root_m.back()).norm() / travelled * 100);
}

}  // namespace s2m::eval
