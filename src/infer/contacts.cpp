#include "step2motion/infer/contacts.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "step2motion/core/error.hpp"
#include "step2motion/imu/zupt.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/kinematics/canonical.hpp"

namespace s2m::infer {

namespace {

using Vec3 = Eigen::Vector3d;

// Column of canonical joint j (1..21) in a 66-value frame.
int column(int joint) { return 3 + 3 * (joint - 1); }

// Knee for a hip, an ankle target and the bone lengths, in the plane of the predicted knee.
Vec3 two_bone_knee(const Vec3& hip, Vec3& ankle, const Vec3& knee_pole, double thigh_m, double shin_m) {
    Vec3 to = ankle - hip;
    double d = to.norm();
    const double lo = std::abs(thigh_m - shin_m) + 1e-4, hi = thigh_m + shin_m - 1e-4;
    if (d < 1e-9) return knee_pole;
    const Vec3 u = to / d;
    if (d > hi || d < lo) {  // out of reach: the ankle goes as far as the leg allows
        d = std::clamp(d, lo, hi);
        ankle = hip + u * d;
    }
    const double a = (thigh_m * thigh_m - shin_m * shin_m + d * d) / (2 * d);
    const double h = std::sqrt(std::max(0.0, thigh_m * thigh_m - a * a));
    Vec3 pole = (knee_pole - hip) - (knee_pole - hip).dot(u) * u;
    if (pole.norm() < 1e-9) pole = u.unitOrthogonal();
    return hip + a * u + h * pole.normalized();
}

}  // namespace

void lock_foot_contacts(Eigen::MatrixXf& poses, const InsoleSequence& input, const ContactOptions& o) {
    const int F = input.frames();
    if (poses.rows() != F || poses.cols() != io::kRootAndJointValues || input.insoles.cols() != io::kInsoleChannels)
        fail_input(input.source, 0, "foot contacts: poses and insoles differ in shape");
    if (F < 2) return;
    // World positions of the root (from the origin: only differences matter here).
    const std::vector<Vec3> root = positions_from_poses(poses, Vec3::Zero()).root_m;
    auto joint = [&](int f, int j) { return Vec3(poses.block<1, 3>(f, column(j)).cast<double>().transpose()); };
    auto set_joint = [&](int f, int j, const Vec3& p) { poses.block<1, 3>(f, column(j)) = p.transpose().cast<float>(); };
    for (int foot = 0; foot < 2; ++foot) {
        const int up_leg = foot == 0 ? kin::LeftUpLeg : kin::RightUpLeg, knee = up_leg + 1, ankle = up_leg + 2, toe = up_leg + 3;
        const auto stance = imu::stance_from_force(input.insoles.col(foot * io::kFootChannels + io::kForceOffset), {}, input.rate_hz);
        // Per frame, how far the foot moves; in a stance, onto the toe's mean world position over it
        // along the ground (the prediction's own guess of where the foot stands). Outside stances: below.
        std::vector<Vec3> shift(static_cast<size_t>(F), Vec3::Zero());
        std::vector<std::pair<int, int>> stances;
        for (int f = 0; f < F;) {
            if (!stance[static_cast<size_t>(f)]) {
                ++f;
                continue;
            }
            int end = f;
            while (end < F && stance[static_cast<size_t>(end)]) ++end;
            Vec3 held = Vec3::Zero();
            for (int k = f; k < end; ++k) held += root[static_cast<size_t>(k)] + joint(k, toe);
            held /= end - f;
            for (int k = f; k < end; ++k) {
                shift[static_cast<size_t>(k)] = held - (root[static_cast<size_t>(k)] + joint(k, toe));
                // Only along the ground: the height stays the prediction's. A vertical hold, carried
                // across the swing to the next stance, pulled swinging toes down to the floor, where
                // they counted as skating (README, "Foot contacts": a skating ratio of 0.206 against
                // 0.132 on people never seen).
                shift[static_cast<size_t>(k)].y() = 0;
            }
            stances.emplace_back(f, end);
            f = end;
        }
        if (stances.empty()) continue;
        // Between two stances up to a swing apart, the shift goes from the one to the next in a
        // straight line; across a longer gap (a jump, sitting, a dead insole) and at the clip's ends it
        // fades to none over `fade` frames from the stance's edge.
        const int max_gap = std::max(2, static_cast<int>(std::lround(o.max_swing_s * input.rate_hz)));
        const int fade = std::max(1, static_cast<int>(std::lround(o.fade_s * input.rate_hz)));
        auto fade_from = [&](int edge, int from, int to, int step) {  // frames from..to (exclusive), away from edge
            for (int k = from; k != to; k += step) {
                const double w = std::max(0.0, 1.0 - std::abs(k - edge) / double(fade));
                shift[static_cast<size_t>(k)] = w * shift[static_cast<size_t>(edge)];
            }
        };
        fade_from(stances.front().first, stances.front().first - 1, -1, -1);
        fade_from(stances.back().second - 1, stances.back().second, F, 1);
        for (size_t i = 0; i + 1 < stances.size(); ++i) {
            const int a = stances[i].second - 1, b = stances[i + 1].first;
            if (b - a - 1 <= max_gap) {
                for (int k = a + 1; k < b; ++k)
                    shift[static_cast<size_t>(k)] = shift[static_cast<size_t>(a)] + (shift[static_cast<size_t>(b)] - shift[static_cast<size_t>(a)]) * (double(k - a) / (b - a));
            } else {
                const int middle = (a + b) / 2;
                fade_from(a, a + 1, middle + 1, 1);
                fade_from(b, b - 1, middle, -1);
            }
        }
        for (int k = 0; k < F; ++k) {
            const Vec3 hip = joint(k, up_leg), knee_p = joint(k, knee), ankle_p = joint(k, ankle);
            Vec3 ankle_t = ankle_p + shift[static_cast<size_t>(k)];
            const Vec3 knee_t = two_bone_knee(hip, ankle_t, knee_p, (knee_p - hip).norm(), (ankle_p - knee_p).norm());
            const Vec3 moved = ankle_t - ankle_p;  // the shift the leg could reach
            set_joint(k, knee, knee_t);
            set_joint(k, ankle, ankle_t);
            set_joint(k, toe, joint(k, toe) + moved);
        }
    }
}

}  // namespace s2m::infer
