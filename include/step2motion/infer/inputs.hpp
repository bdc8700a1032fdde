#pragma once
// What `s2m reconstruct` and `s2m evaluate` read: insole sequences at the model rate, from a raw
// Moticon export (orientation from the insole IMU alone), a sequence of an UnderPressure-layout folder,
// or the clips of a dataset file (with their ground truth).
#include <Eigen/Core>

#include <string>
#include <vector>

#include "step2motion/io/dataset.hpp"

namespace s2m::infer {

struct InsoleSequence {
    std::string name;              // output file stem
    std::string source;            // file it came from
    double rate_hz = 30;
    Eigen::MatrixXf insoles;       // F x 50 (reference §2; world-frame accelerations)
    // F x 2 (left, right): each insole's heading in the accelerations' frame, radians (from the
    // orientation filter, or a dataset's io::DatasetClip::insole_heading_rad). Heading-frame models
    // need it; empty otherwise allowed.
    Eigen::MatrixXf insole_heading_rad;
    // Ground truth when known (dataset clips): F x 66 poses, skeleton offsets, root start.
    Eigen::MatrixXf poses;
    std::vector<Eigen::Vector3d> offsets_m;  // 22 or empty
    Eigen::Vector3d root_start_m = Eigen::Vector3d::Zero();
    // The thigh + shin to draw the body at (infer/wearer.hpp), 0 if unknown: a dataset clip's skeleton,
    // or the output skeleton of reconstruct (--skeleton, --height-m, else the model's).
    double wearer_leg_length_m = 0;
    bool has_root_start = false;
    // Steps per foot from the recording's step events (Moticon "left steps"/"right steps"), -1 if absent.
    int left_steps = -1, right_steps = -1;
    std::string tag;               // Moticon "Tag" header (e.g. slow, normal, fast)
    // Root path from the feet (imu::feet_root, F x 3 from 0) when it was computed at the recording's
    // own rate (raw Moticon input); empty: computed from `insoles` at rate_hz when needed.
    Eigen::MatrixXd feet_root_m;
    int frames() const { return static_cast<int>(insoles.rows()); }
};

// A raw Moticon export → 50 channels at `rate_hz` (orientation filter on the insole IMU).
InsoleSequence sequence_from_moticon(const std::string& path, double rate_hz);
InsoleSequence sequence_from_dataset_clip(const io::DatasetClip& clip);

// Each input is a Moticon .txt, a dataset .h5 (its clips of `split`; "all" for every clip), an
// UnderPressure-layout folder or manifest (every sequence in it, built like preprocess with the
// insole-IMU filter), or "FOLDER:SEQ" for one sequence of such a folder.
std::vector<InsoleSequence> load_inputs(const std::vector<std::string>& inputs, const std::string& split, double rate_hz);

}  // namespace s2m::infer
