#pragma once
// `s2m evaluate`: models against the ground truth of a dataset file's clips, over several sampling
// seeds; metrics.json, metrics.csv and a LaTeX table in the layout of the paper's Table 1.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "step2motion/infer/reconstruct.hpp"

namespace s2m::eval {

struct EvaluateOptions {
    std::vector<std::string> models;   // model folders
    std::string data, split = "test";
    int seeds = 1;
    infer::ReconstructOptions reconstruct;
    infer::SamplerChoice given;        // what the user set; the rest from each model's stored settings
    // Also score the first model's poses with each of these roots (infer::root_modes(): zupt, fused,
    // double_integration, network), as "<model>+<root>".
    std::vector<std::string> compare_roots;
};

// What the HTML report shows beyond metrics.json: per-joint and per-frame errors, and the first seed's
// reconstructions for its players.
struct ModelDetails {
    std::string name, dir;                       // metrics.json key, model folder
    std::vector<double> joint_error_cm;          // 21 body joints: mean over frames, clips and seeds
    std::vector<std::vector<float>> frame_error_cm;  // per clip, per frame: MPJPE over 21 joints, mean over seeds
    std::vector<Eigen::MatrixXf> poses;          // per clip: the first seed's F x 66 poses
};
struct EvaluationDetails {
    std::vector<infer::InsoleSequence> clips;    // inputs with ground truth, in evaluation order
    std::vector<ModelDetails> models;            // in --model order (double integration not repeated)
};

// {"<model folder name>": {"overall": {"MPJPE_cm": {"mean":…, "std":…}, …}, "clips": {"<clip>": {…}}}, …}
// `details` (optional) receives what the HTML report needs.
nlohmann::json evaluate_models(const EvaluateOptions& options, EvaluationDetails* details = nullptr);

// metrics.json, metrics.csv, table.tex under `dir` (atomic writes).
void write_report(const std::string& dir, const nlohmann::json& metrics);
std::string latex_table(const nlohmann::json& metrics);

}  // namespace s2m::eval
