#pragma once
// The insoles' IMU frames (reference §2) and world-frame accelerations, both ways:
// (a) with mocap: the insole frame fixed to the foot joint, taken from the rest pose;
// (b) without mocap: an orientation filter on the insole IMU alone.
//
// Device axes, both feet (checked on the real exports: at rest a ≈ (-0.19, +0.05, +0.97) g, and the
// pitch rate has the same sign pattern on both feet, so the two insoles are not mirror images):
// X towards the toes, Z up out of the sole, Y = Z × X (towards the body's left on both feet). In
// Moticon's "Y medial" description this is the left insole with its Y flipped, which is what the
// reference does before rotating.
#include <Eigen/Core>
#include <Eigen/Geometry>

#include <vector>

#include "step2motion/io/dataset.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::imu {

using s2m::Quat;
using s2m::QuatVector;
using s2m::Vec3;

// World up of the toolkit (Y up); the accelerometer reads +1 g along it at rest.
inline Vec3 world_up() { return Vec3::UnitY(); }

// Rotation taking insole (device) coordinates to the foot joint's local coordinates, from the rest
// pose of a canonical skeleton: x = foot -> toe, z = world up made orthogonal to x, y = z × x.
// foot: 0 = left, 1 = right.
Quat insole_frame_in_foot(const io::Skeleton& canonical, int foot);

// Specific force (g, device frame) -> world acceleration (g) with 1 g removed from world up.
inline Vec3 world_acceleration_g(const Vec3& device_acc_g, const Quat& insole_to_world) {
    return insole_to_world * device_acc_g - world_up();
}
// The inverse, for synthesising readings: world acceleration (g, gravity removed) -> device reading.
inline Vec3 device_acceleration_g(const Vec3& world_acc_g, const Quat& insole_to_world) {
    return insole_to_world.conjugate() * (world_acc_g + world_up());
}

// (a) Replaces the acceleration channels (offsets 16..18 and 41..43) of N x 50 insole channels by
// world accelerations, using the feet's world rotations (N each) and the insole frames in the feet.
void accelerations_to_world(Eigen::MatrixXf& channels, const QuatVector& left_foot_world,
                            const QuatVector& right_foot_world, const Quat& left_insole_in_foot,
                            const Quat& right_insole_in_foot);

// (b) Orientation filter: gyro integration, corrected towards gravity (Mahony-style, tilt only) and
// with the gyro bias re-estimated whenever the foot is still: flat on the ground per the pressure
// cells (heel and toe sensors both loaded), turning slowly and reading about 1 g. Starts at the
// first still phase with heading 0 (insole x along world +Z); earlier frames are integrated back
// from there.
struct FilterOptions {
    double rate_hz = 100;
    double tilt_gain = 2.0;             // rad/s of correction per unit gravity-direction error
    double bias_rate = 0.5;             // 1/s: how fast the bias estimate follows still-phase readings (0: no bias estimation)
    double still_gyro_deg_s = 25;       // |ω| below this can be still
    double still_acc_tolerance_g = 0.08;  // | |a| - 1 | below this can be still
    double flat_pressure_n_cm2 = 1.0;   // heel and toe sums both above this = flat on the ground
    int still_min_frames = 5;           // consecutive still frames before a phase counts
};
struct FilterResult {
    QuatVector insole_to_world;           // N
    std::vector<unsigned char> still;     // N
    int start_frame = -1;                 // first frame of the first still phase (-1: none, tilt from frame 0)
    Vec3 gyro_bias_deg_s = Vec3::Zero();  // final estimate
};
// acc_g, gyro_deg_s: N x 3, device frame. pressure: N x 16 (may be empty: still from the IMU alone).
FilterResult track_orientation(const Eigen::MatrixXf& acc_g, const Eigen::MatrixXf& gyro_deg_s,
                               const Eigen::MatrixXf& pressure_n_cm2, const FilterOptions& options);

// (b) applied to N x 50 channels at `rate_hz`: both feet filtered, accelerations replaced by world ones.
// `heading_rad` (optional) receives N x 2 (left, right): each insole's heading_deg in radians, unwrapped.
void accelerations_to_world_filtered(Eigen::MatrixXf& channels, double rate_hz, const FilterOptions& options = {},
                                     Eigen::MatrixXf* heading_rad = nullptr);
// Turns one foot's world accelerations (channels offsets 16..18, + 25 for the right foot) about world
// up by `yaw_rad` (positive turns +Z towards +X, i.e. adds to heading_deg).
void rotate_foot_accelerations_yaw(Eigen::MatrixXf& channels, int foot, double yaw_rad);

// Helpers for tests and diagnostics.
double tilt_error_deg(const Quat& estimate, const Quat& truth);   // angle between the two "up" directions
double heading_deg(const Quat& insole_to_world);                   // yaw of the insole x axis about world up

// A foot bears load (is flat on the ground) when its total force exceeds this: well above an
// unloaded insole's noise, well below a standing foot's share of any adult's weight.
constexpr float kLoadedForceN = 50;

// The heading frame (TrainConfig::representation "heading"): one yaw per window from both insoles'
// headings (N x 2 radians, row-major) and their loads (N x 50 channels, row-major): the direction of
// the sum of both feet's unit heading vectors, a loaded foot (flat, so its heading is well defined)
// counting 4 times a foot in the air.
double window_heading_rad(const float* insoles, const float* heading_rad, int frames);
// Each insole's heading (N x 2, radians, unwrapped) from 66-value poses: the horizontal direction
// from the foot joint to the toe joint. That is the insole's x axis (insole_frame_in_foot) while the
// foot is flat; in swing the foot's roll moves it by a few degrees (a toe joint below the ankle).
Eigen::MatrixXf insole_heading_from_poses(const Eigen::MatrixXf& poses);
// A dataset clip's insole headings (N x 2): stored, or from its poses for files from before they
// were (exact with imu_frame mocap; with filter the mocap stands in for the filter, without its
// heading drift, and a warning says so once).
Eigen::MatrixXf clip_insole_headings(const io::DatasetClip& clip);
// Makes a sequence of angles continuous (no jumps of more than pi between rows), column by column.
void unwrap_angles(Eigen::MatrixXf& angles_rad);

}  // namespace s2m::imu
