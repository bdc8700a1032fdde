#pragma once
// Forward and inverse kinematics and resampling of motions (io/motion.hpp).
#include <string>
#include <vector>

#include "step2motion/core/rotation.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::kin {

// World positions (frames x joints) and optionally world rotations.
std::vector<Vec3> forward_kinematics(const io::Motion& m, QuatVector* world_rotations = nullptr);

struct IkOptions {
    // Optional world rotations (frames x joints) for joints without children, which positions
    // alone leave undetermined (identity local rotation otherwise).
    const QuatVector* leaf_world_rotations = nullptr;
};
// Rotations that put every joint of `skeleton` at `world_positions` (frames x joints): each joint is
// turned from its rest bone direction to the target direction of its first child, the roll taken
// from a second child where there is one. Exact (FK(IK(p)) == p) whenever p is consistent with the
// skeleton's bone lengths and rigid child arrangements.
io::Motion inverse_kinematics(const io::Skeleton& skeleton, const std::vector<Vec3>& world_positions, int frames,
                          double fps, const IkOptions& options = {});

// Resampling: linear for translations, slerp for rotations, over [0, duration].
io::Motion resample(const io::Motion& m, double fps);

// How far apart two motions of the same skeleton put the same joint in the same frame (world
// positions): e.g. one recording reconstructed on the GPU and on the CPU. InputError naming
// `what` when the joint names or frame counts differ.
struct JointDistance {
    double max_m = 0, mean_m = 0;
    int frame = -1, joint = -1;  // where the largest distance is
};
JointDistance joint_distance(const io::Motion& a, const io::Motion& b, const std::string& what);

}  // namespace s2m::kin
