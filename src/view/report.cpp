#include "step2motion/view/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "step2motion/core/files.hpp"
#include "step2motion/eval/metrics.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/view/page.hpp"

namespace s2m::view {

namespace fs = std::filesystem;

namespace {

std::string num(double v, int digits = 3) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}
std::string fixed(double v, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// About `n` round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int n = 5) {
    if (!(hi > lo)) hi = lo + 1;
    const double raw = (hi - lo) / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    std::vector<double> t;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) t.push_back(std::abs(v) < 1e-12 * step ? 0 : v);
    return t;
}

// metrics[a][b]... as a number, NaN where any key is missing (metrics is const: no operator[] inserts).
double metric_at(const nlohmann::json& j, std::initializer_list<std::string> keys) {
    const nlohmann::json* p = &j;
    for (const auto& k : keys) {
        if (!p->is_object() || !p->contains(k)) return NAN;
        p = &(*p)[k];
    }
    return p->is_number() ? p->get<double>() : NAN;
}

}  // namespace

std::string svg_line_plot(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<Series>& series, int width, int height) {
    const double left = 62, right = 150, top = 26, bottom = 38;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (const auto& s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                x0 = std::min(x0, s.x[i]);
                x1 = std::max(x1, s.x[i]);
                y0 = std::min(y0, s.y[i]);
                y1 = std::max(y1, s.y[i]);
            }
    std::ostringstream o;
    o << "<svg class=\"s2m-plot" << (width < 600 ? " small" : "") << "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << width << " " << height << "\" width=\""
      << width << "\" height=\"" << height << "\">\n";
    o << "<text class=\"title\" x=\"" << left << "\" y=\"16\">" << html_escape(title) << "</text>\n";
    if (!std::isfinite(x0)) {
        o << "<text x=\"" << left << "\" y=\"" << height / 2 << "\">no data</text>\n</svg>\n";
        return o.str();
    }
    if (y0 >= 0 && y0 < 0.35 * y1) y0 = 0;  // errors and losses: from zero unless that squashes the curve
    if (!(x1 > x0)) x1 = x0 + 1;
    if (!(y1 > y0)) y1 = y0 + (y0 == 0 ? 1 : std::abs(y0) * 0.1);
    const double pw = width - left - right, ph = height - top - bottom;
    auto X = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
    auto Y = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * ph; };
    for (double t : ticks(y0, y1, 4)) {
        o << "<line class=\"gridline\" x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << fixed(Y(t), 1) << "\" y2=\""
          << fixed(Y(t), 1) << "\"/>";
        o << "<text x=\"" << left - 5 << "\" y=\"" << fixed(Y(t) + 4, 1) << "\" text-anchor=\"end\">" << num(t, 4) << "</text>\n";
    }
    for (double t : ticks(x0, x1, 6))
        o << "<text x=\"" << fixed(X(t), 1) << "\" y=\"" << top + ph + 14 << "\" text-anchor=\"middle\">" << num(t, 5) << "</text>\n";
    o << "<line class=\"axis\" x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << top + ph << "\"/>";
    o << "<line class=\"axis\" x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << top + ph << "\" y2=\"" << top + ph << "\"/>\n";
    o << "<text x=\"" << left + pw / 2 << "\" y=\"" << height - 6 << "\" text-anchor=\"middle\">" << html_escape(x_label) << "</text>\n";
    o << "<text transform=\"translate(13 " << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << html_escape(y_label) << "</text>\n";
    int row = 0;
    for (const auto& s : series) {
        std::string pts;
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) pts += fixed(X(s.x[i]), 1) + "," + fixed(Y(s.y[i]), 1) + " ";
        o << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"1.6\" points=\"" << pts << "\"/>\n";
        const double ly = top + 8 + 16 * row++;
        o << "<line x1=\"" << left + pw + 10 << "\" x2=\"" << left + pw + 28 << "\" y1=\"" << ly << "\" y2=\"" << ly << "\" stroke=\""
          << s.colour << "\" stroke-width=\"3\"/><text x=\"" << left + pw + 32 << "\" y=\"" << ly + 4 << "\">" << html_escape(s.label)
          << "</text>\n";
    }
    o << "</svg>\n";
    return o.str();
}

std::string svg_bar_chart(const std::string& title, const std::string& unit, const std::vector<std::string>& categories,
                          const std::vector<Series>& series) {
    const double left = 170, right = 60, top = 26, bar = 9, gap = 7;
    const int width = 900;
    const double group = bar * double(series.size()) + gap;
    const double legend = 16 * double(series.size());
    const double height = top + group * double(categories.size()) + 30 + legend;
    double vmax = 0;
    for (const auto& s : series)
        for (double v : s.y)
            if (std::isfinite(v)) vmax = std::max(vmax, v);
    if (!(vmax > 0)) vmax = 1;
    const auto t = ticks(0, vmax, 5);
    vmax = std::max(vmax, t.back());
    const double pw = width - left - right;
    auto X = [&](double v) { return left + v / vmax * pw; };
    std::ostringstream o;
    o << "<svg class=\"s2m-plot\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << width << " " << fixed(height, 0)
      << "\" width=\"" << width << "\" height=\"" << fixed(height, 0) << "\">\n";
    o << "<text class=\"title\" x=\"" << 4 << "\" y=\"16\">" << html_escape(title) << "</text>\n";
    const double plot_bottom = top + group * double(categories.size());
    for (double v : t) {
        o << "<line class=\"gridline\" x1=\"" << fixed(X(v), 1) << "\" x2=\"" << fixed(X(v), 1) << "\" y1=\"" << top << "\" y2=\""
          << plot_bottom << "\"/><text x=\"" << fixed(X(v), 1) << "\" y=\"" << plot_bottom + 13 << "\" text-anchor=\"middle\">"
          << num(v, 4) << "</text>\n";
    }
    o << "<text x=\"" << left + pw << "\" y=\"" << plot_bottom + 26 << "\" text-anchor=\"end\">" << html_escape(unit) << "</text>\n";
    for (size_t c = 0; c < categories.size(); ++c) {
        const double gy = top + group * double(c);
        o << "<text x=\"" << left - 6 << "\" y=\"" << fixed(gy + group / 2 + 1, 1) << "\" text-anchor=\"end\">" << html_escape(categories[c])
          << "</text>\n";
        for (size_t s = 0; s < series.size(); ++s) {
            const double v = c < series[s].y.size() ? series[s].y[c] : NAN;
            if (!std::isfinite(v)) continue;
            const double y = gy + bar * double(s);
            o << "<rect x=\"" << left << "\" y=\"" << fixed(y, 1) << "\" width=\"" << fixed(X(v) - left, 1) << "\" height=\"" << bar - 1
              << "\" fill=\"" << series[s].colour << "\"><title>" << html_escape(series[s].label + " · " + categories[c] + ": " + num(v, 4) + " " + unit)
              << "</title></rect>\n";
        }
    }
    o << "<line class=\"axis\" x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\"" << plot_bottom << "\"/>\n";
    for (size_t s = 0; s < series.size(); ++s) {
        const double ly = plot_bottom + 34 + 16 * double(s);
        o << "<rect x=\"" << left << "\" y=\"" << ly - 9 << "\" width=\"14\" height=\"10\" fill=\"" << series[s].colour << "\"/><text x=\""
          << left + 20 << "\" y=\"" << ly << "\">" << html_escape(series[s].label) << "</text>\n";
    }
    o << "</svg>\n";
    return o.str();
}

namespace {

struct TrainLog {
    std::vector<nlohmann::json> rows;
    std::string path, problem;
};

TrainLog read_train_log(const std::string& model_dir) {
    TrainLog log;
    fs::path dir(model_dir);
    if (dir.extension() == ".pt") dir = dir.parent_path();
    log.path = (dir / "train_log.jsonl").string();
    std::ifstream in(log.path);
    if (!in) {
        log.problem = "no train_log.jsonl in " + dir.string();
        return log;
    }
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            log.rows.push_back(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception&) {
            log.problem = log.path + ":" + std::to_string(n) + ": not a JSON line (later lines left out)";
            break;
        }
    }
    return log;
}

// Training curves of one model: per phase, train_loss and each val_* figure (times left out).
std::string training_curves(const std::string& name, const TrainLog& log) {
    std::string html;
    std::vector<std::string> phases;
    for (const auto& r : log.rows)
        if (r.contains("phase") && r["phase"].is_string() &&
            std::find(phases.begin(), phases.end(), r["phase"].get<std::string>()) == phases.end())
            phases.push_back(r["phase"].get<std::string>());
    for (const auto& phase : phases) {
        std::vector<std::string> keys = {"train_loss"};
        for (const auto& r : log.rows)
            if (r.value("phase", "") == phase)
                for (auto it = r.begin(); it != r.end(); ++it)
                    if (it.key().rfind("val_", 0) == 0 && it.key().find("time") == std::string::npos && it->is_number() &&
                        std::find(keys.begin(), keys.end(), it.key()) == keys.end())
                        keys.push_back(it.key());
        for (size_t k = 0; k < keys.size(); ++k) {
            Series s{keys[k], track_colour(int(k)), {}, {}};
            for (const auto& r : log.rows)
                if (r.value("phase", "") == phase && r.contains(keys[k]) && r[keys[k]].is_number() && r.contains("epoch")) {
                    s.x.push_back(r["epoch"].get<double>());
                    s.y.push_back(r[keys[k]].get<double>());
                }
            html += svg_line_plot(name + " · " + phase + " · " + keys[k], "epoch", keys[k], {s}, 440, 200);
        }
    }
    return html;
}

}  // namespace

std::string report_html(const nlohmann::json& metrics, const eval::EvaluationDetails& d, const ReportOptions& options) {
    std::ostringstream b;
    b << "<h1>step2motion evaluation</h1>\n";
    if (!options.description.empty()) b << "<div class=\"s2m-meta\">" << html_escape(options.description) << "</div>\n";
    b << "<div class=\"s2m-meta\">" << d.clips.size() << " clips, " << d.models.size()
      << " model(s). Errors in cm unless named otherwise; every figure here is also in metrics.json / metrics.csv.</div>\n";

    // Metrics table: mean (std) per model, the lowest mean of each column in bold.
    b << "<h2>Metrics</h2>\n<table class=\"s2m-metrics\"><tr><th>model</th>";
    for (const auto& k : eval::kMetricKeys) b << "<th>" << html_escape(k) << "</th>";
    b << "</tr>\n";
    std::vector<double> best(eval::kMetricKeys.size(), INFINITY);
    for (auto it = metrics.begin(); it != metrics.end(); ++it)
        for (size_t k = 0; k < eval::kMetricKeys.size(); ++k) {
            const double v = metric_at(*it, {"overall", eval::kMetricKeys[k], "mean"});
            if (std::isfinite(v)) best[k] = std::min(best[k], v);
        }
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        b << "<tr><td>" << html_escape(it.key()) << "</td>";
        for (size_t k = 0; k < eval::kMetricKeys.size(); ++k) {
            const double m = metric_at(*it, {"overall", eval::kMetricKeys[k], "mean"});
            const double sd = metric_at(*it, {"overall", eval::kMetricKeys[k], "std"});
            if (!std::isfinite(m)) {
                b << "<td>–</td>";
                continue;
            }
            b << "<td" << (m == best[k] ? " class=\"best\"" : "") << ">" << fixed(m, 2) << " <span class=\"s2m-note\">("
              << (std::isfinite(sd) ? fixed(sd, 2) : std::string("–")) << ")</span></td>";
        }
        b << "</tr>\n";
    }
    b << "</table>\n<div class=\"s2m-note\">mean (std) over frames, joints, clips and seeds; lowest mean in bold.</div>\n";

    // Per-joint and per-clip bars.
    std::vector<Series> joints, clips_bars;
    for (size_t m = 0; m < d.models.size(); ++m) {
        joints.push_back({d.models[m].name, track_colour(int(m)), {}, d.models[m].joint_error_cm});
        Series s{d.models[m].name, track_colour(int(m)), {}, {}};
        for (const auto& clip : d.clips) s.y.push_back(metric_at(metrics, {d.models[m].name, "clips", clip.name, "MPJPE_cm", "mean"}));
        clips_bars.push_back(s);
    }
    // Clips in order of the first model's error, worst first.
    std::vector<size_t> order(d.clips.size());
    std::iota(order.begin(), order.end(), size_t(0));
    if (!clips_bars.empty())
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
            const double ya = clips_bars[0].y[a], yc = clips_bars[0].y[c];
            return (std::isfinite(ya) ? ya : -1) > (std::isfinite(yc) ? yc : -1);
        });
    std::vector<std::string> joint_names(kin::kJointNames.begin() + 1, kin::kJointNames.end());
    b << "<h2>Error per joint</h2>\n" << svg_bar_chart("MPJPE per joint (root-relative), mean over frames, clips and seeds", "cm", joint_names, joints);
    std::vector<std::string> clip_names;
    std::vector<Series> sorted = clips_bars;
    for (size_t i : order) clip_names.push_back(d.clips[i].name);
    for (auto& s : sorted) {
        std::vector<double> y;
        for (size_t i : order) y.push_back(s.y[i]);
        s.y = y;
    }
    b << "<h2>Error per clip</h2>\n" << svg_bar_chart("MPJPE per clip, mean over seeds (worst first for " +
                                                          (d.models.empty() ? std::string() : d.models[0].name) + ")",
                                                      "cm", clip_names, sorted);

    // Error over time and players for the worst clips.
    const size_t worst = std::min(order.size(), size_t(std::max(0, options.worst_clips)));
    b << "<h2>Worst clips</h2>\n";
    std::vector<nlohmann::json> players;
    for (size_t w = 0; w < worst; ++w) {
        const size_t c = order[w];
        const auto& clip = d.clips[c];
        std::vector<Series> curves;
        for (size_t m = 0; m < d.models.size(); ++m) {
            Series s{d.models[m].name, track_colour(int(m)), {}, {}};
            const auto& e = d.models[m].frame_error_cm[c];
            for (size_t f = 0; f < e.size(); ++f) {
                s.x.push_back(double(f) / clip.rate_hz);
                s.y.push_back(e[f]);
            }
            curves.push_back(s);
        }
        b << svg_line_plot(clip.name + ": MPJPE over time (mean of 21 joints and of the seeds)", "time (s)", "MPJPE (cm)", curves);
        PlayerData p;
        p.title = clip.name + " (worst " + std::to_string(w + 1) + ")";
        p.fps = clip.rate_hz;
        for (const auto& m : d.models)
            if (c < m.poses.size()) p.tracks.push_back(track_from_poses(m.poses[c], clip.root_start_m, m.name + " (seed 1)"));
        Track truth = track_from_poses(clip.poses, clip.root_start_m, "ground truth");
        truth.kind = "truth";
        p.tracks.push_back(truth);
        p.insoles = clip.insoles;
        players.push_back(player_json(p));
    }
    if (!players.empty())
        b << "<p class=\"s2m-note\">Players: the first seed's reconstruction of each model beside the others, the ground truth "
             "in orange; pick a clip below.</p>\n";

    // Training curves, after the players so that the plots above stay together.
    std::ostringstream curves;
    curves << "<h2>Training curves</h2>\n";
    for (const auto& m : d.models) {
        const TrainLog log = read_train_log(m.dir);
        curves << "<h3>" << html_escape(m.name) << "</h3>\n";
        if (!log.problem.empty()) curves << "<p class=\"s2m-note\">" << html_escape(log.problem) << "</p>\n";
        curves << training_curves(m.name, log);
    }
    // The player container is placed by page_html after the body; the curves go before it.
    return page_html("step2motion evaluation", b.str() + curves.str() + "<h2>Players of the worst clips</h2>\n", players);
}

void write_report_html(const std::string& dir, const nlohmann::json& metrics, const eval::EvaluationDetails& details,
                       const ReportOptions& options) {
    fs::create_directories(dir);
    write_file_atomic((fs::path(dir) / "report.html").string(), report_html(metrics, details, options));
}

}  // namespace s2m::view
