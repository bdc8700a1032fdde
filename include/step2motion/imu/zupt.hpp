#pragma once
// Root from the feet: each insole is a foot-mounted IMU and its pressure says when the foot is on the
// ground. Per foot, strapdown integration of the world-frame acceleration between stances, velocity
// reset to zero in every stance (zero-velocity update), and the residual velocity at the end of each
// swing removed as a linear ramp over that swing (de-drifting). The orientation is whatever turned the
// accelerations to world: the insole filter (`--imu-frame filter`, raw Moticon input) or the mocap.
// The root's horizontal path is the mean of the two feet's paths, smoothed over about one step.
#include <Eigen/Core>

#include <vector>

namespace s2m::imu {

struct ZuptOptions {
    // Stance: total force above max(stance_force_min_n, stance_force_fraction x the foot's 95th
    // percentile force), so that the threshold follows body mass and insole calibration.
    double stance_force_fraction = 0.08;
    double stance_force_min_n = 30;
    double still_gyro_deg_s = 60;  // stance also needs the foot turning slower than this
    double merge_gap_s = 0.06;     // force flickers at stance edges: shorter gaps are merged
    double min_stance_s = 0.05;    // shorter stances are dropped
    double max_swing_s = 1.5;      // a longer unloaded phase (sitting, foot held up) is not a swing: no travel
    double smooth_s = 0.5;         // centred moving average of the feet's mean path (about one step)
};

// Per frame, 1 where the foot is in stance: loaded and, when angular rates are given (N x 3, deg/s;
// may be empty), turning slower than still_gyro_deg_s (a loaded foot rolling over heel or toes moves).
std::vector<unsigned char> stance_from_force(const Eigen::VectorXf& total_force_n, const Eigen::MatrixXf& gyro_deg_s,
                                             double rate_hz, const ZuptOptions& options = {});

struct FootPath {
    Eigen::MatrixXd position_m;         // N x 3, world (Y up), 0 at frame 0
    std::vector<unsigned char> stance;  // N
    int strides = 0;                    // swings that ended in a stance (steps of this foot)
};
// world_acc_g: N x 3 world-frame acceleration with gravity removed (g), as in the insole channels;
// gyro_deg_s: N x 3 angular rate (deg/s) or empty.
FootPath foot_path(const Eigen::MatrixXf& world_acc_g, const Eigen::VectorXf& total_force_n, const Eigen::MatrixXf& gyro_deg_s,
                   double rate_hz, const ZuptOptions& options = {});

struct FeetRoot {
    FootPath feet[2];              // left, right
    Eigen::MatrixXd position_m;    // N x 3: horizontal = smoothed mean of the feet, vertical 0
};
// From N x 50 insole channels with world-frame accelerations (reference §2 layout).
FeetRoot feet_root(const Eigen::MatrixXf& channels, double rate_hz, const ZuptOptions& options = {});

// The centred average's window for `smooth_s` at `rate_hz` (odd, at least 1 frame).
int smoothing_window_frames(double rate_hz, const ZuptOptions& options = {});

// Centred moving average of `window_frames` (shrunk symmetrically at the ends, so both end points stay).
Eigen::MatrixXd centred_average(const Eigen::MatrixXd& x, int window_frames);

}  // namespace s2m::imu
