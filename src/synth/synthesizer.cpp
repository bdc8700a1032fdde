#include "step2motion/synth/synthesizer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <limits>
#include <random>

#include <Eigen/Eigenvalues>

#include "step2motion/core/error.hpp"
#include "step2motion/core/hash.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

namespace s2m::synth {

namespace {

using s2m::Quat;
using s2m::Vec3;
constexpr double kG = 9.80665;
constexpr int kCells = io::kPressureCells;
constexpr double kPi = 3.14159265358979323846;

// Anthropometric proportions of the foot (fractions of foot length, heel at 0): the ankle joint centre
// sits above 0.22, the metatarsal heads (where mocap puts the toe joint) at 0.72, the tip at 1.
constexpr double kAnkleFromHeel = 0.22, kBallFromAnkle = 0.50, kTipFromAnkle = 0.78;
constexpr double kFootLengthPerHeight = 0.152, kInsoleWidthPerLength = 0.37;
// Relative pressure a cell takes under an evenly loaded sole (arch cells carry little, heel and
// metatarsal heads most), cells 1..16 in the layout's numbering.
constexpr std::array<double, kCells> kCellLoading = {1.0, 1.0, 1.0, 1.0, 0.8, 0.9, 0.15, 0.6,
                                                     1.0, 1.0, 1.0, 0.85, 0.6, 0.8, 0.5, 0.3};
// Spread (fraction of insole length) of the load around the zero-moment point along the foot.
constexpr double kLoadSpreadX = 0.25;

size_t idx(int f, int j) { return static_cast<size_t>(f) * kin::kNumJoints + static_cast<size_t>(j); }

double ramp_down(double v, double full, double band) {
    if (v <= full) return 1;
    if (v >= full + band) return 0;
    const double t = (v - full) / band;
    return 1 - t * t * (3 - 2 * t);  // smoothstep keeps forces continuous as contact fades
}

std::vector<Vec3> gaussian_smooth(const std::vector<Vec3>& x, double sigma_frames) {
    const int n = static_cast<int>(x.size());
    if (sigma_frames < 0.3 || n < 3) return x;
    const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma_frames)));
    std::vector<double> w(static_cast<size_t>(2 * r + 1));
    double sum = 0;
    for (int j = -r; j <= r; ++j) sum += w[static_cast<size_t>(j + r)] = std::exp(-0.5 * j * j / (sigma_frames * sigma_frames));
    for (double& v : w) v /= sum;
    std::vector<Vec3> y(x.size());
    for (int i = 0; i < n; ++i) {
        Vec3 acc = Vec3::Zero();
        for (int j = -r; j <= r; ++j) acc += w[static_cast<size_t>(j + r)] * x[static_cast<size_t>(std::clamp(i + j, 0, n - 1))];
        y[static_cast<size_t>(i)] = acc;
    }
    return y;
}

std::vector<Vec3> second_derivative(const std::vector<Vec3>& x, double fps) {
    const int n = static_cast<int>(x.size());
    std::vector<Vec3> a(x.size(), Vec3::Zero());
    if (n < 3) return a;
    for (int i = 1; i + 1 < n; ++i)
        a[static_cast<size_t>(i)] = (x[static_cast<size_t>(i + 1)] - 2 * x[static_cast<size_t>(i)] + x[static_cast<size_t>(i - 1)]) * fps * fps;
    a[0] = a[1];
    a[static_cast<size_t>(n - 1)] = a[static_cast<size_t>(n - 2)];
    return a;
}

// World angular velocity (rad/s) from a sequence of world orientations, central differences.
std::vector<Vec3> angular_velocity(const std::vector<Quat, Eigen::aligned_allocator<Quat>>& q, double fps) {
    const int n = static_cast<int>(q.size());
    std::vector<Vec3> w(q.size(), Vec3::Zero());
    if (n < 2) return w;
    for (int i = 0; i < n; ++i) {
        const int a = std::max(0, i - 1), b = std::min(n - 1, i + 1);
        Quat d = q[static_cast<size_t>(b)] * q[static_cast<size_t>(a)].conjugate();
        if (d.w() < 0) d.coeffs() = -d.coeffs();
        const double s = d.vec().norm();
        const double angle = 2 * std::atan2(s, d.w());
        if (s > 1e-12) w[static_cast<size_t>(i)] = d.vec() / s * (angle * fps / (b - a));
    }
    return w;
}

// The world axis nearest to hips -> head over the clip's frames (the rest pose decides only for an
// empty clip: some files rest lying down, e.g. SNU basketball along X).
Vec3 detect_up(const io::Skeleton& s, const std::vector<Vec3>& pos, int frames) {
    Vec3 d = Vec3::Zero();
    for (int f = 0; f < frames; ++f) d += (pos[idx(f, kin::Head)] - pos[idx(f, kin::Hips)]).normalized();
    if (!(d.norm() > 1e-9)) {
        const auto rest = s.rest_positions();
        d = rest[kin::Head] - rest[kin::Hips];
    }
    int axis = 0;
    d.cwiseAbs().maxCoeff(&axis);
    Vec3 up = Vec3::Zero();
    up[axis] = d[axis] >= 0 ? 1 : -1;
    return up;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

struct FootModel {
    int ankle = 0, toe = 0;
    bool left = false;
    FootGeometry geo;
    Vec3 imu_local;
    Vec3 heel_local;  // heel end of the insole's centre line, foot frame
};

// Insole geometry of one foot. The sole's "up" in the foot frame is calibrated on the clip's still,
// low frames of that foot (foot flat), so the insole lies flat whenever the foot stands flat.
FootModel build_foot(const io::Motion& m, const std::vector<Vec3>& pos, const s2m::QuatVector& rot, bool left,
                     const Vec3& up, const io::SensorLayout& layout) {
    FootModel fm;
    fm.left = left;
    fm.ankle = left ? kin::LeftFoot : kin::RightFoot;
    fm.toe = left ? kin::LeftToeBase : kin::RightToeBase;
    const int n = m.frames;
    const double height = standing_height_m(m.skeleton);

    // Candidate flat-stance frames: ankle and toe nearly still, toe in the lowest third of its range.
    std::vector<double> toe_h(static_cast<size_t>(n));
    for (int f = 0; f < n; ++f) toe_h[static_cast<size_t>(f)] = pos[idx(f, fm.toe)].dot(up);
    const double low = percentile(toe_h, 0.05), high = percentile(toe_h, 0.95);
    Vec3 up_sum = Vec3::Zero();
    int count = 0, best = -1;
    double best_speed = std::numeric_limits<double>::infinity();
    for (int f = 0; f < n; ++f) {
        const int a = std::max(0, f - 1), b = std::min(n - 1, f + 1);
        if (a == b) {
            best = f;
            up_sum += rot[idx(f, fm.ankle)].conjugate() * up;
            ++count;
            continue;
        }
        const double dt = (b - a) / m.fps;
        const double va = (pos[idx(b, fm.ankle)] - pos[idx(a, fm.ankle)]).norm() / dt;
        const double vt = (pos[idx(b, fm.toe)] - pos[idx(a, fm.toe)]).norm() / dt;
        if (va < 0.15 && vt < 0.15 && toe_h[static_cast<size_t>(f)] <= low + 0.33 * (high - low) + 0.005) {
            up_sum += rot[idx(f, fm.ankle)].conjugate() * up;
            ++count;
            if (va + vt < best_speed) best_speed = va + vt, best = f;
        }
    }
    Vec3 z = count >= 1 && up_sum.norm() > 1e-9 ? Vec3(up_sum.normalized()) : up;  // rest pose otherwise
    Quat toe_rel = Quat::Identity();  // toe relative to foot in the calibration pose
    if (best >= 0) toe_rel = rot[idx(best, fm.ankle)].conjugate() * rot[idx(best, fm.toe)];

    const Vec3 toe_off = m.skeleton.offsets_m[static_cast<size_t>(fm.toe)];
    Vec3 x = toe_off - toe_off.dot(z) * z;
    if (x.norm() < 1e-6) x = z.unitOrthogonal();
    x.normalize();
    {
        // An insole lies along the foot, whose main flexion (ankle, push-off, swing) turns about an
        // axis across it. Mocap foot bones can point a little off that (toe-out of the marker
        // skeleton), which would leak pitch rate into roll; so the insole's heading in the sole
        // plane is aligned with the principal axis of the foot's angular velocity, within 25 deg.
        s2m::QuatVector q(static_cast<size_t>(n));
        for (int f = 0; f < n; ++f) q[static_cast<size_t>(f)] = rot[idx(f, fm.ankle)];
        const std::vector<Vec3> w = angular_velocity(q, m.fps);
        const Vec3 y0 = z.cross(x);
        Eigen::Matrix2d cov = Eigen::Matrix2d::Zero();
        for (int f = 0; f < n; ++f) {
            const Vec3 wl = q[static_cast<size_t>(f)].conjugate() * w[static_cast<size_t>(f)];
            const Eigen::Vector2d v(wl.dot(x), wl.dot(y0));
            cov += v * v.transpose();
        }
        Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> es(cov);
        const Eigen::Vector2d axis = es.eigenvectors().col(1);  // largest eigenvalue
        if (es.eigenvalues()(1) > 2 * std::max(es.eigenvalues()(0), 1e-12)) {
            // Pitch axis in the sole plane; the insole's y is that axis, x across it.
            Vec3 pitch = axis(0) * x + axis(1) * y0;
            if (pitch.dot(y0) < 0) pitch = -pitch;
            if (pitch.dot(y0) > std::cos(25 * kPi / 180)) x = pitch.cross(z).normalized();
        }
    }
    const Vec3 y_left = z.cross(x);  // points to the body's left when x is forward and z up
    const Vec3 y = left ? Vec3(-y_left) : y_left;  // medial
    const double d_ball = toe_off.dot(x);
    const double h_toe = -toe_off.dot(z);

    // Foot length from the toe tip when the skeleton has a plausible one, else from the ball.
    double length = d_ball / kBallFromAnkle;
    if (const auto& es = m.skeleton.end_sites_m[static_cast<size_t>(fm.toe)]) {
        const double tip_x = (toe_off + toe_rel * *es).dot(x);
        if (tip_x > d_ball + 0.02 && tip_x < 1.8 * d_ball) length = tip_x / kTipFromAnkle;
    }
    const double nominal = kFootLengthPerHeight * height;
    if (!(length > 0.75 * nominal && length < 1.25 * nominal)) length = nominal;
    const double width = kInsoleWidthPerLength * length;
    const double sole_depth = std::max(0.03, h_toe + 0.02);  // ball joint centre ~2 cm above the sole

    fm.geo.length_m = length;
    fm.geo.width_m = width;
    fm.geo.x_axis = x;
    fm.geo.y_axis = y;
    fm.geo.z_axis = z;
    const double centre_x = (0.5 - kAnkleFromHeel) * length;
    fm.heel_local = (-kAnkleFromHeel * length) * x - sole_depth * z;
    fm.imu_local = (centre_x - 0.1 * length) * x - sole_depth * z;
    for (int k = 0; k < kCells; ++k) {
        const Vec3 p = (centre_x + layout.x_anterior[static_cast<size_t>(k)] * length) * x +
                       (layout.y_medial[static_cast<size_t>(k)] * width) * y - sole_depth * z;
        // The toe cells (beyond the metatarsal heads) bend with the toes at push-off.
        const bool on_toe = layout.x_anterior[static_cast<size_t>(k)] > 0.3;
        fm.geo.on_toe.push_back(on_toe);
        fm.geo.sensor_local.push_back(on_toe ? Vec3(toe_rel.conjugate() * (p - toe_off)) : p);
    }
    return fm;
}

// Ground plane: height above it = p.up - (offset + slope . (horizontal coordinates of p)).
struct Ground {
    double offset = 0;
    Eigen::Vector2d slope_u = Eigen::Vector2d::Zero();
    Vec3 e1 = Vec3::UnitX(), e2 = Vec3::UnitZ();
    double height(const Vec3& p, const Vec3& up) const {
        return p.dot(up) - offset - slope_u.x() * p.dot(e1) - slope_u.y() * p.dot(e2);
    }
};

Ground fit_ground(const std::vector<Vec3>& cells, int n, double fps, const Vec3& up) {
    Ground g;
    g.e1 = up.unitOrthogonal();
    g.e2 = up.cross(g.e1);
    // Lowest cell of each foot per frame, and whether it is still.
    std::vector<Vec3> still, all;
    for (int f = 0; f < n; ++f)
        for (int s = 0; s < 2; ++s) {
            int best = 0;
            double lo = std::numeric_limits<double>::infinity();
            for (int k = 0; k < kCells; ++k) {
                const double h = cells[(static_cast<size_t>(f) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(k)].dot(up);
                if (h < lo) lo = h, best = k;
            }
            const Vec3& p = cells[(static_cast<size_t>(f) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(best)];
            all.push_back(p);
            if (n < 2) continue;
            const int a = std::max(0, f - 1), b = std::min(n - 1, f + 1);
            const Vec3 d = cells[(static_cast<size_t>(b) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(best)] -
                           cells[(static_cast<size_t>(a) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(best)];
            if (d.norm() * fps / (b - a) < 0.25) still.push_back(p);
        }
    const std::vector<Vec3>& pts = still.size() >= 10 ? still : all;
    std::vector<double> h(pts.size());
    for (size_t i = 0; i < pts.size(); ++i) h[i] = pts[i].dot(up);
    g.offset = percentile(h, 0.5);
    std::vector<unsigned char> use(pts.size(), 1);
    for (int iter = 0; iter < 4; ++iter) {
        // Least squares with a ridge on the slope, so a clip standing on one spot stays level.
        Eigen::Vector2d mean = Eigen::Vector2d::Zero();
        double cnt = 0;
        for (size_t i = 0; i < pts.size(); ++i)
            if (use[i]) mean += Eigen::Vector2d(pts[i].dot(g.e1), pts[i].dot(g.e2)), ++cnt;
        if (cnt < 3) break;
        mean /= cnt;
        Eigen::Matrix2d A = Eigen::Matrix2d::Identity() * (0.01 * cnt);
        Eigen::Vector2d rhs = Eigen::Vector2d::Zero();
        double hmean = 0;
        for (size_t i = 0; i < pts.size(); ++i)
            if (use[i]) hmean += h[i];
        hmean /= cnt;
        for (size_t i = 0; i < pts.size(); ++i) {
            if (!use[i]) continue;
            const Eigen::Vector2d x = Eigen::Vector2d(pts[i].dot(g.e1), pts[i].dot(g.e2)) - mean;
            A += x * x.transpose();
            rhs += x * (h[i] - hmean);
        }
        Eigen::Vector2d slope = A.ldlt().solve(rhs);
        // A slope needs support points spread over metres (a walk, not two feet standing apart),
        // and anything steeper than about 20 degrees (SNU's steepest ramp is 16) is not a floor.
        Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> spread(A / cnt);
        if (spread.eigenvalues().maxCoeff() < 0.25 || !(slope.norm() < 0.36)) slope.setZero();
        g.slope_u = slope;
        std::vector<double> res(pts.size());
        std::vector<double> inl;
        for (size_t i = 0; i < pts.size(); ++i) {
            res[i] = h[i] - slope.dot(Eigen::Vector2d(pts[i].dot(g.e1), pts[i].dot(g.e2)));
            if (use[i]) inl.push_back(res[i]);
        }
        // Lower envelope: feet stand on the floor, they are never below it.
        g.offset = percentile(inl, 0.3);
        for (size_t i = 0; i < pts.size(); ++i) use[i] = res[i] - g.offset < 0.02;
    }
    return g;
}

// The foot's orientation about its own axis is poorly determined by a position-driven retarget (the
// roll propagates down the leg by shortest arcs and picks up twist that the real foot never makes:
// synthetic roll and yaw rates then correlate with pitch, which real insoles do not show). The foot
// frame is rebuilt from the knee-ankle-toe plane instead: x along the foot, the plane's normal as
// the lateral axis. Near-straight configurations (shank in line with the foot) keep the retarget's.
void foot_rotations_from_leg_plane(const io::Motion& m, const std::vector<Vec3>& pos, s2m::QuatVector& rot) {
    using namespace kin;
    const auto rest = m.skeleton.rest_positions();
    for (const auto& [knee, ankle, toe] : {std::array<int, 3>{LeftLeg, LeftFoot, LeftToeBase}, std::array<int, 3>{RightLeg, RightFoot, RightToeBase}}) {
        auto frame = [&](const Vec3& k, const Vec3& a, const Vec3& t, Eigen::Matrix3d& g) {
            const Vec3 x = t - a, shank = k - a;
            const Vec3 side = shank.cross(x);
            if (side.norm() < 0.25 * shank.norm() * x.norm()) return false;
            g.col(0) = x.normalized();
            g.col(1) = side.normalized();
            g.col(2) = g.col(0).cross(g.col(1));
            return true;
        };
        Eigen::Matrix3d g_rest;
        if (!frame(rest[static_cast<size_t>(knee)], rest[static_cast<size_t>(ankle)], rest[static_cast<size_t>(toe)], g_rest)) continue;
        // World rotation of the foot joint in the rest pose is the identity.
        for (int f = 0; f < m.frames; ++f) {
            Eigen::Matrix3d g;
            if (!frame(pos[idx(f, knee)], pos[idx(f, ankle)], pos[idx(f, toe)], g)) continue;
            rot[idx(f, ankle)] = Quat(Eigen::Matrix3d(g * g_rest.transpose())).normalized();
        }
    }
}

std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

std::string format_clock(double seconds) {
    const long ms = std::lround(seconds * 1000);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02ld:%02ld.%03ld", ms / 60000, (ms / 1000) % 60, ms % 1000);
    return buf;
}

}  // namespace

double standing_height_m(const io::Skeleton& s) {
    using namespace kin;
    if (!is_canonical(s)) return s.rest_height_m();
    const auto rest = s.rest_positions();
    auto len = [&](int a, int b) { return (rest[static_cast<size_t>(a)] - rest[static_cast<size_t>(b)]).norm(); };
    const double leg = 0.5 * (len(LeftFoot, LeftLeg) + len(LeftLeg, LeftUpLeg) + len(RightFoot, RightLeg) + len(RightLeg, RightUpLeg));
    // Hip joint centre at about 0.53 of stature, ankle joint centre at about 0.04.
    return leg / (0.53 - 0.04);
}

int drop_leading_rest_frames(io::Motion& m) {
    const int J = m.skeleton.size();
    int dropped = 0;
    while (m.frames >= 8 && dropped < 3) {
        const std::vector<Vec3> pos = kin::forward_kinematics(m);
        auto pose_change = [&](int f) {
            double d = 0;
            for (int j = 1; j < J; ++j) {
                const Vec3 a = pos[static_cast<size_t>(f * J + j)] - pos[static_cast<size_t>(f * J)];
                const Vec3 b = pos[static_cast<size_t>((f + 1) * J + j)] - pos[static_cast<size_t>((f + 1) * J)];
                d = std::max(d, (a - b).norm());
            }
            return d;
        };
        std::vector<double> typical;
        for (int f = 1; f + 1 < std::min(m.frames, 61); ++f) typical.push_back(pose_change(f));
        const double first = pose_change(0), usual = percentile(typical, 0.5);
        if (!(first > 0.1 && first > 10 * usual)) break;
        m.rotations.erase(m.rotations.begin(), m.rotations.begin() + J);
        m.translations.erase(m.translations.begin(), m.translations.begin() + J);
        --m.frames;
        ++dropped;
    }
    return dropped;
}

NoiseModel parse_noise_model(const std::string& name) {
    if (name == "none") return NoiseModel::None;
    if (name == "realistic") return NoiseModel::Realistic;
    fail_input("--noise " + name + ": expected none or realistic");
}

std::vector<Vec3> centre_of_mass(const io::Skeleton& s, const std::vector<Vec3>& pos, int frames) {
    using namespace kin;
    // de Leva (1996) male segment masses (fraction of body mass) and centre-of-mass positions as a
    // fraction of the way from the proximal to the distal joint.
    struct Segment {
        int a, b;
        double mass, at;
    };
    static const Segment kSegments[] = {
        {Hips, Neck, 0.4346, 0.55},  // trunk incl. pelvis
        {Neck, Head, 0.0694, 1.0},    // head + neck, centred near the head joint
        {LeftArm, LeftForeArm, 0.0271, 0.577},   {RightArm, RightForeArm, 0.0271, 0.577},
        {LeftForeArm, LeftHand, 0.0162, 0.457},  {RightForeArm, RightHand, 0.0162, 0.457},
        {LeftHand, LeftHand, 0.0061, 0.0},       {RightHand, RightHand, 0.0061, 0.0},
        {LeftUpLeg, LeftLeg, 0.1416, 0.41},      {RightUpLeg, RightLeg, 0.1416, 0.41},
        {LeftLeg, LeftFoot, 0.0433, 0.44},      {RightLeg, RightFoot, 0.0433, 0.44},
        {LeftFoot, LeftToeBase, 0.0137, 0.44},  {RightFoot, RightToeBase, 0.0137, 0.44},
    };
    if (!kin::is_canonical(s)) fail_input("centre_of_mass: the skeleton is not the canonical 22-joint one");
    std::vector<Vec3> com(static_cast<size_t>(frames), Vec3::Zero());
    for (int f = 0; f < frames; ++f) {
        Vec3 c = Vec3::Zero();
        double total = 0;
        for (const Segment& seg : kSegments) {
            const Vec3& pa = pos[idx(f, seg.a)];
            const Vec3& pb = pos[idx(f, seg.b)];
            c += seg.mass * (pa + seg.at * (pb - pa));
            total += seg.mass;
        }
        com[static_cast<size_t>(f)] = c / total;
    }
    return com;
}

io::MoticonRecording synthesize_insoles(const io::Motion& m, const SynthOptions& opt, const io::SensorLayout& layout,
                                        SynthDiagnostics* diag) {
    if (!kin::is_canonical(m.skeleton)) fail_input("synthesize_insoles: the motion is not on the canonical 22-joint skeleton");
    if (m.frames < 1 || !(m.fps > 0)) fail_input("synthesize_insoles: empty motion");
    if (!(opt.rate_hz > 0) || !(opt.weight_kg > 0)) fail_input("synthesize_insoles: rate and weight must be positive");
    const int n = m.frames;
    const double fps = m.fps;
    const std::array<double, kCells> areas = layout.areas_cm2(opt.insole_size);

    s2m::QuatVector rot;
    const std::vector<Vec3> pos = kin::forward_kinematics(m, &rot);
    const Vec3 up = detect_up(m.skeleton, pos, n);
    foot_rotations_from_leg_plane(m, pos, rot);

    FootModel feet[2] = {build_foot(m, pos, rot, true, up, layout), build_foot(m, pos, rot, false, up, layout)};

    // Sole cell positions in the world, every mocap frame.
    std::vector<Vec3> cells(static_cast<size_t>(n) * 2 * kCells);
    auto cell = [&](int f, int side, int k) -> Vec3& { return cells[(static_cast<size_t>(f) * 2 + static_cast<size_t>(side)) * kCells + static_cast<size_t>(k)]; };
    for (int f = 0; f < n; ++f)
        for (int s = 0; s < 2; ++s) {
            const FootModel& fm = feet[s];
            for (int k = 0; k < kCells; ++k) {
                const int seg = fm.geo.on_toe[static_cast<size_t>(k)] ? fm.toe : fm.ankle;
                cell(f, s, k) = pos[idx(f, seg)] + rot[idx(f, seg)] * fm.geo.sensor_local[static_cast<size_t>(k)];
            }
        }

    // Ground of the clip: a plane (mocap floors are often slightly tilted) through the lowest cell of
    // each foot while that foot is still, fitted to the lower envelope.
    const Ground ground = fit_ground(cells, n, fps, up);
    // Per foot, how far its sole floats above that ground while it stands still: mocap feet are often
    // calibrated a few centimetres apart (one SNU basketball player's right sole never comes within
    // 4.8 cm of the floor), which would leave that foot without a single stance.
    double foot_lift_m[2] = {0, 0};
    for (int s = 0; s < 2; ++s) {
        std::vector<double> still_low;
        for (int f = 0; f < n; ++f) {
            const int a = std::max(0, f - 1), b = std::min(n - 1, f + 1);
            double low = std::numeric_limits<double>::infinity(), speed = 0;
            for (int k = 0; k < kCells; ++k) {
                const double h = ground.height(cell(f, s, k), up);
                if (h < low) low = h, speed = b > a ? (cell(b, s, k) - cell(a, s, k)).norm() * fps / (b - a) : 0;
            }
            if (speed < 0.25) still_low.push_back(low);
        }
        if (still_low.size() >= 10) foot_lift_m[s] = std::clamp(percentile(still_low, 0.1), 0.0, 0.1);
    }
    auto height = [&](const Vec3& p) { return ground.height(p, up); };

    // Whole-body vertical force and zero-moment point from the centre of mass.
    const std::vector<Vec3> com =
        gaussian_smooth(centre_of_mass(m.skeleton, pos, n), opt.com_smoothing_s * fps);
    const std::vector<Vec3> com_acc = second_derivative(com, fps);

    // Per mocap frame: cell pressures (N/cm², unquantised), IMU (g, deg/s) per foot.
    std::vector<float> pressure(static_cast<size_t>(n) * 2 * kCells, 0.f);
    std::vector<double> body_force(static_cast<size_t>(n)), contact_max[2];
    contact_max[0].assign(static_cast<size_t>(n), 0);
    contact_max[1].assign(static_cast<size_t>(n), 0);
    std::vector<double> contact(static_cast<size_t>(2 * kCells)), sole_low[2];
    sole_low[0].assign(static_cast<size_t>(n), 0);
    sole_low[1].assign(static_cast<size_t>(n), 0);
    for (int f = 0; f < n; ++f) {
        const int a = std::max(0, f - 1), b = std::min(n - 1, f + 1);
        const double dt = b > a ? (b - a) / fps : 1;
        Vec3 centre[2];
        double amount[2] = {0, 0};
        for (int s = 0; s < 2; ++s) {
            Vec3 c = Vec3::Zero();
            double wsum = 0, low = std::numeric_limits<double>::infinity();
            for (int k = 0; k < kCells; ++k) {
                const Vec3& p = cell(f, s, k);
                const double h = height(p) - foot_lift_m[s];
                low = std::min(low, h);
                const double v = b > a ? (cell(b, s, k) - cell(a, s, k)).norm() / dt : 0;
                const double w = ramp_down(h, opt.contact_height_m, opt.contact_band_m) *
                                 ramp_down(v, opt.contact_speed_m_s, opt.contact_speed_band_m_s);
                contact[static_cast<size_t>(s * kCells + k)] = w;
                c += w * p;
                wsum += w;
                amount[s] = std::max(amount[s], w);
            }
            centre[s] = wsum > 0 ? Vec3(c / wsum) : Vec3::Zero();
            contact_max[s][static_cast<size_t>(f)] = amount[s];
            sole_low[s][static_cast<size_t>(f)] = low;
        }
        const Vec3& acc = com_acc[static_cast<size_t>(f)];
        const double a_up = acc.dot(up);
        const double force = std::max(0.0, opt.weight_kg * (kG + a_up));
        body_force[static_cast<size_t>(f)] = force;
        if (force <= 0) continue;
        if (amount[0] + amount[1] <= 0) {
            // The centre of mass says the body is supported but no sole point passed the contact test
            // (at 24/30 fps a planted foot's points can look fast, and a jittery foot high): the lower
            // foot carries the load on its lowest points. Only a ballistic body (force < 0.3 BW: runs,
            // jumps) is in flight, so the force over a gait cycle still averages body weight.
            if (force < 0.3 * opt.weight_kg * kG) continue;
            const int s = sole_low[1][static_cast<size_t>(f)] < sole_low[0][static_cast<size_t>(f)] ? 1 : 0;
            Vec3 c = Vec3::Zero();
            double wsum = 0;
            for (int k = 0; k < kCells; ++k) {
                const Vec3& p = cell(f, s, k);
                const double w = ramp_down(height(p) - foot_lift_m[s] - sole_low[s][static_cast<size_t>(f)], 0.01, 0.02);
                contact[static_cast<size_t>(s * kCells + k)] = w;
                c += w * p;
                wsum += w;
            }
            centre[s] = c / wsum;  // the lowest point itself has weight 1
            amount[s] = 1;
            contact_max[s][static_cast<size_t>(f)] = 1;
        }

        // Zero-moment point of a point mass: where the resultant ground force must act.
        const Vec3& c = com[static_cast<size_t>(f)];
        const double com_height = height(c);
        const Vec3 acc_h = acc - a_up * up;
        Vec3 zmp = c - c.dot(up) * up;
        if (kG + a_up > 0.2 * kG) zmp -= acc_h * (com_height / (kG + a_up));

        // Share between the feet by where the ZMP lies between their supports.
        double share[2] = {amount[0], amount[1]};
        if (amount[0] > 0 && amount[1] > 0) {
            Vec3 d = centre[1] - centre[0];
            d -= d.dot(up) * up;
            double lambda = 0.5;
            if (d.squaredNorm() > 1e-4) lambda = std::clamp((zmp - centre[0]).dot(d) / d.squaredNorm(), 0.0, 1.0);
            share[0] = amount[0] * (1 - lambda);
            share[1] = amount[1] * lambda;
            if (share[0] + share[1] <= 1e-9) share[0] = amount[0], share[1] = amount[1];
        }
        const double share_sum = share[0] + share[1];
        for (int s = 0; s < 2; ++s) {
            const double foot_force = force * share[s] / share_sum;
            if (foot_force <= 0) continue;
            const FootModel& fm = feet[s];
            // ZMP along this foot in the insole's normalised x (heel -0.5 .. toes +0.5).
            const Vec3 heel = pos[idx(f, fm.ankle)] + rot[idx(f, fm.ankle)] * fm.heel_local;
            Vec3 ax = rot[idx(f, fm.ankle)] * fm.geo.x_axis;
            ax -= ax.dot(up) * up;
            double u = 0;
            if (ax.norm() > 1e-6) u = (zmp - heel).dot(ax.normalized()) / fm.geo.length_m - 0.5;
            u = std::clamp(u, -0.45, 0.45);
            double w[kCells], wsum = 0;
            for (int k = 0; k < kCells; ++k) {
                const double dx = layout.x_anterior[static_cast<size_t>(k)] - u;
                w[k] = contact[static_cast<size_t>(s * kCells + k)] * areas[static_cast<size_t>(k)] * kCellLoading[static_cast<size_t>(k)] *
                       std::exp(-0.5 * dx * dx / (kLoadSpreadX * kLoadSpreadX));
                wsum += w[k];
            }
            if (wsum <= 0) continue;
            for (int k = 0; k < kCells; ++k)
                pressure[(static_cast<size_t>(f) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(k)] =
                    static_cast<float>(foot_force * w[k] / wsum / areas[static_cast<size_t>(k)]);
        }
    }

    // IMU per foot: specific force and angular velocity in the insole frame.
    std::vector<Vec3> imu_acc[2], imu_gyro[2];
    for (int s = 0; s < 2; ++s) {
        const FootModel& fm = feet[s];
        std::vector<Vec3> p(static_cast<size_t>(n));
        s2m::QuatVector q(static_cast<size_t>(n));
        for (int f = 0; f < n; ++f) {
            q[static_cast<size_t>(f)] = rot[idx(f, fm.ankle)];
            p[static_cast<size_t>(f)] = pos[idx(f, fm.ankle)] + q[static_cast<size_t>(f)] * fm.imu_local;
        }
        const std::vector<Vec3> acc = second_derivative(gaussian_smooth(p, opt.imu_smoothing_s * fps), fps);
        const std::vector<Vec3> omega = gaussian_smooth(angular_velocity(q, fps), opt.imu_smoothing_s * fps);
        imu_acc[s].resize(static_cast<size_t>(n));
        imu_gyro[s].resize(static_cast<size_t>(n));
        // The IMU's axes on both insoles: x to the toes, z up, y = z × x to the body's left
        // (imu/frames.hpp, as the real exports read). The pressure cells' y is medial instead, which on
        // the left insole is the body's right; an IMU frame mirrored like it would make the left foot
        // turn the wrong way for the orientation filter.
        const Vec3 y_left_local = fm.left ? Vec3(-fm.geo.y_axis) : fm.geo.y_axis;
        // The IMU's mounting in the insole: yaw about the sole's normal, then pitch about its y.
        const Quat mount = Quat(Eigen::AngleAxisd(opt.imu_mount_yaw_deg[static_cast<size_t>(s)] * kPi / 180, fm.geo.z_axis)) *
                           Quat(Eigen::AngleAxisd(opt.imu_mount_pitch_deg[static_cast<size_t>(s)] * kPi / 180, y_left_local));
        const Vec3 x_imu = mount * fm.geo.x_axis, y_imu = mount * y_left_local, z_imu = mount * fm.geo.z_axis;
        for (int f = 0; f < n; ++f) {
            const Quat& qf = q[static_cast<size_t>(f)];
            const Vec3 ex = qf * x_imu, ey = qf * y_imu, ez = qf * z_imu;
            const Vec3 sf = acc[static_cast<size_t>(f)] + kG * up;
            imu_acc[s][static_cast<size_t>(f)] = Vec3(sf.dot(ex), sf.dot(ey), sf.dot(ez)) / kG;
            const Vec3& w = omega[static_cast<size_t>(f)];
            imu_gyro[s][static_cast<size_t>(f)] = (180 / kPi) * Vec3(w.dot(ex), w.dot(ey), w.dot(ez));
        }
    }

    // Resample onto the insole clock: N samples over the same span as the mocap frames.
    const int N = std::max(1, static_cast<int>(std::lround(n * opt.rate_hz / fps)));
    io::MoticonRecording rec;
    rec.source = opt.name;
    rec.header_style = "current";
    rec.insole_size = opt.insole_size;
    rec.rate_hz = opt.rate_hz;
    rec.time_s.resize(static_cast<size_t>(N));
    for (auto& foot : rec.feet) {
        foot.pressure_n_cm2.setZero(N, kCells);
        foot.acceleration_g.setZero(N, 3);
        foot.angular_rate_deg_s.setZero(N, 3);
        foot.total_force_n.setZero(N);
        foot.center_of_pressure.setZero(N, 2);
        foot.valid.assign(static_cast<size_t>(N), 1);
    }
    if (diag) {
        diag->ground_height_m = ground.offset;
        diag->ground_slope = ground.slope_u.norm();
        diag->up = up;
        diag->feet[0] = feet[0].geo;
        diag->feet[1] = feet[1].geo;
        diag->time_s.resize(static_cast<size_t>(N));
        diag->body_force_n.resize(static_cast<size_t>(N));
        diag->contact[0].resize(static_cast<size_t>(N));
        diag->contact[1].resize(static_cast<size_t>(N));
        diag->sole_height_m[0].resize(static_cast<size_t>(N));
        diag->sole_height_m[1].resize(static_cast<size_t>(N));
        diag->com_m.resize(static_cast<size_t>(N));
    }

    const bool noisy = opt.noise == NoiseModel::Realistic;
    std::mt19937_64 rng(opt.seed ^ fnv1a(opt.name));
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    // Per-recording sensor imperfections: accelerometer bias, gyro bias (constant: drift-free), cell gains.
    Vec3 acc_bias[2], gyro_bias[2];
    std::array<double, kCells> gain[2];
    for (int s = 0; s < 2; ++s) {
        acc_bias[s] = noisy ? Vec3(0.015 * normal(rng), 0.015 * normal(rng), 0.015 * normal(rng)) : Vec3::Zero();
        gyro_bias[s] = noisy ? Vec3(1.5 * normal(rng), 1.5 * normal(rng), 1.5 * normal(rng)) : Vec3::Zero();
        for (double& g : gain[s]) g = noisy ? std::max(0.8, 1 + 0.05 * normal(rng)) : 1.0;
    }
    // Radio drop-outs: one insole connects late, and short gaps appear about every 20 s per foot.
    std::vector<unsigned char> missing[2];
    missing[0].assign(static_cast<size_t>(N), 0);
    missing[1].assign(static_cast<size_t>(N), 0);
    if (noisy) {
        const int late = uniform(rng) < 0.5 ? 0 : 1;
        const int delay = static_cast<int>(std::lround((0.2 + 0.5 * uniform(rng)) * opt.rate_hz));
        for (int i = 0; i < std::min(N, delay); ++i) missing[late][static_cast<size_t>(i)] = 1;
        const double p_start = 1.0 / (20.0 * opt.rate_hz);
        for (int s = 0; s < 2; ++s)
            for (int i = 0; i < N; ++i)
                if (uniform(rng) < p_start) {
                    const int len = 1 + static_cast<int>(uniform(rng) * 8);
                    for (int j = i; j < std::min(N, i + len); ++j) missing[s][static_cast<size_t>(j)] = 1;
                }
    }

    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int i = 0; i < N; ++i) {
        const double t = i / opt.rate_hz;
        rec.time_s[static_cast<size_t>(i)] = std::round(t * 1e6) / 1e6;
        const double u = std::min(t * fps, static_cast<double>(n - 1));
        const int f0 = static_cast<int>(std::floor(u));
        const int f1 = std::min(n - 1, f0 + 1);
        const double wt = u - f0;
        auto lerp = [&](double x0, double x1) { return (1 - wt) * x0 + wt * x1; };
        if (diag) {
            diag->time_s[static_cast<size_t>(i)] = t;
            diag->body_force_n[static_cast<size_t>(i)] = lerp(body_force[static_cast<size_t>(f0)], body_force[static_cast<size_t>(f1)]);
            diag->com_m[static_cast<size_t>(i)] = (1 - wt) * com[static_cast<size_t>(f0)] + wt * com[static_cast<size_t>(f1)];
            for (int s = 0; s < 2; ++s) {
                diag->contact[s][static_cast<size_t>(i)] = lerp(contact_max[s][static_cast<size_t>(f0)], contact_max[s][static_cast<size_t>(f1)]);
                diag->sole_height_m[s][static_cast<size_t>(i)] = lerp(sole_low[s][static_cast<size_t>(f0)], sole_low[s][static_cast<size_t>(f1)]);
            }
        }
        for (int s = 0; s < 2; ++s) {
            io::MoticonFoot& foot = rec.feet[s];
            if (missing[s][static_cast<size_t>(i)]) {
                foot.pressure_n_cm2.row(i).setConstant(static_cast<float>(nan));
                foot.acceleration_g.row(i).setConstant(static_cast<float>(nan));
                foot.angular_rate_deg_s.row(i).setConstant(static_cast<float>(nan));
                foot.total_force_n(i) = static_cast<float>(nan);
                foot.center_of_pressure.row(i).setConstant(static_cast<float>(nan));
                foot.valid[static_cast<size_t>(i)] = 0;
                continue;
            }
            float p[kCells];
            for (int k = 0; k < kCells; ++k) {
                const size_t c0 = (static_cast<size_t>(f0) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(k);
                const size_t c1 = (static_cast<size_t>(f1) * 2 + static_cast<size_t>(s)) * kCells + static_cast<size_t>(k);
                double v = lerp(pressure[c0], pressure[c1]);
                if (noisy) v = v * gain[s][static_cast<size_t>(k)] + (v > 0.05 ? 0.12 * normal(rng) : std::abs(0.08 * normal(rng)));
                // The exporter's resolution: 0.25 N/cm².
                p[k] = static_cast<float>(std::max(0.0, std::round(v * 4) / 4));
                foot.pressure_n_cm2(i, k) = p[k];
            }
            const io::ForceCop fc = io::force_and_cop(p, areas, layout);
            foot.total_force_n(i) = static_cast<float>(std::round(fc.force_n));  // whole newtons, as exported
            foot.center_of_pressure(i, 0) = static_cast<float>(fc.cop_x);
            foot.center_of_pressure(i, 1) = static_cast<float>(fc.cop_y);
            const Vec3 acc = (1 - wt) * imu_acc[s][static_cast<size_t>(f0)] + wt * imu_acc[s][static_cast<size_t>(f1)];
            const Vec3 gyro = (1 - wt) * imu_gyro[s][static_cast<size_t>(f0)] + wt * imu_gyro[s][static_cast<size_t>(f1)];
            for (int c = 0; c < 3; ++c) {
                double av = acc[c], gv = gyro[c];
                if (noisy) {
                    av += acc_bias[s][c] + 0.008 * normal(rng);
                    gv += gyro_bias[s][c] + 0.6 * normal(rng);
                }
                // Device resolution: 1/2048 g (±16 g range) and 0.07 deg/s (±2000 deg/s range).
                foot.acceleration_g(i, c) = static_cast<float>(std::round(av * 2048) / 2048);
                foot.angular_rate_deg_s(i, c) = static_cast<float>(std::round(gv / 0.07) * 0.07);
            }
        }
    }

    // Header in the current exporter's style.
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char start[64];
    std::snprintf(start, sizeof start, "%02d.%02d.%04d %02d:%02d:%02d.000", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    rec.header["Start time"] = start;
    rec.header["Duration"] = format_clock(N / opt.rate_hz);
    rec.header["Sensor insoles"] = "Left synthetic, Right synthetic";
    rec.header["Size"] = std::to_string(opt.insole_size);
    rec.header["Recording type"] = "synthetic";
    rec.header["Name"] = opt.name;
    rec.header["Notes"] = opt.notes;
    rec.header["Tag"] = opt.noise == NoiseModel::Realistic ? "synthetic, realistic noise" : "synthetic, no noise";
    return rec;
}

int insole_size_for_foot(double foot_length_m) {
    // Moticon sizes span two EU shoe sizes each (2 x 6.67 mm); size 4 (EU 38/39) fits a 0.243 m foot.
    return std::clamp(static_cast<int>(std::lround(4 + (foot_length_m - 0.243) / 0.01333)), 1, 12);
}

void scale_skeleton(io::Skeleton& skeleton, double factor) {
    for (auto& o : skeleton.offsets_m) o *= factor;
    for (auto& e : skeleton.end_sites_m)
        if (e) *e *= factor;
}

void scale_motion(io::Motion& m, double factor) {
    scale_skeleton(m.skeleton, factor);
    const int J = m.skeleton.size();
    for (int f = 0; f < m.frames; ++f)
        for (int j = 0; j < J; ++j) m.translation(f, j) *= factor;  // the root's position and every joint's offset
}

Variant draw_variant(std::uint64_t seed, const std::string& name, int variant) {
    std::mt19937_64 rng(mix64(seed ^ mix64(name_hash(name) + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(variant + 1))));
    std::uniform_real_distribution<double> u(0, 1);
    Variant v;
    v.height_m = 1.50 + 0.45 * u(rng);
    v.weight_kg = (19 + 11 * u(rng)) * v.height_m * v.height_m;
    const int step = static_cast<int>(std::floor(3 * u(rng))) - 1;  // -1, 0 or +1
    v.insole_size = std::clamp(insole_size_for_foot(kFootLengthPerHeight * v.height_m) + step, 1, 12);
    v.noise_seed = rng();
    for (int foot = 0; foot < 2; ++foot) {
        v.imu_mount_yaw_deg[static_cast<size_t>(foot)] = -5 + 10 * u(rng);
        v.imu_mount_pitch_deg[static_cast<size_t>(foot)] = -5 + 10 * u(rng);
    }
    return v;
}

}  // namespace s2m::synth
