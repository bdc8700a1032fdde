#include "step2motion/model/baselines.hpp"

#include "step2motion/core/error.hpp"

namespace s2m::model {

namespace {
void check_regressor(const RegressorConfig& c) {
    if (c.input_T < 1 || c.hidden_dim < 2 || c.num_layers < 1 || c.n_heads < 1 || c.d_ff < 1 ||
        c.hidden_dim % c.n_heads != 0 || c.hidden_dim % 2 != 0)
        fail_input("regressor config: sizes must be positive, hidden_dim even and divisible by n_heads");
}
void check_window(const torch::Tensor& x, int input_T) {
    if (x.dim() != 3 || x.size(2) != io::kInsoleChannels || x.size(1) > input_T)
        fail_input("regressor input must be [batch, frames <= " + std::to_string(input_T) + ", 50]");
}
}  // namespace

MlpRegressorImpl::MlpRegressorImpl(const RegressorConfig& c) : config(c) {
    check_regressor(c);
    torch::nn::Sequential seq;
    int64_t in = int64_t(c.input_T) * io::kInsoleChannels;
    for (int i = 0; i < c.num_layers; ++i) {
        seq->push_back(Linear(in, c.hidden_dim));
        seq->push_back(torch::nn::GELU());
        seq->push_back(torch::nn::Dropout(c.dropout));
        in = c.hidden_dim;
    }
    seq->push_back(Linear(in, int64_t(c.input_T) * io::kJointValues));
    net = register_module("net", seq);
}

torch::Tensor MlpRegressorImpl::forward(const torch::Tensor& insoles) {
    check_window(insoles, config.input_T);
    const int64_t B = insoles.size(0), S = insoles.size(1);
    auto x = insoles;
    if (S < config.input_T) x = torch::constant_pad_nd(x, {0, 0, 0, config.input_T - S});
    auto y = net->forward(x.reshape({B, -1})).view({B, config.input_T, io::kJointValues});
    return y.narrow(1, 0, S);
}

TransformerRegressorImpl::TransformerRegressorImpl(const RegressorConfig& c) : config(c) {
    check_regressor(c);
    input_emb = register_module("input_emb", Linear(io::kInsoleChannels, c.hidden_dim));
    temporal_pe = register_module("temporal_pe", PositionalEncoding(c.input_T, c.hidden_dim));
    encoder = register_module("encoder", EncoderStack(c.num_layers, c.hidden_dim, c.n_heads, c.d_ff, c.dropout));
    output = register_module("output", Linear(c.hidden_dim, io::kJointValues));
}

torch::Tensor TransformerRegressorImpl::forward(const torch::Tensor& insoles) {
    check_window(insoles, config.input_T);
    return output(encoder(input_emb(insoles) + temporal_pe->rows(insoles.size(1))));
}

torch::Tensor double_integration_displacement(const torch::Tensor& insoles, double rate_hz) {
    if (insoles.dim() != 2 || insoles.size(1) != io::kInsoleChannels)
        fail_input("double integration: insole frames must be [frames, 50]");
    if (!(rate_hz > 0)) fail_input("double integration: rate must be positive");
    constexpr double kG = 9.80665;
    const double dt = 1.0 / rate_hz;
    auto acc = 0.5 * (insoles.narrow(1, io::kAccOffset, 3) + insoles.narrow(1, io::kRightFootOffset + io::kAccOffset, 3));
    acc = acc.to(torch::kDouble) * kG;  // m/s²
    // Semi-implicit Euler: v_k = v_{k-1} + a_k·dt, d_k = v_k·dt  ⇔ d = cumsum(a)·dt².
    auto vel = torch::cumsum(acc, 0) * dt;
    return (vel * dt).to(torch::kFloat);
}

}  // namespace s2m::model
