#pragma once
// Insole synthesis from motion capture: a pair of Moticon-like insole recordings (16 pressure cells,
// accelerometer, gyroscope, total force, centre of pressure per foot) computed from the kinematics
// of a canonical 22-joint motion with a whole-body force model.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "step2motion/io/moticon.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::synth {

enum class NoiseModel { None, Realistic };
NoiseModel parse_noise_model(const std::string& name);  // "none" | "realistic"; InputError otherwise

struct SynthOptions {
    double weight_kg = 70;
    int insole_size = 6;
    double rate_hz = 100;
    NoiseModel noise = NoiseModel::None;
    std::uint64_t seed = 1;
    // Low-pass of mocap positions before differentiation (Gaussian sigma): mocap marker noise
    // grows with the square of the rate when differentiated twice.
    double imu_smoothing_s = 0.012;
    double com_smoothing_s = 0.04;
    // A sole point is fully in contact up to contact_height_m above the clip's ground and not at all
    // beyond contact_height_m + contact_band_m; likewise for its speed (slipping points carry nothing).
    double contact_height_m = 0.015, contact_band_m = 0.02;
    double contact_speed_m_s = 0.5, contact_speed_band_m_s = 0.9;
    // How each insole's IMU sits in it (left, right): turned about the sole's normal (yaw, positive
    // towards the body's left) and about its lateral axis (pitch, positive toes down), degrees.
    std::array<double, 2> imu_mount_yaw_deg{0, 0}, imu_mount_pitch_deg{0, 0};
    // Metadata written into the header.
    std::string name, notes;
};

// Training-data augmentation: a virtual person who performs a clip with other insoles. Drawn from
// (seed, name, variant): `s2m synth --variants N` draws N people per subject, each performing every
// clip (noise seeded per clip), so that a variant does not depend on what else is synthesised.
struct Variant {
    double height_m = 0;      // standing height the motion is scaled to, 1.50-1.95 m
    double weight_kg = 0;     // body mass from a BMI of 19-30 at that height
    int insole_size = 0;      // the size that fits the scaled foot, give or take one
    std::uint64_t noise_seed = 0;
    std::array<double, 2> imu_mount_yaw_deg{0, 0}, imu_mount_pitch_deg{0, 0};  // ±5 deg each
};
Variant draw_variant(std::uint64_t seed, const std::string& name, int variant);
// The motion of a person `factor` times as tall: every offset, end site and root position scaled.
void scale_motion(io::Motion& canonical, double factor);
// The skeleton alone: every offset and end site scaled.
void scale_skeleton(io::Skeleton& skeleton, double factor);
// The Moticon insole size for a foot of this length: two EU shoe sizes (13.3 mm) per size, size 4
// (EU 38/39) for a 0.243 m foot; 1-12.
int insole_size_for_foot(double foot_length_m);

// Where the insole sits on one foot (in the foot joint's local frame, metres) - for inspection/tests.
struct FootGeometry {
    double length_m = 0, width_m = 0;
    s2m::Vec3 x_axis, y_axis, z_axis;  // insole axes in the foot joint's frame (y medial, as the pressure layout; the IMU reads y to the body's left on both feet)
    std::vector<s2m::Vec3> sensor_local;  // 16, each in its segment's frame (foot or toe)
    std::vector<bool> on_toe;             // sensor rides on the toe segment
};

struct SynthDiagnostics {
    double ground_height_m = 0;   // the ground plane's height at the world origin
    double ground_slope = 0;      // its gradient (rise per metre)
    s2m::Vec3 up = s2m::Vec3::UnitY();
    FootGeometry feet[2];
    std::vector<double> time_s;              // output rate
    std::vector<double> body_force_n;        // m (g + a_com), before sharing (output rate)
    std::vector<double> contact[2];          // largest contact weight of any cell of the foot, 0..1
    std::vector<double> sole_height_m[2];    // lowest cell of the foot above the ground
    std::vector<s2m::Vec3> com_m;            // centre of mass at the output rate
};

// Segment-mass model (de Leva 1996 fractions) on the canonical joints: the centre of mass per frame.
std::vector<s2m::Vec3> centre_of_mass(const io::Skeleton& canonical, const std::vector<s2m::Vec3>& world_positions,
                                      int frames);

// Standing height from the leg's bone lengths (hip joint ≈ 0.53 and ankle ≈ 0.04 of stature), robust
// to rest poses with spread legs and to spine maps that merge joints.
double standing_height_m(const io::Skeleton& canonical);

// Many BVH conversions (CMU's among them) start with a frame of the rest pose; differentiated, it
// becomes a huge spike. Drops leading frames that jump far more than the motion that follows.
// Returns the number of frames dropped.
int drop_leading_rest_frames(io::Motion& canonical);

// `motion` must be on the canonical skeleton (kin::is_canonical). The recording has
// round(frames * rate_hz / fps) samples covering the motion's frames [0, frames).
io::MoticonRecording synthesize_insoles(const io::Motion& motion, const SynthOptions& options,
                                        const io::SensorLayout& layout, SynthDiagnostics* diagnostics = nullptr);

}  // namespace s2m::synth
