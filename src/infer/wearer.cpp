#include "step2motion/infer/wearer.hpp"

#include "step2motion/core/error.hpp"
#include "step2motion/kinematics/canonical.hpp"

namespace s2m::infer {

namespace {

// Column of canonical joint j (1..21) in a 66-value frame; the root (0) is at the origin.
Eigen::Vector3f joint(const Eigen::MatrixXf& poses, int f, int j) {
    if (j == kin::Hips) return Eigen::Vector3f::Zero();
    const int c = 3 + 3 * (j - 1);
    return Eigen::Vector3f(poses(f, c), poses(f, c + 1), poses(f, c + 2));
}

constexpr int kLegs[2][3] = {{kin::LeftUpLeg, kin::LeftLeg, kin::LeftFoot}, {kin::RightUpLeg, kin::RightLeg, kin::RightFoot}};

}  // namespace

double predicted_leg_length_m(const Eigen::MatrixXf& poses) {
    const int F = static_cast<int>(poses.rows());
    if (F == 0) return 0;
    if (poses.cols() != 66) fail_input("wearer size: expected 66 values per frame, found " + std::to_string(poses.cols()));
    double sum = 0;
    for (int f = 0; f < F; ++f)
        for (const auto& leg : kLegs)
            sum += (joint(poses, f, leg[1]) - joint(poses, f, leg[0])).norm() + (joint(poses, f, leg[2]) - joint(poses, f, leg[1])).norm();
    return sum / (2.0 * F);
}

double scale_to_wearer(Eigen::MatrixXf& poses, double leg_length_m) {
    if (!(leg_length_m > 0)) fail_input("wearer size: the leg length must be positive, found " + std::to_string(leg_length_m));
    const double predicted = predicted_leg_length_m(poses);
    if (!(predicted > 1e-6)) return 1;
    const double factor = leg_length_m / predicted;
    poses.rightCols(poses.cols() - 3) *= static_cast<float>(factor);
    return factor;
}

}  // namespace s2m::infer
