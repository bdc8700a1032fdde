#pragma once
// BVH motion files as written: any hierarchy, any channel set and order per joint, values in the
// file's own units and degrees. Conversion to metres and rotations lives in io/motion.hpp.
#include <Eigen/Core>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s2m::io {

enum class Channel : std::uint8_t { Xposition, Yposition, Zposition, Xrotation, Yrotation, Zrotation };
const char* channel_name(Channel c);
inline bool is_position(Channel c) { return c <= Channel::Zposition; }
inline int channel_axis(Channel c) { return static_cast<int>(c) % 3; }

struct BvhJoint {
    std::string name;
    int parent = -1;                         // index into Bvh::joints; -1 for the root
    Eigen::Vector3d offset = Eigen::Vector3d::Zero();  // file units
    std::vector<Channel> channels;
    int first_channel = 0;                   // column of the first channel in a frame row
    std::optional<Eigen::Vector3d> end_site; // file units
};

struct Bvh {
    std::vector<BvhJoint> joints;  // hierarchy order: parents before children
    double frame_time_s = 0;
    int num_frames = 0;
    int num_channels = 0;
    std::vector<double> values;    // num_frames x num_channels, row-major, as in the file

    double value(int frame, int column) const {
        return values[static_cast<size_t>(frame) * num_channels + column];
    }
    double& value(int frame, int column) { return values[static_cast<size_t>(frame) * num_channels + column]; }
    int find(std::string_view name) const;  // -1 when absent
    double fps() const { return frame_time_s > 0 ? 1.0 / frame_time_s : 0; }
};

// Throws InputError "<source>:<line>: <what was expected>" on any malformed input.
Bvh parse_bvh(std::string_view text, const std::string& source);
Bvh read_bvh(const std::string& path);

struct BvhWriteOptions {
    // Digits after the decimal point for frame values and offsets; -1 = shortest exact form.
    int decimals = -1;
};
// The root is always written with OFFSET 0 0 0 (its offset moves into its position channels), so
// that Blender, which treats root positions as absolute, and three.js, which adds them to the root
// OFFSET, show the same motion.
std::string format_bvh(const Bvh& bvh, const BvhWriteOptions& options = {});
void write_bvh(const std::string& path, const Bvh& bvh, const BvhWriteOptions& options = {});

// Same motion with a zero root OFFSET: root position channels are absolute and kept; an axis
// without one gets a channel holding the old offset.
Bvh with_zero_root_offset(const Bvh& bvh);

}  // namespace s2m::io
