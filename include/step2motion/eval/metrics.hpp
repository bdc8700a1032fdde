#pragma once
// The paper's metrics (reference §9) and the wider literature's, on canonical motion: root trajectory
// plus the 21 non-root joints relative to the root (world-oriented), in metres.
#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

namespace s2m::eval {

constexpr int kBodyJoints = 21;  // canonical joints 1..21

struct MotionSequence {
    double fps = 30;
    std::vector<Eigen::Vector3d> root_m;         // frames
    std::vector<Eigen::Vector3d> joints_rel_m;   // frames x 21, relative to the root
    int frames() const { return static_cast<int>(root_m.size()); }
    Eigen::Vector3d global(int f, int j) const { return root_m[static_cast<size_t>(f)] + joints_rel_m[static_cast<size_t>(f * kBodyJoints + j)]; }
};

// From 66-value frames (root displacement, then 21 root-relative joints): the root trajectory is
// the cumulative sum of displacements from the clip start, at the origin.
MotionSequence from_pose_frames(const float* frames66, int frames, double fps);

// Mean and standard deviation over samples, mergeable.
struct RunningStat {
    double sum = 0, sum_sq = 0;
    long count = 0;
    void add(double v) {
        sum += v;
        sum_sq += v * v;
        ++count;
    }
    void merge(const RunningStat& o) {
        sum += o.sum;
        sum_sq += o.sum_sq;
        count += o.count;
    }
    double mean() const { return count ? sum / count : 0; }
    double std() const;
};

// Keys written to metrics.json, in table order.
extern const std::vector<std::string> kMetricKeys;
using MetricSet = std::map<std::string, RunningStat>;

struct MetricOptions {
    double contact_height_m = 0.05;     // toe height above the clip's floor for a contact
    double skate_speed_m_s = 0.5;       // 5-frame averaged horizontal toe speed that counts as skating
};

// Adds one predicted clip's errors against the truth. Per-sample metrics (joint errors, velocity
// errors, root errors) add every frame-joint sample; clip-level ones (skating ratio, drift, heading
// error: the mean absolute difference of the facing direction about the vertical, taken from the
// hips' left-right axis) add one.
// Also adds "jitter_gt_m_s3" and "foot_skating_ratio_gt" (the truth's, for side-by-side reporting).
void accumulate_metrics(const MotionSequence& predicted, const MotionSequence& truth, MetricSet& out,
                        const MetricOptions& options = {});

}  // namespace s2m::eval
