#pragma once
// Skeletons and motions in metres with quaternion rotations, and their conversion from and to BVH
// (file units and Euler angles). Kinematics on them lives in kinematics/motion.hpp.
#include <Eigen/Core>
#include <Eigen/Geometry>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "step2motion/core/rotation.hpp"
#include "step2motion/io/bvh.hpp"

namespace s2m::io {

struct Skeleton {
    std::vector<std::string> names;
    std::vector<int> parents;            // parents[j] < j; -1 for the root (joint 0)
    std::vector<Vec3> offsets_m;         // rest-pose offset from the parent, parent's frame
    std::vector<std::optional<Vec3>> end_sites_m;

    int size() const { return static_cast<int>(names.size()); }
    int find(std::string_view name) const;  // -1 when absent
    std::vector<std::vector<int>> children() const;
    // World positions in the rest pose (all rotations identity, root at the origin).
    std::vector<Vec3> rest_positions() const;
    // Standing height: vertical extent of joints and end sites in the rest pose.
    double rest_height_m() const;
};

struct Motion {
    Skeleton skeleton;
    double fps = 30;
    int frames = 0;
    QuatVector rotations;             // frames x joints, local
    std::vector<Vec3> translations;   // frames x joints, local (root: world position; others: offset)

    const Quat& rotation(int f, int j) const { return rotations[static_cast<size_t>(f * skeleton.size() + j)]; }
    Quat& rotation(int f, int j) { return rotations[static_cast<size_t>(f * skeleton.size() + j)]; }
    const Vec3& translation(int f, int j) const { return translations[static_cast<size_t>(f * skeleton.size() + j)]; }
    Vec3& translation(int f, int j) { return translations[static_cast<size_t>(f * skeleton.size() + j)]; }
    double duration_s() const { return frames > 0 ? (frames - 1) / fps : 0; }
    // Allocates rotations = identity and translations = rest offsets.
    void resize(int num_frames);
};

// Metres per file unit guessed from the rest-pose height: metres, centimetres, millimetres, inches
// or CMU's 0.056444 m units, whichever gives the most plausible human height.
double detect_bvh_scale(const Bvh& bvh);
Skeleton skeleton_from_bvh(const Bvh& bvh, double scale_m_per_unit);
Motion motion_from_bvh(const Bvh& bvh, double scale_m_per_unit);

struct BvhExportOptions {
    std::string rotation_order = "ZXY";
    bool positions_on_all_joints = false;  // otherwise only the root has position channels
};
Bvh bvh_from_motion(const Motion& m, const BvhExportOptions& options = {});

}  // namespace s2m::io
