#include "step2motion/imu/frames.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <mutex>

#include "step2motion/core/error.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"

namespace s2m::imu {

namespace {
constexpr double kDeg = M_PI / 180.0;

Quat from_axes(const Vec3& x, const Vec3& y, const Vec3& z) {
    Eigen::Matrix3d r;
    r.col(0) = x;
    r.col(1) = y;
    r.col(2) = z;
    return Quat(r).normalized();
}

// Rotation with insole z along the measured up direction (device frame) and heading 0.
Quat orientation_from_gravity(const Vec3& acc_device) {
    const Vec3 up_dev = acc_device.normalized();
    // World up expressed in the device frame is up_dev; build R (device -> world) with R up_dev = Y
    // and the device x axis projected onto world +Z.
    Vec3 x_dev = Vec3::UnitX() - up_dev * up_dev.x();
    if (x_dev.norm() < 1e-6) x_dev = Vec3::UnitY() - up_dev * up_dev.y();
    x_dev.normalize();
    const Vec3 third = up_dev.cross(x_dev);  // device-frame direction that maps to world X (= Y × Z)
    // Rows of R are the device-frame images of the world axes: X, Y, Z.
    Eigen::Matrix3d r;
    r.row(0) = third.transpose();
    r.row(1) = up_dev.transpose();
    r.row(2) = x_dev.transpose();
    return Quat(r).normalized();
}

Quat exp_rotation(const Vec3& omega_rad_s, double dt) {
    const double angle = omega_rad_s.norm() * dt;
    if (angle < 1e-12) return Quat::Identity();
    return Quat(Eigen::AngleAxisd(angle, omega_rad_s.normalized()));
}

}  // namespace

Quat insole_frame_in_foot(const io::Skeleton& s, int foot) {
    const int toe_j = foot == 0 ? kin::LeftToeBase : kin::RightToeBase;
    if (!kin::is_canonical(s)) fail_input("insole_frame_in_foot: expected the canonical 22-joint skeleton");
    // Rest pose: all rotations identity, so the foot's local axes are the world axes.
    Vec3 x = s.offsets_m[static_cast<size_t>(toe_j)];
    x.y() = 0;  // the sole lies flat in the rest pose even when the toe joint sits lower than the ankle
    if (x.norm() < 1e-6) x = Vec3::UnitZ();
    x.normalize();
    Vec3 z = world_up() - x * x.dot(world_up());
    z.normalize();
    const Vec3 y = z.cross(x);
    return from_axes(x, y, z);
}

void accelerations_to_world(Eigen::MatrixXf& ch, const QuatVector& left, const QuatVector& right, const Quat& left_in_foot,
                            const Quat& right_in_foot) {
    const long n = ch.rows();
    if (ch.cols() != io::kInsoleChannels || static_cast<long>(left.size()) != n || static_cast<long>(right.size()) != n)
        fail_input("accelerations_to_world: channel and rotation counts differ");
    for (int foot = 0; foot < 2; ++foot) {
        const QuatVector& rot = foot == 0 ? left : right;
        const Quat& in_foot = foot == 0 ? left_in_foot : right_in_foot;
        const int c = foot * io::kFootChannels + io::kAccOffset;
        for (long i = 0; i < n; ++i) {
            const Vec3 a(ch(i, c), ch(i, c + 1), ch(i, c + 2));
            const Vec3 w = world_acceleration_g(a, rot[static_cast<size_t>(i)] * in_foot);
            for (int k = 0; k < 3; ++k) ch(i, c + k) = static_cast<float>(w[k]);
        }
    }
}

FilterResult track_orientation(const Eigen::MatrixXf& acc, const Eigen::MatrixXf& gyro, const Eigen::MatrixXf& pressure,
                               const FilterOptions& o) {
    const long n = acc.rows();
    if (gyro.rows() != n || acc.cols() != 3 || gyro.cols() != 3 || (pressure.size() && pressure.rows() != n))
        fail_input("track_orientation: acceleration, angular rate and pressure need the same frames");
    if (!(o.rate_hz > 0)) fail_input("track_orientation: rate must be positive");
    FilterResult r;
    r.insole_to_world.assign(static_cast<size_t>(n), Quat::Identity());
    r.still.assign(static_cast<size_t>(n), 0);
    if (n == 0) return r;
    const double dt = 1.0 / o.rate_hz;

    // Still frames: slow rotation, about 1 g, and (with pressure) flat on the ground.
    std::vector<unsigned char> candidate(static_cast<size_t>(n), 0);
    for (long i = 0; i < n; ++i) {
        const double w = gyro.row(i).cast<double>().norm();
        const double a = acc.row(i).cast<double>().norm();
        bool ok = w < o.still_gyro_deg_s && std::abs(a - 1.0) < o.still_acc_tolerance_g;
        if (ok && pressure.size()) {
            const double heel = pressure.row(i).head(8).sum(), toes = pressure.row(i).tail(8).sum();
            ok = heel > o.flat_pressure_n_cm2 && toes > o.flat_pressure_n_cm2;
        }
        candidate[static_cast<size_t>(i)] = ok;
    }
    // Only runs of at least still_min_frames count.
    for (long i = 0; i < n;) {
        if (!candidate[static_cast<size_t>(i)]) {
            ++i;
            continue;
        }
        long j = i;
        while (j < n && candidate[static_cast<size_t>(j)]) ++j;
        if (j - i >= o.still_min_frames)
            for (long k = i; k < j; ++k) r.still[static_cast<size_t>(k)] = 1;
        i = j;
    }
    long start = 0;
    while (start < n && !r.still[static_cast<size_t>(start)]) ++start;
    if (start == n) start = 0;
    else r.start_frame = static_cast<int>(start);

    // Initial state: tilt from the mean acceleration and bias from the mean rate of the first still run.
    Vec3 mean_acc = Vec3::Zero(), bias = Vec3::Zero();
    long count = 0;
    for (long k = start; k < n && (r.start_frame < 0 ? k < start + 1 : r.still[static_cast<size_t>(k)] != 0); ++k) {
        mean_acc += acc.row(k).cast<double>().transpose();
        if (r.start_frame >= 0 && o.bias_rate > 0) bias += gyro.row(k).cast<double>().transpose();
        ++count;
    }
    mean_acc /= static_cast<double>(count);
    bias /= static_cast<double>(count);
    const Vec3 initial_bias = bias;
    Quat q = orientation_from_gravity(mean_acc);
    r.insole_to_world[static_cast<size_t>(start)] = q;

    // Forward from the start.
    for (long i = start + 1; i < n; ++i) {
        const Vec3 g = gyro.row(i).cast<double>().transpose();
        Vec3 omega = (g - bias) * kDeg;
        if (r.still[static_cast<size_t>(i)]) {
            const Vec3 a = acc.row(i).cast<double>().transpose().normalized();
            const Vec3 up_est = q.conjugate() * world_up();   // where the filter thinks up is, device frame
            omega += o.tilt_gain * a.cross(up_est);             // rotate the estimate towards the measurement
            bias += (g - bias) * std::min(1.0, o.bias_rate * dt);
        }
        q = (q * exp_rotation(omega, dt)).normalized();
        r.insole_to_world[static_cast<size_t>(i)] = q;
    }
    // Backwards to frame 0 with the initial bias (no gravity reference before the first still phase).
    Quat qb = r.insole_to_world[static_cast<size_t>(start)];
    for (long i = start; i > 0; --i) {
        const Vec3 omega = (gyro.row(i).cast<double>().transpose() - initial_bias) * kDeg;
        qb = (qb * exp_rotation(omega, dt).conjugate()).normalized();
        r.insole_to_world[static_cast<size_t>(i - 1)] = qb;
    }
    r.gyro_bias_deg_s = bias;
    return r;
}

void accelerations_to_world_filtered(Eigen::MatrixXf& ch, double rate_hz, const FilterOptions& options, Eigen::MatrixXf* heading_rad) {
    if (ch.cols() != io::kInsoleChannels) fail_input("accelerations_to_world_filtered: expected 50 channels");
    FilterOptions o = options;
    o.rate_hz = rate_hz;
    if (heading_rad) heading_rad->resize(ch.rows(), 2);
    for (int foot = 0; foot < 2; ++foot) {
        const int b = foot * io::kFootChannels;
        const Eigen::MatrixXf acc = ch.middleCols(b + io::kAccOffset, 3);
        const Eigen::MatrixXf gyro = ch.middleCols(b + io::kGyroOffset, 3);
        const Eigen::MatrixXf pressure = ch.middleCols(b, io::kPressureCells);
        const FilterResult fr = track_orientation(acc, gyro, pressure, o);
        for (long i = 0; i < ch.rows(); ++i) {
            const Vec3 w = world_acceleration_g(acc.row(i).cast<double>().transpose(), fr.insole_to_world[static_cast<size_t>(i)]);
            for (int k = 0; k < 3; ++k) ch(i, b + io::kAccOffset + k) = static_cast<float>(w[k]);
            if (heading_rad) (*heading_rad)(i, foot) = static_cast<float>(heading_deg(fr.insole_to_world[static_cast<size_t>(i)]) * kDeg);
        }
    }
    if (heading_rad) unwrap_angles(*heading_rad);
}

void rotate_foot_accelerations_yaw(Eigen::MatrixXf& ch, int foot, double yaw_rad) {
    const int x = foot * io::kFootChannels + io::kAccOffset, z = x + 2;
    const float c = static_cast<float>(std::cos(yaw_rad)), s = static_cast<float>(std::sin(yaw_rad));
    for (long i = 0; i < ch.rows(); ++i) {
        const float ax = ch(i, x), az = ch(i, z);
        ch(i, x) = c * ax + s * az;
        ch(i, z) = -s * ax + c * az;
    }
}

double tilt_error_deg(const Quat& estimate, const Quat& truth) {
    const Vec3 a = estimate.conjugate() * world_up(), b = truth.conjugate() * world_up();
    return std::atan2(a.cross(b).norm(), a.dot(b)) / kDeg;
}

double heading_deg(const Quat& q) {
    const Vec3 x = q * Vec3::UnitX();
    return std::atan2(x.x(), x.z()) / kDeg;
}

void unwrap_angles(Eigen::MatrixXf& a) {
    for (long c = 0; c < a.cols(); ++c)
        for (long i = 1; i < a.rows(); ++i) {
            double d = a(i, c) - a(i - 1, c);
            d -= 2 * M_PI * std::round(d / (2 * M_PI));
            a(i, c) = static_cast<float>(a(i - 1, c) + d);
        }
}

double window_heading_rad(const float* insoles, const float* heading_rad, int frames) {
    double sx = 0, sz = 0;
    for (int f = 0; f < frames; ++f)
        for (int foot = 0; foot < 2; ++foot) {
            const float force = insoles[static_cast<size_t>(f) * io::kInsoleChannels + foot * io::kFootChannels + io::kForceOffset];
            const double w = force > kLoadedForceN ? 1.0 : 0.25;
            const double a = heading_rad[static_cast<size_t>(f) * 2 + foot];
            sx += w * std::sin(a);
            sz += w * std::cos(a);
        }
    return sx == 0 && sz == 0 ? 0.0 : std::atan2(sx, sz);
}

Eigen::MatrixXf clip_insole_headings(const io::DatasetClip& c) {
    if (c.insole_heading_rad.rows() == c.frames()) return c.insole_heading_rad;
    if (c.imu_frame == "filter") {
        static std::once_flag warned;
        std::call_once(warned, [&] {
            spdlog::warn("{}: no stored insole headings (dataset from an older s2m preprocess); the mocap feet's headings stand in for "
                         "the filter's. Rebuild it with s2m preprocess for the filter's own.", c.name);
        });
    }
    return insole_heading_from_poses(c.poses);
}

Eigen::MatrixXf insole_heading_from_poses(const Eigen::MatrixXf& poses) {
    if (poses.cols() != io::kRootAndJointValues) fail_input("insole_heading_from_poses: expected 66 values per frame");
    Eigen::MatrixXf h(poses.rows(), 2);
    const int feet[2] = {kin::LeftFoot, kin::LeftToeBase}, right[2] = {kin::RightFoot, kin::RightToeBase};
    for (long i = 0; i < poses.rows(); ++i)
        for (int foot = 0; foot < 2; ++foot) {
            const int* j = foot == 0 ? feet : right;
            // Joint j (1..21) sits at columns 3j..3j+2 (column 0..2: root displacement).
            const float dx = poses(i, 3 * j[1]) - poses(i, 3 * j[0]), dz = poses(i, 3 * j[1] + 2) - poses(i, 3 * j[0] + 2);
            h(i, foot) = static_cast<float>(std::atan2(dx, dz));
        }
    unwrap_angles(h);
    return h;
}

}  // namespace s2m::imu
