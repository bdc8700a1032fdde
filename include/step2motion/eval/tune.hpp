#pragma once
// The sampler settings a diffusion model should use by default: every candidate (fast sampler with
// 1-20 steps, one sample or the mean of 8; the 200-step ancestral sampler) scored on clips with
// ground truth (the validation split), the lowest MPJPE_Legs kept in the model (model::SamplingDefaults).
#include <string>
#include <vector>

#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/model/bundle.hpp"

namespace s2m::eval {

struct SamplerTrial {
    std::string sampler;
    int steps = 0, samples = 1;
    double mpjpe_legs_cm = 0, mpjpe_cm = 0, seconds = 0;
};

struct TuneOptions {
    std::vector<int> fast_steps{1, 2, 5, 10, 20};
    std::vector<int> samples{1, 8};
    bool include_ddpm = true;             // one sample of the full ancestral sampler
    infer::ReconstructOptions base;       // seed, precision, device (sampler, steps, samples are set here)
};

// Scores every candidate on `clips` (each must carry ground-truth poses) and stores the best in
// `model.sampling` (chosen_on = `description`). Returns the trials in the order run.
std::vector<SamplerTrial> choose_sampling_defaults(model::ModelBundle& model, const std::vector<infer::InsoleSequence>& clips,
                                                   const TuneOptions& options, const std::string& description);

}  // namespace s2m::eval
