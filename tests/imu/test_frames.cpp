// IMU frames: the orientation filter against a synthetic stream with a known orientation trajectory,
// and the mocap path (insole frame from the rest pose, gravity removed).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "step2motion/imu/frames.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "test_support.hpp"

using namespace s2m;
using imu::Quat;
using imu::Vec3;

namespace {

constexpr double kDeg = M_PI / 180.0;

Quat about(const Vec3& axis, double deg) { return Quat(Eigen::AngleAxisd(deg * kDeg, axis.normalized())); }

// Heading 0: device x -> world +Z, device z -> world +Y, device y -> world +X.
Quat base_orientation() {
    Eigen::Matrix3d r;
    r.col(0) = Vec3::UnitZ();
    r.col(1) = Vec3::UnitX();
    r.col(2) = Vec3::UnitY();
    return Quat(r);
}

struct Stream {
    Eigen::MatrixXf acc, gyro, pressure;
    imu::QuatVector truth;
    std::vector<double> heading_true_deg;
};

// Walking-like foot motion: stance (flat, still, loaded) 60 % of a 1.1 s cycle; swing with pitch up to
// 45°, roll up to 12° and a heading turn; the walker turns 180° per minute in all. The first 1.3 s
// start in mid-swing so that the filter has to wait for a still phase. Gyro bias and noise, accelerometer noise.
Stream walking_stream(double seconds, double rate_hz, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> gyro_noise(0, 0.3), acc_noise(0, 0.01);
    const Vec3 bias(0.4, -0.3, 0.5);  // deg/s
    const long n = static_cast<long>(seconds * rate_hz);
    const double cycle = 1.1, stance = 0.6, turn_deg_per_cycle = 180.0 / 60.0 * cycle;
    Stream s;
    s.acc.resize(n, 3);
    s.gyro.resize(n, 3);
    s.pressure.setZero(n, 16);
    const Quat base = base_orientation();
    auto phase_at = [&](double t) {
        t += 0.7;  // begin in the swing
        const int k = static_cast<int>(std::floor(t / cycle));
        const double ph = t / cycle - k;
        return std::make_pair(k, ph);
    };
    auto orientation = [&](double t, double* heading, Vec3* acc_world) {
        const auto [k, ph] = phase_at(t);
        double swing = 0;  // 0..1 within the swing, 0 in stance
        if (ph >= stance) swing = (ph - stance) / (1 - stance);
        const double bump = std::sin(M_PI * swing);            // 0 at both ends
        const double pitch = 45 * std::sin(2 * M_PI * swing) * bump;
        const double roll = 12 * bump * bump;
        const double h = turn_deg_per_cycle * (k + (swing > 0 ? 0.5 - 0.5 * std::cos(M_PI * swing) : 0));
        *heading = h;
        *acc_world = Vec3(0.4 * std::sin(2 * M_PI * swing), 0.3 * bump, 0.6 * std::sin(2 * M_PI * swing)) * (swing > 0);
        return about(Vec3::UnitY(), h) * base * about(Vec3::UnitY(), pitch) * about(Vec3::UnitX(), roll);
    };
    Quat prev;
    double h;
    Vec3 aw;
    prev = orientation(-1.0 / rate_hz, &h, &aw);
    for (long i = 0; i < n; ++i) {
        const double t = i / rate_hz;
        const Quat q = orientation(t, &h, &aw);
        s.truth.push_back(q);
        s.heading_true_deg.push_back(h);
        const Eigen::AngleAxisd step(prev.conjugate() * q);
        const Vec3 omega = step.axis() * step.angle() * rate_hz / kDeg;
        const Vec3 f = q.conjugate() * (aw + Vec3::UnitY());
        for (int k = 0; k < 3; ++k) {
            s.gyro(i, k) = static_cast<float>(omega[k] + bias[k] + gyro_noise(rng));
            s.acc(i, k) = static_cast<float>(f[k] + acc_noise(rng));
        }
        const auto [c, ph] = phase_at(t);
        if (ph < stance) s.pressure.row(i).setConstant(2.0f);
        prev = q;
    }
    return s;
}

double wrap_deg(double d) {
    while (d > 180) d -= 360;
    while (d < -180) d += 360;
    return d;
}

}  // namespace

TEST(OrientationFilter, TiltAndHeadingOnSyntheticWalk) {
    const double rate = 100, seconds = 180;
    const Stream s = walking_stream(seconds, rate, 7);
    imu::FilterOptions o;
    o.rate_hz = rate;
    const imu::FilterResult r = imu::track_orientation(s.acc, s.gyro, s.pressure, o);
    ASSERT_GT(r.start_frame, 20) << "starts at the first still phase, not at frame 0";
    ASSERT_LT(r.start_frame, 200);
    double max_tilt = 0;
    const long n = s.acc.rows();
    for (long i = r.start_frame; i < n; ++i) max_tilt = std::max(max_tilt, imu::tilt_error_deg(r.insole_to_world[i], s.truth[i]));
    EXPECT_LE(max_tilt, 2.0);
    // Heading is free at the start (set to 0); what matters is how it drifts afterwards.
    const double e0 = wrap_deg(imu::heading_deg(r.insole_to_world[r.start_frame]) - imu::heading_deg(s.truth[r.start_frame]));
    double worst_rate = 0;
    for (long i = r.start_frame + static_cast<long>(30 * rate); i < n; i += 100) {
        const double e = wrap_deg(imu::heading_deg(r.insole_to_world[i]) - imu::heading_deg(s.truth[i]) - e0);
        worst_rate = std::max(worst_rate, std::abs(e) / ((i - r.start_frame) / rate / 60.0));
    }
    EXPECT_LE(worst_rate, 5.0) << "deg/min";
    EXPECT_NEAR(r.gyro_bias_deg_s.z(), 0.5, 0.1);
    std::printf("filter: max tilt error %.2f deg, worst heading drift %.2f deg/min, start frame %d\n", max_tilt,
                worst_rate, r.start_frame);
}

TEST(OrientationFilter, WithoutCorrectionTheBiasWouldDrift) {
    // The same stream with correction and bias estimation disabled must drift beyond the limits,
    // showing that the test above measures the filter and not an easy stream.
    const double rate = 100;
    const Stream s = walking_stream(120, rate, 8);
    imu::FilterOptions o;
    o.rate_hz = rate;
    o.tilt_gain = 0;
    o.bias_rate = 0;
    const imu::FilterResult r = imu::track_orientation(s.acc, s.gyro, s.pressure, o);
    double max_tilt = 0;
    for (long i = r.start_frame; i < s.acc.rows(); ++i)
        max_tilt = std::max(max_tilt, imu::tilt_error_deg(r.insole_to_world[i], s.truth[i]));
    EXPECT_GT(max_tilt, 2.0);
}

TEST(OrientationFilter, WorldAccelerationAtRestIsZero) {
    Eigen::MatrixXf ch = Eigen::MatrixXf::Zero(200, io::kInsoleChannels);
    for (int foot = 0; foot < 2; ++foot) {
        const int b = foot * io::kFootChannels;
        ch.col(b + io::kAccOffset).setConstant(-0.19f);
        ch.col(b + io::kAccOffset + 1).setConstant(0.05f);
        ch.col(b + io::kAccOffset + 2).setConstant(0.97f);
        ch.middleCols(b, 16).setConstant(3.f);
    }
    imu::accelerations_to_world_filtered(ch, 100);
    for (int foot = 0; foot < 2; ++foot)
        for (int k = 0; k < 3; ++k)
            EXPECT_NEAR(ch(150, foot * io::kFootChannels + io::kAccOffset + k), 0.0, 0.011);  // |a| = 0.99 g
}

TEST(MocapFrames, InsoleFrameFromRestPoseAndGravityRemoved) {
    io::Skeleton s;
    for (int j = 0; j < kin::kNumJoints; ++j) {
        s.names.push_back(kin::kJointNames[j]);
        s.parents.push_back(kin::kJointParents[j]);
        s.offsets_m.push_back(Vec3(0, -0.1, 0));
        s.end_sites_m.emplace_back();
    }
    s.offsets_m[kin::LeftToeBase] = Vec3(0.01, -0.04, 0.14);   // toes forward (+Z), a little outwards and down
    s.offsets_m[kin::RightToeBase] = Vec3(-0.01, -0.04, 0.14);
    for (int foot = 0; foot < 2; ++foot) {
        const Quat f = imu::insole_frame_in_foot(s, foot);
        EXPECT_NEAR((f * Vec3::UnitZ() - Vec3::UnitY()).norm(), 0, 1e-9) << "z is up";
        EXPECT_NEAR((f * Vec3::UnitX()).y(), 0, 1e-9) << "x horizontal along the foot";
        EXPECT_GT((f * Vec3::UnitX()).z(), 0.99);
        EXPECT_GT((f * Vec3::UnitY()).x(), 0.99) << "y to the body's left (+X when facing +Z) on both feet";
    }
    // A foot pitched 30° toe-down and standing still reads gravity only: world acceleration 0.
    const Quat foot_world = about(Vec3::UnitX(), 30);
    const Quat in_foot = imu::insole_frame_in_foot(s, 1);
    const Vec3 reading = imu::device_acceleration_g(Vec3::Zero(), foot_world * in_foot);
    EXPECT_NEAR(reading.norm(), 1.0, 1e-12);
    EXPECT_LT(reading.z(), 0.9);
    Eigen::MatrixXf ch = Eigen::MatrixXf::Zero(1, io::kInsoleChannels);
    for (int k = 0; k < 3; ++k) ch(0, io::kFootChannels + io::kAccOffset + k) = static_cast<float>(reading[k]);
    ch(0, io::kAccOffset + 2) = 1.f;  // left foot flat
    imu::accelerations_to_world(ch, {Quat::Identity()}, {foot_world}, imu::insole_frame_in_foot(s, 0), in_foot);
    for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(ch(0, io::kAccOffset + k), 0, 1e-6);
        EXPECT_NEAR(ch(0, io::kFootChannels + io::kAccOffset + k), 0, 1e-6);
    }
}

// Real insole recordings (no mocap): over a walk the foot ends where it started in height, so the
// mean vertical world acceleration is about 0, and so is the whole world acceleration while the foot
// is still. Raw specific force averages +1 g up instead; a wrong filter would not remove it.
TEST(OrientationFilter, RealWalksHaveZeroMeanVerticalAcceleration) {
    for (const char* name : {"230927_102114.txt", "230927_102137.txt", "230927_102231.txt"}) {
        SCOPED_TRACE(name);
        const io::MoticonRecording rec = io::read_moticon((test::project_data() / "moticon" / name).string());
        Eigen::MatrixXf ch = io::insole_channels(rec);
        imu::accelerations_to_world_filtered(ch, rec.rate_hz);
        for (int foot = 0; foot < 2; ++foot) {
            const int b = foot * io::kFootChannels;
            // Skip the start where a foot was not connected yet.
            long first = 0;
            while (!rec.feet[foot].valid[static_cast<size_t>(first)]) ++first;
            const long n = ch.rows() - first;
            const double mean_up = ch.col(b + io::kAccOffset + 1).tail(n).mean();
            EXPECT_NEAR(mean_up, 0.0, 0.05) << "foot " << foot;
            // Horizontal mean is also near zero (the walker starts and ends at rest).
            const double mean_x = ch.col(b + io::kAccOffset).tail(n).mean(), mean_z = ch.col(b + io::kAccOffset + 2).tail(n).mean();
            EXPECT_LT(std::hypot(mean_x, mean_z), 0.1) << "foot " << foot;
            std::printf("%s foot %d: mean world acceleration (%.3f, %.3f, %.3f) g\n", name, foot, mean_x, mean_up, mean_z);
        }
    }
}

// One yaw per window from both insoles' headings: across the ±pi seam, and a loaded (flat) foot
// counting more than one in the air.
TEST(HeadingFrame, WindowHeadingFromBothFeet) {
    const int n = 10;
    std::vector<float> insoles(static_cast<size_t>(n) * 50, 0.f), heading(static_cast<size_t>(n) * 2);
    for (int f = 0; f < n; ++f) {
        heading[static_cast<size_t>(f) * 2] = 3.1f;
        heading[static_cast<size_t>(f) * 2 + 1] = -3.1f;
    }
    EXPECT_NEAR(std::abs(imu::window_heading_rad(insoles.data(), heading.data(), n)), M_PI, 1e-6);
    for (int f = 0; f < n; ++f) {
        heading[static_cast<size_t>(f) * 2] = 0.0f;
        heading[static_cast<size_t>(f) * 2 + 1] = 1.0f;
        insoles[static_cast<size_t>(f) * 50 + 22] = 600;  // the left foot bears the load
    }
    // Weights 1 and 0.25: atan2(0.25 sin 1, 1 + 0.25 cos 1).
    EXPECT_NEAR(imu::window_heading_rad(insoles.data(), heading.data(), n), std::atan2(0.25 * std::sin(1.0), 1 + 0.25 * std::cos(1.0)), 1e-6);
}

// The insole's x axis is the foot → toe direction: from 66-value poses, unwrapped over time.
TEST(HeadingFrame, InsoleHeadingFromPoses) {
    Eigen::MatrixXf poses = Eigen::MatrixXf::Zero(40, 66);
    for (int f = 0; f < 40; ++f) {
        const double a = 0.2 * f;  // turns past pi
        // Left foot (joint 3) at the origin, its toe (joint 4) 15 cm along heading a; right foot
        // (joint 7) and toe (joint 8) along a + 0.1.
        poses(f, 12) = static_cast<float>(0.15 * std::sin(a));
        poses(f, 14) = static_cast<float>(0.15 * std::cos(a));
        poses(f, 21) = 0.2f;
        poses(f, 24) = static_cast<float>(0.2 + 0.15 * std::sin(a + 0.1));
        poses(f, 25) = -0.05f;  // the toe lower than the ankle: the pitch does not matter
        poses(f, 26) = static_cast<float>(0.15 * std::cos(a + 0.1));
    }
    const Eigen::MatrixXf h = imu::insole_heading_from_poses(poses);
    for (int f = 0; f < 40; ++f) {
        EXPECT_NEAR(h(f, 0), 0.2 * f, 1e-4) << f;
        EXPECT_NEAR(h(f, 1), 0.2 * f + 0.1, 1e-4) << f;
    }
}
