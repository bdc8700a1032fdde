#pragma once
// The training/evaluation dataset: clips of 66-value poses and 50 insole channels at one frame rate,
// with their skeletons, provenance and split, plus normalisation statistics of the training split.
// Stored as HDF5 (write_dataset / read_dataset; the HDF5 calls live in src/io/hdf5.cpp only); the
// file layout is documented in src/io/README-dataset.md.
#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

#include "step2motion/io/channels.hpp"

namespace s2m::io {

constexpr int kDatasetFormatVersion = 1;

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct DatasetClip {
    std::string name;                      // unique, e.g. "S1/walking_1"
    std::string subject, activity;
    std::string split = "train";           // train, val or test
    std::string source_insoles, source_sync, source_mocap, joint_map;
    std::string imu_frame = "mocap";       // how accelerations were rotated to world: "mocap" or "filter"
    double rate_hz = 30;
    double source_insole_rate_hz = 0, source_mocap_rate_hz = 0;
    double weight_kg = 0;
    int insole_size = 0;
    RowMatrixXf poses;                     // N x 66, metres
    RowMatrixXf insoles;                   // N x 50, reference §2 layout and units
    Eigen::Matrix<unsigned char, Eigen::Dynamic, 2, Eigen::RowMajor> insole_valid;  // N x 2 (left, right)
    // N x 2 (left, right), radians: each insole's heading (its x axis about world up, 0 = +Z, positive
    // towards +X) in the frame of the stored accelerations. Empty in files written before it existed.
    Eigen::Matrix<float, Eigen::Dynamic, 2, Eigen::RowMajor> insole_heading_rad;
    Eigen::Matrix<double, kDatasetJoints, 3, Eigen::RowMajor> offsets_m = decltype(offsets_m)::Zero();
    Eigen::Vector3d root_start_m = Eigen::Vector3d::Zero();  // root position before the first displacement
    int frames() const { return static_cast<int>(poses.rows()); }
};

struct NormStats {
    Eigen::VectorXf pose_mean, pose_std;      // 66
    Eigen::VectorXf insole_mean, insole_std;  // 50
    long frames = 0;                          // training frames they were computed from
    bool empty() const { return pose_mean.size() == 0; }
};

struct Dataset {
    double rate_hz = 30;
    std::vector<std::string> joint_names;     // 22
    std::vector<int> joint_parents;           // 22
    std::vector<DatasetClip> clips;
    NormStats stats;
    std::map<std::string, std::string> attributes;  // free-form provenance (tool version, options)
};

// Per-channel mean and std over every frame of the clips in `split` (std < 1e-6 -> 1, reference §2).
NormStats compute_norm_stats(const std::vector<DatasetClip>& clips, const std::string& split = "train");

// Atomic: written to a temporary beside `path` and renamed when complete.
void write_dataset(const std::string& path, const Dataset& dataset);
// Throws InputError naming the file when it is not a step2motion dataset or is inconsistent.
Dataset read_dataset(const std::string& path);
// The same from a file image in memory (`source` names it in messages).
Dataset read_dataset_image(const void* data, size_t size, const std::string& source);

// What `s2m info` shows, without reading the arrays.
struct DatasetSummary {
    int format_version = 0;
    double rate_hz = 0;
    long clips = 0, frames = 0;
    std::map<std::string, long> clips_per_split, frames_per_split;
    std::vector<std::string> subjects, activities;
    bool has_stats = false;
    std::map<std::string, std::string> attributes;
};
DatasetSummary read_dataset_summary(const std::string& path);
DatasetSummary read_dataset_summary_image(const void* data, size_t size, const std::string& source);

}  // namespace s2m::io
