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
    // Also score the first model's poses with the root from double integration of foot acceleration.
    bool double_integration = false;
};

// {"<model folder name>": {"overall": {"MPJPE_cm": {"mean":…, "std":…}, …}, "clips": {"<clip>": {…}}}, …}
nlohmann::json evaluate_models(const EvaluateOptions& options);

// metrics.json, metrics.csv, table.tex under `dir` (atomic writes).
void write_report(const std::string& dir, const nlohmann::json& metrics);
std::string latex_table(const nlohmann::json& metrics);

}  // namespace s2m::eval
