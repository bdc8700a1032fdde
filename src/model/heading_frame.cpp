#include "step2motion/model/heading_frame.hpp"

#include "step2motion/io/moticon.hpp"

namespace s2m::model {

torch::Tensor turn_about_up(const torch::Tensor& values, const torch::Tensor& angle_rad) {
    const int64_t B = values.size(0);
    TORCH_CHECK(values.size(-1) % 3 == 0, "turn_about_up: the last dimension must hold xyz triples");
    TORCH_CHECK(angle_rad.numel() == B, "turn_about_up: one angle per row");
    const auto v = values.reshape({B, -1, 3});
    const auto a = angle_rad.to(v.options()).view({B, 1});
    const auto c = a.cos(), s = a.sin();
    const auto x = v.select(2, 0), y = v.select(2, 1), z = v.select(2, 2);
    return torch::stack({c * x + s * z, y, c * z - s * x}, 2).view(values.sizes());
}

torch::Tensor turn_insole_accelerations(const torch::Tensor& insoles, const torch::Tensor& angle_rad) {
    auto out = insoles.clone();
    for (int foot = 0; foot < 2; ++foot) {
        auto acc = out.narrow(2, foot * io::kFootChannels + io::kAccOffset, 3);
        acc.copy_(turn_about_up(acc, angle_rad));
    }
    return out;
}

}  // namespace s2m::model
