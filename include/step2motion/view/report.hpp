#pragma once
// report.html of `s2m evaluate`: the metrics table, per-joint and per-clip error bars, error over time
// for the worst clips, training curves from each model's train_log.jsonl (plots as inline SVG), and
// embedded players of the worst clips. One self-contained file.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "step2motion/eval/evaluate.hpp"

namespace s2m::view {

// Inline SVG plots (no script needed to see them).
struct Series {
    std::string label, colour;
    std::vector<double> x, y;  // same length; non-finite points are left out
};
std::string svg_line_plot(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<Series>& series, int width = 900, int height = 240);
// Horizontal grouped bars: one group per category, one bar per series (values[series][category]).
std::string svg_bar_chart(const std::string& title, const std::string& unit, const std::vector<std::string>& categories,
                          const std::vector<Series>& series);

struct ReportOptions {
    int worst_clips = 3;        // clips (by the first model's MPJPE) with error curves and players
    std::string description;    // one line under the title (data, split, sampler)
};
std::string report_html(const nlohmann::json& metrics, const eval::EvaluationDetails& details, const ReportOptions& options = {});
// Writes `dir`/report.html (atomic).
void write_report_html(const std::string& dir, const nlohmann::json& metrics, const eval::EvaluationDetails& details,
                       const ReportOptions& options = {});

}  // namespace s2m::view
