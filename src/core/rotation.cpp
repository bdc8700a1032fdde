#include "step2motion/core/rotation.hpp"

#include <cmath>

#include "step2motion/core/error.hpp"

namespace s2m {

namespace {
constexpr double kDeg = M_PI / 180.0;
double wrap180(double a) {
    a = std::fmod(a + 180.0, 360.0);
    if (a < 0) a += 360.0;
    return a - 180.0;
}
}  // namespace

AxisOrder axis_order(const std::string& letters) {
    if (letters.size() != 3) fail_input("axis order '" + letters + "': expected three letters such as ZXY");
    AxisOrder o{};
    for (int i = 0; i < 3; ++i) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(letters[static_cast<size_t>(i)])));
        if (c < 'X' || c > 'Z') fail_input("axis order '" + letters + "': expected letters X, Y, Z");
        o[static_cast<size_t>(i)] = c - 'X';
    }
    if (o[0] == o[1] || o[1] == o[2] || o[0] == o[2])
        fail_input("axis order '" + letters + "': expected three different axes");
    return o;
}

std::string axis_order_name(const AxisOrder& order) {
    std::string s;
    for (int a : order) s += static_cast<char>('X' + a);
    return s;
}

Eigen::Quaterniond axis_angle_deg(int axis, double degrees) {
    return Eigen::Quaterniond(Eigen::AngleAxisd(degrees * kDeg, Eigen::Vector3d::Unit(axis)));
}

Eigen::Quaterniond euler_to_quat_deg(const Eigen::Vector3d& angles_deg, const AxisOrder& order) {
    return axis_angle_deg(order[0], angles_deg[0]) * axis_angle_deg(order[1], angles_deg[1]) *
           axis_angle_deg(order[2], angles_deg[2]);
}

Eigen::Vector3d quat_to_euler_deg(const Eigen::Quaterniond& q, const AxisOrder& order) {
    const Eigen::Matrix3d R = q.normalized().toRotationMatrix();
    const int i = order[0], j = order[1], k = order[2];
    // +1 when (i, j, k) is a cyclic permutation of (x, y, z).
    const double s = ((j - i + 3) % 3 == 1) ? 1.0 : -1.0;
    double sb = std::clamp(s * R(i, k), -1.0, 1.0);
    double a, b = std::asin(sb), c;
    if (std::abs(sb) < 1.0 - 1e-12) {
        a = std::atan2(-s * R(j, k), R(k, k));
        c = std::atan2(-s * R(i, j), R(i, i));
    } else {
        // Gimbal lock: only a +/- c is defined; put it all on a.
        c = 0;
        a = std::atan2(s * R(k, j), R(j, j));
    }
    return Eigen::Vector3d(a, b, c) / kDeg;
}

Eigen::Vector3d quat_to_euler_deg_near(const Eigen::Quaterniond& q, const AxisOrder& order,
                                       const Eigen::Vector3d& previous) {
    Eigen::Vector3d e1 = quat_to_euler_deg(q, order);
    // The other Tait-Bryan solution: (a + 180, 180 - b, c + 180).
    Eigen::Vector3d e2(e1[0] + 180.0, 180.0 - e1[1], e1[2] + 180.0);
    auto unwrap = [&](Eigen::Vector3d e) {
        for (int a = 0; a < 3; ++a) e[a] = previous[a] + wrap180(e[a] - previous[a]);
        return e;
    };
    e1 = unwrap(e1);
    e2 = unwrap(e2);
    return (e1 - previous).squaredNorm() <= (e2 - previous).squaredNorm() ? e1 : e2;
}

Eigen::Quaterniond shortest_arc(const Eigen::Vector3d& from, const Eigen::Vector3d& to) {
    const double nf = from.norm(), nt = to.norm();
    if (nf < 1e-12 || nt < 1e-12) return Eigen::Quaterniond::Identity();
    return Eigen::Quaterniond::FromTwoVectors(from / nf, to / nt);
}

Eigen::Quaterniond slerp(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b, double t) {
    return a.slerp(t, b);  // Eigen takes the shorter path
}

}  // namespace s2m
