#pragma once
// Yaw turns of pose and insole tensors about world up (Y), one angle per row: the training's yaw
// augmentation and the heading-frame representation (model::Representation::Heading), where each
// window's poses, root displacements and foot accelerations are turned into the frame of the feet's
// mean heading (imu::window_heading_rad) and the output is turned back to world.
#include <torch/torch.h>

namespace s2m::model {

// values [B, ..., 3k] (xyz triples in the last dimension), angle_rad [B]: every triple of row b
// turned by angle_rad[b] (positive turns +Z towards +X, i.e. adds to a heading). A new tensor.
torch::Tensor turn_about_up(const torch::Tensor& values, const torch::Tensor& angle_rad);
// insoles [B, L, 50]: the two world-frame acceleration triples turned, every other channel kept
// (angular rates stay in the insole frame). A new tensor.
torch::Tensor turn_insole_accelerations(const torch::Tensor& insoles, const torch::Tensor& angle_rad);

}  // namespace s2m::model
