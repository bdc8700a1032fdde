#pragma once
// The wearer's size. Insoles say little about how tall their wearer is, so a model draws the body at a
// size it learned from its training people (on snu-woody2 never seen: feet 5.7 cm too high, head
// 5.2 cm too low). Where the wearer's size is known (a skeleton, or a standing height), the predicted
// body is scaled about the root so that its legs have the wearer's length.
#include <Eigen/Core>

namespace s2m::infer {

// Thigh + shin (kin::leg_length_m of a skeleton), mean over frames and both legs, of F x 66 poses
// (root displacement + 21 root-relative joints); 0 for no frames.
double predicted_leg_length_m(const Eigen::MatrixXf& poses);
// Scales the 21 root-relative joints of F x 66 poses so that their mean thigh + shin is leg_length_m;
// the root displacements stay (the root's path is measured, not drawn). Returns the factor (1 where
// the poses have no legs to measure).
double scale_to_wearer(Eigen::MatrixXf& poses, double leg_length_m);

}  // namespace s2m::infer
