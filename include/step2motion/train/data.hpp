#pragma once
// Training data in memory: clips of raw (not normalised) 66-value poses and 50 insole channels at
// the model rate, split into train / validation, with the training split's statistics.
#include <Eigen/Core>

#include <string>
#include <vector>

#include "step2motion/io/dataset.hpp"
#include "step2motion/model/normalization.hpp"

namespace s2m::train {

struct Clip {
    std::string name, subject, activity;
    int frames = 0;
    std::vector<float> poses;    // frames x 66: root displacement (m), 21 root-relative joints (m)
    std::vector<float> insoles;  // frames x 50 (reference §2 layout, world-frame accelerations)
    // frames x 2 (left, right): each insole's heading in the accelerations' frame, radians
    // (io::DatasetClip::insole_heading_rad). Empty: taken from the poses where needed.
    std::vector<float> heading_rad;
};

// The clip's insole headings (frames x 2): stored, or from its poses (imu::insole_heading_from_poses).
std::vector<float> insole_headings(const Clip& clip);

// Per-channel mean and std over every frame of `clips` (std < 1e-6 -> 1, reference §2).
model::Normalization compute_normalization(const std::vector<Clip>& clips);

// The statistics of the same data under a uniformly random rotation about world Y (the training
// augmentation): horizontal (x, z) components of displacements, joints and world accelerations get
// mean 0 and the common std sqrt((E[x²] + E[z²]) / 2). Without this, a dataset whose clips mostly
// head one way normalises rotated batches far outside the unit range.
model::Normalization yaw_symmetric(const model::Normalization& n);

struct TrainingSet {
    std::vector<Clip> train, val;
    model::Normalization stats;  // of the training split
    double rate_hz = 30;
    // Mean rest offsets (metres, 22 x 3, canonical joints) of the training clips' skeletons.
    std::vector<Eigen::Vector3d> mean_offsets_m;
};

Clip clip_from_dataset(const io::DatasetClip& clip);
// The dataset's train and val clips (test clips stay out), with its statistics (recomputed when the
// file has none).
TrainingSet training_set_from_dataset(const io::Dataset& dataset);

// (clip, first frame) of every window of `length` frames at `stride` that fits inside one clip.
struct WindowRef {
    int clip = 0, start = 0;
};
std::vector<WindowRef> plan_windows(const std::vector<Clip>& clips, int length, int stride);

}  // namespace s2m::train
