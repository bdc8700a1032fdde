#include "step2motion/model/root_net.hpp"

#include "step2motion/core/error.hpp"

namespace s2m::model {

torch::Tensor imu_channels(const torch::Tensor& insoles) {
    return torch::cat({insoles.narrow(-1, io::kAccOffset, 6), insoles.narrow(-1, io::kRightFootOffset + io::kAccOffset, 6)}, -1);
}

RootNetImpl::RootNetImpl(const ModelConfig& c) : config(c) {
    if (auto why = c.check(); !why.empty()) fail_input("model config: " + why);
    const int64_t d = c.hidden_dim;
    normalizer_id = register_buffer("normalizer_id", normalizer_id_buffer());
    temporal_pe = register_module("temporal_pe", PositionalEncoding(c.input_T, c.hidden_dim));
    input_emb = register_module("input_emb", mlp({io::kImuChannels, d, d}));
    encoder = register_module("encoder", EncoderStack(c.root_layers, c.hidden_dim, c.n_heads, c.d_ff, c.dropout));
    linear = register_module("linear", Linear(d, io::kRootValues));
}

torch::Tensor RootNetImpl::forward(const torch::Tensor& insoles) {
    if (insoles.dim() != 3 || insoles.size(2) != io::kInsoleChannels)
        fail_input("insole window must be [batch, frames, 50], got " + std::to_string(insoles.dim()) + "-d tensor");
    return forward_imu(imu_channels(insoles));
}

torch::Tensor RootNetImpl::forward_imu(const torch::Tensor& imu) {
    auto x = input_emb->forward(imu) + temporal_pe->rows(imu.size(1));
    return linear(encoder(x));
}

torch::Tensor translation_loss(const torch::Tensor& pred, const torch::Tensor& target, double lambda) {
    namespace F = torch::nn::functional;
    return F::mse_loss(pred, target) + lambda * F::mse_loss(torch::cumsum(pred, 1), torch::cumsum(target, 1));
}

}  // namespace s2m::model
