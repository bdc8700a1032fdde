#pragma once
// Rotations in double precision: Euler angles in any axis order (as BVH lists them), quaternions,
// shortest-arc and swing rotations, slerp. Below io, whose BVH conversion needs the Euler angles.
#include <Eigen/Core>
#include <Eigen/Geometry>

#include <array>
#include <string>
#include <vector>

namespace s2m {

using Vec3 = Eigen::Vector3d;
using Quat = Eigen::Quaterniond;
// std::vector of fixed-size Eigen types needs the aligned allocator only for 16-byte types.
using QuatVector = std::vector<Quat, Eigen::aligned_allocator<Quat>>;

// Axis order of a rotation sequence, e.g. {2,0,1} for "ZXY": R = Rz(a0) * Rx(a1) * Ry(a2)
// (intrinsic, in the order listed, as BVH CHANNELS compose).
using AxisOrder = std::array<int, 3>;
AxisOrder axis_order(const std::string& letters);  // "ZXY" -> {2,0,1}; throws on anything else
std::string axis_order_name(const AxisOrder& order);

Eigen::Quaterniond axis_angle_deg(int axis, double degrees);
Eigen::Quaterniond euler_to_quat_deg(const Eigen::Vector3d& angles_deg, const AxisOrder& order);
// Angles (degrees, each in [-180, 180], the middle one in [-90, 90] for Tait-Bryan orders) with
// euler_to_quat_deg(result, order) == q. Repeated-axis orders are not supported here.
Eigen::Vector3d quat_to_euler_deg(const Eigen::Quaterniond& q, const AxisOrder& order);
// The same, choosing among equivalent solutions the one closest to `previous` (for smooth curves).
Eigen::Vector3d quat_to_euler_deg_near(const Eigen::Quaterniond& q, const AxisOrder& order,
                                       const Eigen::Vector3d& previous);

// The smallest rotation taking direction `from` to direction `to` (any lengths).
Eigen::Quaterniond shortest_arc(const Eigen::Vector3d& from, const Eigen::Vector3d& to);

Eigen::Quaterniond slerp(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b, double t);

}  // namespace s2m
