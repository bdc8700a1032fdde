#pragma once
// Hyper-parameters of the Step2Motion networks (reference §4-7). Plain struct: no torch here, so that
// the CLI and the training code can read and print it without pulling LibTorch in.
#include <string>

#include "step2motion/io/channels.hpp"

namespace s2m::model {

// How the pose tokens read the insole embeddings.
enum class CrossAttentionKind {
    PerComponent,  // Step2Motion: 8 heads, head i attends only to component i
    Standard,      // ablation "w/o insole MHA": every head attends to all 8·S insole tokens
};

// Which insole components feed the conditioning network (ablations of Table 2/3). Components left
// out get a zero embedding (as a dropped condition does), so only the temporal encoding remains.
enum class ConditionInputs { All, PressureOnly, ImuOnly };

struct ModelConfig {
    int hidden_dim = 256;   // d
    int num_layers = 2;     // denoiser layers (each with one insole cross-attention block)
    int n_heads = 4;        // self-attention heads (denoiser and root network)
    int d_ff = 512;         // feed-forward width
    int input_T = 100;      // window length W in frames
    int diffusion_T = 200;  // diffusion steps T
    int root_layers = 1;    // root Transformer encoder layers: 1 in the code, 2 in the paper
    double dropout = 0.1;
    CrossAttentionKind cross_attention = CrossAttentionKind::PerComponent;
    ConditionInputs condition_inputs = ConditionInputs::All;
    // Not in the reference (false = the reference's attention): each cross-attention head gets a
    // learnable penalty on the frame distance between a pose token and an insole token, so that a
    // frame reads the insoles around it from the first step instead of having to learn that
    // alignment from the temporal encodings alone.
    bool cross_attention_locality = false;
    // Not in the reference (false = its schedule): the linear β schedule rescaled so that ᾱ_T = 0
    // (Lin et al., "Common diffusion noise schedules and sample steps are flawed", 2024). With T = 200
    // and β up to 0.02 the reference's x_T still holds 0.36·x₀, so training never shows the network
    // the pure noise sampling starts from, and it learns to read x_t instead of the insoles.
    bool zero_terminal_snr = false;
    // Not in the reference (0 = its conditioning): Transformer encoder layers (post-LN, n_heads, d_ff)
    // run over each insole component's own token sequence before the cross-attention, so that a
    // token carries its component's context in time (gait phase, heading, speed) and not one frame
    // only. Weights are shared by the 8 components; tokens never mix components, so every
    // cross-attention head still reads one component. Computed once per window at inference.
    int insole_encoder_layers = 0;
    static constexpr int kMaxInsoleEncoderLayers = 16;

    // Rows of the denoiser's sinusoidal table: it serves both frames and diffusion steps.
    int prior_pe_rows() const { return input_T > diffusion_T + 1 ? input_T : diffusion_T + 1; }
    // Empty when consistent, else a one-line reason (e.g. "hidden_dim 30 is not divisible by 8").
    std::string check() const;
    bool operator==(const ModelConfig& o) const;
    bool operator!=(const ModelConfig& o) const { return !(*this == o); }
};

std::string to_string(CrossAttentionKind k);
std::string to_string(ConditionInputs c);
// Parse the names above; InputError naming `what` on an unknown value.
CrossAttentionKind parse_cross_attention(const std::string& s, const std::string& what = "cross_attention");
ConditionInputs parse_condition_inputs(const std::string& s, const std::string& what = "condition_inputs");

// JSON text (one object, every field) and back. from_json: InputError "<source>: ..." on a missing or
// mistyped field, and on an inconsistent configuration.
std::string config_to_json(const ModelConfig& c);
ModelConfig config_from_json(const std::string& json_text, const std::string& source);
// First differing field as "hidden_dim: 32 vs 256", empty when equal.
std::string config_difference(const ModelConfig& a, const ModelConfig& b);

}  // namespace s2m::model
