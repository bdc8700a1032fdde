#pragma once
// Foot contacts from pressure: while an insole is loaded, its foot is held where it stands along the
// ground in the output (no skating; its height stays the prediction's), the knee found again by
// two-bone IK with the predicted knee as pole. Between stances the shift moves from one hold to the
// next in a straight line, so that no pop appears.
#include <Eigen/Core>

#include "step2motion/infer/inputs.hpp"

namespace s2m::infer {

struct ContactOptions {
    double max_swing_s = 0.8;  // longer gaps between two stances are not one swing: the hold fades out
    double fade_s = 0.2;       // over this time, away from a stance, where no next stance takes over
};

// poses: F x 66 (root displacement + 21 root-relative joints, world-oriented), the sequence's root
// already chosen (apply_root). Stances from each insole's total force (imu::stance_from_force).
void lock_foot_contacts(Eigen::MatrixXf& poses, const InsoleSequence& input, const ContactOptions& options = {});

}  // namespace s2m::infer
