#pragma once
// Foot contacts from pressure: while an insole is loaded, its foot is held where it stands in the
// output (no skating), the knee found again by two-bone IK with the predicted knee as pole, and the
// hold blended in and out over a few frames so that no pop appears.
#include <Eigen/Core>

#include "step2motion/infer/inputs.hpp"

namespace s2m::infer {

struct ContactOptions {
    int blend_frames = 3;  // frames over which a hold fades in at stance onset and out at its end
};

// poses: F x 66 (root displacement + 21 root-relative joints, world-oriented), the sequence's root
// already chosen (apply_root). Stances from each insole's total force (imu::stance_from_force).
void lock_foot_contacts(Eigen::MatrixXf& poses, const InsoleSequence& input, const ContactOptions& options = {});

}  // namespace s2m::infer
