// s2m info: a summary of any file the toolkit reads, or of the system (--system).
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/model/kernels.hpp"
#include "step2motion/model/precision.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/motion.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "step2motion/model/threads.hpp"
#include "step2motion/model/bundle.hpp"

namespace {

struct InfoOptions {
    std::vector<std::string> files;
    bool json = false, system = false, compare = false;
    std::string scale = "auto";
};

nlohmann::json system_info() {
    const auto cpu = s2m::cpu_features();
    const auto blas = s2m::blas_info();
    nlohmann::json j;
    j["cpu"] = cpu.model;
    j["cores"] = cpu.logical_cores;
    j["avx2"] = cpu.avx2;
    j["avx512f"] = cpu.avx512f;
    j["avx512_bf16"] = cpu.avx512_bf16;
    j["amx_bf16"] = cpu.amx_bf16;
    j["bf16_fast"] = cpu.amx_bf16 || cpu.avx512_bf16;
    // PyPI's LibTorch carries its own MKL and never calls libblas.so.3.
    j["blas_library"] = blas.library.rfind("OpenBLAS", 0) != 0 && at::hasMKL() ? "MKL inside LibTorch" : blas.library;
    j["blas_core"] = blas.core;
    j["blas_threads"] = blas.threads;
    j["openblas_coretype_env"] = blas.coretype_env;
    j["torch_threads"] = s2m::model::compute_threads();
    j["torch_version"] = TORCH_VERSION;
    j["cuda_devices"] = static_cast<int>(torch::cuda::device_count());  // 0 with Debian's CPU-only LibTorch
    j["fast_kernels"] = s2m::model::kernels::isa();
    // What --precision auto picks here, and the probe's figures behind it.
    const auto probe = s2m::model::probe_precision();
    j["precision_auto"] = s2m::model::to_string(probe.fastest);
    j["precision_probe"] = {{"fp32_ms", probe.fp32_ms}, {"bf16_ms", probe.bf16_ms}, {"source", probe.source}};
    return j;
}

// --scale: "auto" (detected from the skeleton's size) or metres per file unit.
double bvh_scale(const s2m::io::Bvh& bvh, const std::string& scale_opt) {
    return scale_opt == "auto" ? s2m::io::detect_bvh_scale(bvh) : std::stod(scale_opt);
}

nlohmann::json bvh_info(const std::string& path, const std::string& scale_opt) {
    const s2m::io::Bvh bvh = s2m::io::read_bvh(path);
    const double scale = bvh_scale(bvh, scale_opt);
    const s2m::io::Motion m = s2m::io::motion_from_bvh(bvh, scale);
    double distance = 0;
    for (int f = 1; f < m.frames; ++f) {
        Eigen::Vector3d d = m.translation(f, 0) - m.translation(f - 1, 0);
        d.y() = 0;
        distance += d.norm();
    }
    nlohmann::json j;
    j["file"] = path;
    j["format"] = "bvh";
    j["joints"] = m.skeleton.size();
    j["channels"] = bvh.num_channels;
    j["frames"] = m.frames;
    j["fps"] = m.fps;
    j["duration_s"] = m.duration_s();
    j["scale_m_per_unit"] = scale;
    j["height_m"] = m.skeleton.rest_height_m();
    j["distance_m"] = distance;
    j["root"] = m.skeleton.names.empty() ? "" : m.skeleton.names[0];
    return j;
}

nlohmann::json moticon_info(const std::string& path) {
    const s2m::io::MoticonRecording rec = s2m::io::read_moticon(path);
    nlohmann::json j;
    j["file"] = path;
    j["format"] = "moticon";
    j["header_style"] = rec.header_style;
    j["rate_hz"] = rec.rate_hz;
    j["frames"] = rec.frames();
    j["duration_s"] = rec.frames() > 1 ? (rec.frames() - 1) / rec.rate_hz : 0.0;  // first to last sample, as for BVH
    j["insole_size"] = rec.insole_size;
    j["missing_fraction"] = {{"left", rec.feet[0].missing_fraction()}, {"right", rec.feet[1].missing_fraction()}};
    nlohmann::json extra = nlohmann::json::array();
    for (const auto& c : rec.extra) extra.push_back(c.name);
    j["extra_columns"] = extra;
    for (const char* key : {"Start time", "Tag", "Name"}) {
        auto it = rec.header.find(key);
        if (it != rec.header.end() && !it->second.empty()) j["header"][key] = it->second;
    }
    return j;
}

nlohmann::json dataset_info(const std::string& path) {
    const s2m::io::DatasetSummary s = s2m::io::read_dataset_summary(path);
    nlohmann::json j;
    j["file"] = path;
    j["format"] = "step2motion-dataset";
    j["format_version"] = s.format_version;
    j["rate_hz"] = s.rate_hz;
    j["clips"] = s.clips;
    j["frames"] = s.frames;
    j["duration_s"] = s.rate_hz > 0 ? s.frames / s.rate_hz : 0.0;
    nlohmann::json splits;
    for (const auto& [split, n] : s.clips_per_split)
        splits[split] = {{"clips", n}, {"frames", s.frames_per_split.at(split)}};
    j["splits"] = splits;
    j["subjects"] = s.subjects;
    j["activities"] = s.activities;
    j["normalization"] = s.has_stats;
    for (const auto& [k, v] : s.attributes) j["attributes"][k] = v;
    return j;
}

// A trained model (model.pt or its folder): type, size, config and the stored sampler settings.
nlohmann::json model_info(const std::string& path) {
    const s2m::model::ModelBundle m = s2m::model::load_model(path);
    nlohmann::json j;
    j["file"] = path;
    j["format"] = "step2motion-model";
    j["model_type"] = s2m::model::to_string(m.config.model_type);
    j["parameters"] = m.parameter_count();
    j["rate_hz"] = m.rate_hz;
    const auto config = nlohmann::json::parse(s2m::model::train_config_to_json(m.config));
    for (const char* k : {"hidden_dim", "num_layers", "input_T", "diffusion_T", "epochs_pose", "epochs_trans"})
        if (config.contains(k)) j["config"][k] = config[k];
    if (m.is_diffusion()) {
        if (m.sampling.empty())
            j["sampler_settings"] = "none stored (ddpm, all steps, one sample unless given)";
        else
            j["sampler_settings"] = {{"sampler", m.sampling.sampler},
                                     {"steps", m.sampling.steps},
                                     {"samples", m.sampling.samples},
                                     {"val_mpjpe_legs_cm", m.sampling.val_mpjpe_legs_cm},
                                     {"chosen_on", m.sampling.chosen_on}};
    }
    return j;
}

void print_human(const nlohmann::json& j) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it->is_object()) {
            std::cout << it.key() << ":\n";
            for (auto jt = it->begin(); jt != it->end(); ++jt) std::cout << "  " << jt.key() << ": " << jt->dump() << "\n";
        } else {
            std::cout << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
        }
    }
}

}  // namespace

namespace s2m::cli {
// Summaries of non-BVH files are added by the areas that read them.
nlohmann::json file_info(const std::string& path, const std::string& scale);
}

nlohmann::json s2m::cli::file_info(const std::string& path, const std::string& scale) {
    namespace fs = std::filesystem;
    if (!fs::exists(path)) s2m::fail_input(path, 0, "no such file");
    if (fs::is_directory(path) && fs::exists(fs::path(path) / "model.pt")) return model_info((fs::path(path) / "model.pt").string());
    std::string ext = fs::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == ".bvh") return bvh_info(path, scale);
    if (ext == ".txt") return moticon_info(path);
    if (ext == ".h5" || ext == ".hdf5") return dataset_info(path);
    if (ext == ".pt") return model_info(path);
    s2m::fail_input(path, 0, "unknown file type '" + ext + "', expected .bvh, .txt (Moticon), .h5 (dataset) or .pt (model)");
}

namespace {
// --compare A.bvh B.bvh: the same skeleton's joints frame by frame.
nlohmann::json compare_bvh(const std::string& a_path, const std::string& b_path, const std::string& scale_opt) {
    auto motion = [&](const std::string& path) {
        const s2m::io::Bvh bvh = s2m::io::read_bvh(path);
        return s2m::io::motion_from_bvh(bvh, bvh_scale(bvh, scale_opt));
    };
    const s2m::io::Motion a = motion(a_path), b = motion(b_path);
    const s2m::kin::JointDistance d = s2m::kin::joint_distance(a, b, a_path + " vs " + b_path);
    nlohmann::json j;
    j["compare"] = {a_path, b_path};
    j["frames"] = a.frames;
    j["joints"] = a.skeleton.size();
    j["max_joint_distance_m"] = d.max_m;
    j["mean_joint_distance_m"] = d.mean_m;
    j["max_at_frame"] = d.frame;
    j["max_at_joint"] = d.joint >= 0 ? a.skeleton.names[static_cast<size_t>(d.joint)] : "";
    return j;
}
}  // namespace

static std::function<int()> setup_info(CLI::App& app) {
    auto opt = std::make_shared<InfoOptions>();
    app.add_option("files", opt->files, "files to summarise");
    app.add_flag("--json", opt->json, "print JSON");
    app.add_flag("--system", opt->system, "CPU, BLAS kernel, threads, bf16/AMX support");
    app.add_option("--scale", opt->scale, "BVH units: auto or metres per unit");
    app.add_flag("--compare", opt->compare,
                 "two BVH files of one skeleton: the largest and mean distance of a joint between them, frame by frame");
    return [opt]() {
        if (!opt->system && opt->files.empty()) s2m::fail_input("info: give a file or --system");
        if (opt->compare && opt->files.size() != 2)
            s2m::fail_input("info --compare: expected two BVH files, got " + std::to_string(opt->files.size()));
        nlohmann::json all = nlohmann::json::array();
        if (opt->system) all.push_back(system_info());
        if (opt->compare)
            all.push_back(compare_bvh(opt->files[0], opt->files[1], opt->scale));
        else
            for (const auto& f : opt->files) all.push_back(s2m::cli::file_info(f, opt->scale));
        if (opt->json) {
            std::cout << (all.size() == 1 ? all[0] : all).dump(2) << "\n";
        } else {
            for (size_t i = 0; i < all.size(); ++i) {
                if (i) std::cout << "\n";
                print_human(all[i]);
            }
        }
        return 0;
    };
}
S2M_COMMAND("info", "summarise a file (BVH, Moticon export, dataset, model) or the system", setup_info);
