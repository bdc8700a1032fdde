#pragma once
// From a recording (insoles + sync + mocap) to a dataset clip: synchronisation, resampling of every
// stream onto the target rate over the synchronised span, retargeting onto the canonical skeleton,
// 66-value poses, 50 insole channels with world-frame accelerations; the first frame dropped.
#include <functional>
#include <string>
#include <vector>

#include "step2motion/imu/frames.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/mvnx.hpp"
#include "step2motion/io/recordings.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::imu {

enum class ImuFrameMode { Mocap, Filter };

struct ClipOptions {
    double target_hz = 30;
    ImuFrameMode imu_frame = ImuFrameMode::Mocap;
    std::string bvh_scale = "auto";  // metres per unit, or auto (the map's scale, else from the height)
    FilterOptions filter;            // for ImuFrameMode::Filter (rate set from the insole file)
};

// MVNX segments -> a Motion on the 23-segment MVN tree: offsets from the reference (identity) pose,
// rotations relative to it, root = Pelvis position.
io::Motion motion_from_mvnx(const io::Mvnx& mvnx);

// A BVH or MVNX file as a Motion in metres; `map` "auto" picks xsens for MVNX and the first built-in
// preset that fits a BVH skeleton. Returns the map actually used in `map_used`.
io::Motion load_mocap(const std::string& path, const std::string& map, const std::string& bvh_scale,
                       std::string* map_used);

// Samples a motion at fractional frame indices (slerp for rotations, linear for translations).
io::Motion sample_motion(const io::Motion& m, const std::vector<double>& frame_index, double fps);

// 66-value poses (frames 1..n-1 of the canonical motion; reference §3) and the root position at frame 0.
io::RowMatrixXf poses_from_motion(const io::Motion& canonical, Eigen::Vector3d* root_start_m = nullptr);

io::DatasetClip build_clip(const io::RecordingSource& source, const ClipOptions& options);

// All clips, in order, on `threads` worker threads (clips are independent). `on_done(source)` is
// called (serialised) after each clip; the first error in source order is rethrown.
std::vector<io::DatasetClip> build_clips(const std::vector<io::RecordingSource>& sources, const ClipOptions& options,
                                         int threads, const std::function<void(const io::RecordingSource&)>& on_done = {});

}  // namespace s2m::imu
