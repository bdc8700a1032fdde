#include "step2motion/eval/tune.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "step2motion/core/error.hpp"
#include "step2motion/eval/metrics.hpp"

namespace s2m::eval {

std::vector<SamplerTrial> choose_sampling_defaults(model::ModelBundle& model, const std::vector<infer::InsoleSequence>& clips,
                                                   const TuneOptions& o, const std::string& description) {
    if (!model.is_diffusion()) fail_input("choosing sampler settings: only diffusion models sample");
    if (clips.empty()) fail_input("choosing sampler settings: no clips with ground truth");
    for (const auto& c : clips)
        if (c.poses.rows() != c.frames()) fail_input(c.source, 0, "clip " + c.name + " has no ground-truth poses");
    std::vector<SamplerTrial> trials;
    for (int samples : o.samples)
        for (int steps : o.fast_steps) trials.push_back({"fast", steps, samples});
    if (o.include_ddpm) trials.push_back({"ddpm", 0, 1});
    // Cheapest first (denoiser passes per window), so that a tie keeps the cheaper setting.
    auto passes = [&](const SamplerTrial& t) { return (t.sampler == "ddpm" ? model.config.diffusion_T : t.steps) * t.samples; };
    std::stable_sort(trials.begin(), trials.end(), [&](const SamplerTrial& a, const SamplerTrial& b) { return passes(a) < passes(b); });
    std::vector<MotionSequence> truth;
    for (const auto& c : clips) {
        const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> p = c.poses;
        truth.push_back(from_pose_frames(p.data(), c.frames(), c.rate_hz));
    }
    // Scored with the body drawn as reconstruct and evaluate draw it by default for this model: at the
    // clip's size or at the model's.
    const bool wearer_size = infer::with_model_defaults(o.base, model, {true, true, true, true, false}).wearer_size;
    const SamplerTrial* best = nullptr;
    for (auto& t : trials) {
        infer::ReconstructOptions ro = o.base;
        ro.sampler = t.sampler;
        ro.steps = t.steps;
        ro.samples = t.samples;
        ro.root = "network";  // root-relative joints do not depend on the root
        ro.foot_contacts = false;
        ro.wearer_size = wearer_size;
        ro.details = false;
        ro.progress = false;
        const auto start = std::chrono::steady_clock::now();
        const auto rec = infer::reconstruct(model, clips, ro);
        t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        MetricSet m;
        for (size_t c = 0; c < clips.size(); ++c) {
            const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> p = rec[c].poses;
            accumulate_metrics(from_pose_frames(p.data(), clips[c].frames(), clips[c].rate_hz), truth[c], m);
        }
        t.mpjpe_legs_cm = m["MPJPE_Legs_cm"].mean();
        t.mpjpe_cm = m["MPJPE_cm"].mean();
        spdlog::info("sampler {} steps {} samples {}: MPJPE_Legs {:.2f} cm, MPJPE {:.2f} cm ({:.1f} s)", t.sampler,
                     t.steps > 0 ? std::to_string(t.steps) : "all", t.samples, t.mpjpe_legs_cm, t.mpjpe_cm, t.seconds);
        // Lowest leg error; on a tie (within 0.005 cm, the printed rounding) the cheaper one.
        if (!best || t.mpjpe_legs_cm < best->mpjpe_legs_cm - 0.005) best = &t;
    }
    model.sampling.sampler = best->sampler;
    model.sampling.steps = best->steps;
    model.sampling.samples = best->samples;
    model.sampling.val_mpjpe_legs_cm = best->mpjpe_legs_cm;
    model.sampling.chosen_on = description;
    return trials;
}

}  // namespace s2m::eval
