#pragma once
// Xsens MVN MVNX (XML) motion: per frame the segments' orientations and positions, converted from
// Xsens' Z-up world to the toolkit's Y-up world. Calibration frames (identity, tpose, tpose-isb)
// are kept apart from the motion frames.
#include <Eigen/Core>
#include <Eigen/Geometry>

#include <string>
#include <string_view>
#include <vector>

namespace s2m::io {

struct Mvnx {
    using QuatVector = std::vector<Eigen::Quaterniond, Eigen::aligned_allocator<Eigen::Quaterniond>>;
    std::string source, subject;
    double frame_rate_hz = 0;
    std::vector<std::string> segments;
    std::vector<int> parents;          // the MVN body tree, -1 for Pelvis
    int frames = 0;                    // motion ("normal") frames
    std::vector<double> time_ms;       // per motion frame
    QuatVector orientations;           // frames x segments: segment -> world, Y up
    std::vector<Eigen::Vector3d> positions_m;  // frames x segments, Y up
    // The pose in which every segment is taken to have zero rotation: the "identity" calibration
    // frame when present, else the first motion frame.
    QuatVector reference_orientations;
    std::vector<Eigen::Vector3d> reference_positions_m;
    std::string reference_type;

    int segment_count() const { return static_cast<int>(segments.size()); }
    int find(std::string_view name) const;
};

// Z up (Xsens: x forward, y left, z up) -> Y up: (x, y, z) -> (y, z, x), a proper rotation.
Eigen::Vector3d mvnx_to_y_up(const Eigen::Vector3d& v);
Eigen::Quaterniond mvnx_to_y_up(const Eigen::Quaterniond& q);
Eigen::Vector3d y_up_to_mvnx(const Eigen::Vector3d& v);
Eigen::Quaterniond y_up_to_mvnx(const Eigen::Quaterniond& q);

// Throws InputError "<source>:<line>: <what>" on malformed XML or content.
Mvnx parse_mvnx(std::string_view text, const std::string& source);
Mvnx read_mvnx(const std::string& path);
// A minimal MVNX (identity calibration frame + motion frames) for tests and fixtures.
std::string format_mvnx(const Mvnx& m);

// Parent of each of the 23 MVN segments by label; -2 when the label is not an MVN segment.
int mvn_parent_index(const std::vector<std::string>& segments, int segment);

}  // namespace s2m::io
