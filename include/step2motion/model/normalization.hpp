#pragma once
// Per-channel statistics the networks' inputs and outputs are normalised with (reference §2): those
// of the training split, stored in the model file beside the weights.
#include <vector>

namespace s2m::model {

struct Normalization {
    std::vector<float> pose_mean, pose_std;      // 66: root displacement + 21 root-relative joints
    std::vector<float> insole_mean, insole_std;  // 50: the insole frame
};

}  // namespace s2m::model
