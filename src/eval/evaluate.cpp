#include "step2motion/eval/evaluate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/eval/metrics.hpp"
#include "step2motion/infer/contacts.hpp"
#include "step2motion/model/bundle.hpp"

namespace s2m::eval {

namespace fs = std::filesystem;

namespace {

nlohmann::json stat_json(const RunningStat& s) { return {{"mean", s.mean()}, {"std", s.std()}}; }

nlohmann::json set_json(const MetricSet& m) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& key : kMetricKeys) {
        auto it = m.find(key);
        j[key] = it == m.end() ? nlohmann::json{{"mean", nullptr}, {"std", nullptr}} : stat_json(it->second);
    }
    for (const char* gt : {"jitter_gt_m_s3", "foot_skating_ratio_gt"})
        if (m.count(gt)) j[gt] = stat_json(m.at(gt));
    return j;
}

std::string model_name(const std::string& path) {
    fs::path p(path);
    if (p.filename().empty()) p = p.parent_path();
    if (p.extension() == ".pt") p = p.parent_path();
    return p.filename().string();
}

}  // namespace

nlohmann::json evaluate_models(const EvaluateOptions& o, EvaluationDetails* details) {
    if (o.models.empty()) fail_input("evaluate: give at least one --model");
    if (o.seeds < 1) fail_input("--seeds: expected at least 1");
    // The clips are read once, at the models' frame rate: models of different rates go in separate runs.
    model::ModelBundle first = model::load_model(model::model_file(o.models[0]));
    const double rate_hz = first.rate_hz;
    const auto inputs = infer::load_inputs({o.data}, o.split, rate_hz);
    for (const auto& in : inputs)
        if (in.poses.rows() != in.frames()) fail_input(o.data, 0, "clip " + in.name + " has no ground-truth poses");
    std::vector<MotionSequence> truth;
    for (const auto& in : inputs) truth.push_back(from_pose_frames(Eigen::Matrix<float, -1, -1, Eigen::RowMajor>(in.poses).data(), in.frames(), in.rate_hz));

    if (details) {
        details->clips = inputs;
        details->models.clear();
    }
    nlohmann::json all = nlohmann::json::object();
    for (size_t mi = 0; mi < o.models.size(); ++mi) {
        model::ModelBundle model = mi == 0 ? std::move(first) : model::load_model(model::model_file(o.models[mi]));
        if (std::abs(model.rate_hz - rate_hz) > 1e-6)
            fail_input(o.models[mi], 0, "trained at " + std::to_string(model.rate_hz) + " Hz, the first model at " + std::to_string(rate_hz) +
                                            " Hz: evaluate models of one frame rate together");
        std::string name = model_name(o.models[mi]);
        if (all.contains(name)) name += "_" + std::to_string(mi + 1);
        std::vector<std::string> roots;
        if (mi == 0)
            for (const auto& r : o.compare_roots)
                if (r != o.reconstruct.root && std::find(roots.begin(), roots.end(), r) == roots.end()) roots.push_back(r);
        MetricSet overall;
        std::vector<MetricSet> per_clip(inputs.size());
        std::vector<MetricSet> overall_alt(roots.size());
        std::vector<std::vector<MetricSet>> per_clip_alt(roots.size(), std::vector<MetricSet>(inputs.size()));
        ModelDetails md;
        md.name = name;
        md.dir = o.models[mi];
        std::vector<RunningStat> joint_error(kBodyJoints);
        if (details) {
            md.frame_error_cm.resize(inputs.size());
            for (size_t c = 0; c < inputs.size(); ++c) md.frame_error_cm[c].assign(static_cast<size_t>(inputs[c].frames()), 0.f);
        }
        // The sampler settings of this model: given, else stored in it.
        const infer::ReconstructOptions used = infer::with_model_defaults(o.reconstruct, model, o.given);
        for (int seed = 0; seed < o.seeds; ++seed) {
            infer::ReconstructOptions ro = used;
            ro.seed = o.reconstruct.seed + static_cast<uint64_t>(seed);
            spdlog::info("{}: seed {} of {}, {} clips", name, seed + 1, o.seeds, inputs.size());
            // The network's root first; the chosen root and the compared ones are applied to copies.
            ro.root = "network";
            ro.foot_contacts = false;
            auto rec = infer::reconstruct(model, inputs, ro);
            std::vector<Eigen::MatrixXf> base;  // the network-root poses, for the compared roots
            if (!roots.empty())
                for (const auto& r : rec) base.push_back(r.poses);
            auto finish = [&](Eigen::MatrixXf& poses, size_t c, const std::string& root) {
                infer::apply_root(poses, inputs[c], root);
                if (used.foot_contacts) infer::lock_foot_contacts(poses, inputs[c]);
            };
            for (size_t c = 0; c < inputs.size(); ++c) finish(rec[c].poses, c, o.reconstruct.root);
            for (size_t c = 0; c < inputs.size(); ++c) {
                const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> p = rec[c].poses;
                const MotionSequence predicted = from_pose_frames(p.data(), inputs[c].frames(), inputs[c].rate_hz);
                accumulate_metrics(predicted, truth[c], per_clip[c]);
                if (!details) continue;
                // The report's per-joint bars and error-over-time curves: root-relative joint errors,
                // as MPJPE_cm.
                for (int f = 0; f < predicted.frames(); ++f) {
                    double sum = 0;
                    for (int j = 0; j < kBodyJoints; ++j) {
                        const size_t k = static_cast<size_t>(f * kBodyJoints + j);
                        const double e = (predicted.joints_rel_m[k] - truth[c].joints_rel_m[k]).norm() * 100;
                        joint_error[static_cast<size_t>(j)].add(e);
                        sum += e;
                    }
                    md.frame_error_cm[c][static_cast<size_t>(f)] += static_cast<float>(sum / kBodyJoints / o.seeds);
                }
                if (seed == 0) md.poses.push_back(rec[c].poses);
            }
            // Same poses, another root.
            if (!roots.empty()) {
                for (size_t r = 0; r < roots.size(); ++r)
                    for (size_t c = 0; c < inputs.size(); ++c) {
                        Eigen::MatrixXf q = base[c];
                        finish(q, c, roots[r]);
                        const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> p = q;
                        accumulate_metrics(from_pose_frames(p.data(), inputs[c].frames(), inputs[c].rate_hz), truth[c], per_clip_alt[r][c]);
                    }
            }
        }
        auto pack = [&](std::vector<MetricSet>& clips, MetricSet& total) {
            nlohmann::json j;
            j["clips"] = nlohmann::json::object();
            for (size_t c = 0; c < inputs.size(); ++c) {
                j["clips"][inputs[c].name] = set_json(clips[c]);
                for (auto& [k, v] : clips[c]) total[k].merge(v);
            }
            j["overall"] = set_json(total);
            j["model_type"] = model::to_string(model.config.model_type);
            j["seeds"] = o.seeds;
            j["root"] = o.reconstruct.root;
            j["foot_contacts"] = used.foot_contacts;
            j["wearer_size"] = used.wearer_size;
            if (model.is_diffusion()) {  // regressors are deterministic: no sampler settings
                j["sampler"] = used.sampler;
                j["steps"] = used.steps;
                j["samples"] = used.samples;
                j["sampler_settings"] = model.sampling.empty() || (o.given.sampler && o.given.steps && o.given.samples)
                                            ? "given"
                                            : "stored in the model where not given";
            }
            return j;
        };
        all[name] = pack(per_clip, overall);
        if (details) {
            for (const auto& s : joint_error) md.joint_error_cm.push_back(s.mean());
            details->models.push_back(std::move(md));
        }
        for (size_t r = 0; r < roots.size(); ++r) {
            all[name + "+" + roots[r]] = pack(per_clip_alt[r], overall_alt[r]);
            all[name + "+" + roots[r]]["root"] = roots[r];
        }
    }
    return all;
}

std::string latex_table(const nlohmann::json& m) {
    std::ostringstream s;
    s << "% step2motion evaluate: mean (std) over all frames, joints, clips and seeds\n";
    for (auto it = m.begin(); it != m.end(); ++it)
        if (it->contains("samples"))
            s << "% " << it.key() << ": sampler " << (*it)["sampler"].get<std::string>() << ", steps "
              << (*it)["steps"].get<int>() << " (0: default), seeds " << (*it)["seeds"].get<int>() << ", samples averaged "
              << (*it)["samples"].get<int>() << "\n";
    s << "\\begin{tabular}{lcccc}\n\\hline\n"
      << "Method & MPJPE (cm) & MPJPE$_{Legs}$ (cm) & MPJVE$_{Legs}$ (cm/s) & MRPE (m) \\\\\n\\hline\n";
    // Best (lowest) value per column in bold, as in the paper.
    const char* cols[] = {"MPJPE_cm", "MPJPE_Legs_cm", "MPJVE_Legs_cm_s", "MRPE_m"};
    double best[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    for (auto it = m.begin(); it != m.end(); ++it)
        for (int c = 0; c < 4; ++c) {
            const auto& v = (*it)["overall"][cols[c]]["mean"];
            if (v.is_number()) best[c] = std::min(best[c], v.get<double>());
        }
    for (auto it = m.begin(); it != m.end(); ++it) {
        std::string name = it.key();
        std::string escaped;
        for (char ch : name) escaped += (ch == '_' || ch == '&' || ch == '%' || ch == '#') ? std::string("\\") + ch : std::string(1, ch);
        s << escaped;
        for (int c = 0; c < 4; ++c) {
            const auto& v = (*it)["overall"][cols[c]];
            if (!v["mean"].is_number()) {
                s << " & --";
                continue;
            }
            char buf[64];
            std::snprintf(buf, sizeof buf, c == 3 ? "%.2f" : "%.1f", v["mean"].get<double>());
            const bool bold = v["mean"].get<double>() == best[c];
            s << " & " << (bold ? "\\textbf{" : "") << buf << (bold ? "}" : "");
            std::snprintf(buf, sizeof buf, c == 3 ? " (%.2f)" : " (%.1f)", v["std"].get<double>());
            s << buf;
        }
        s << " \\\\\n";
    }
    s << "\\hline\n\\end{tabular}\n";
    return s.str();
}

void write_report(const std::string& dir, const nlohmann::json& m) {
    fs::create_directories(dir);
    write_file_atomic((fs::path(dir) / "metrics.json").string(), m.dump(2) + "\n");
    std::ostringstream csv;
    csv << "model,clip";
    for (const auto& k : kMetricKeys) csv << "," << k << "_mean," << k << "_std";
    csv << "\n";
    for (auto it = m.begin(); it != m.end(); ++it) {
        auto row = [&](const std::string& clip, const nlohmann::json& set) {
            csv << it.key() << "," << clip;
            for (const auto& k : kMetricKeys) {
                const auto& v = set[k];
                csv << "," << (v["mean"].is_number() ? std::to_string(v["mean"].get<double>()) : "") << ","
                    << (v["std"].is_number() ? std::to_string(v["std"].get<double>()) : "");
            }
            csv << "\n";
        };
        row("overall", (*it)["overall"]);
        for (auto c = (*it)["clips"].begin(); c != (*it)["clips"].end(); ++c) row(c.key(), *c);
    }
    write_file_atomic((fs::path(dir) / "metrics.csv").string(), csv.str());
    write_file_atomic((fs::path(dir) / "table.tex").string(), latex_table(m));
}

}  // namespace s2m::eval
