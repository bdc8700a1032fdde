#include "step2motion/model/bundle.hpp"

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/kinematics/canonical.hpp"

namespace s2m::model {

namespace {
const char* kFormatName = "step2motion-model";

model::RegressorConfig regressor_config(const TrainConfig& c) {
    model::RegressorConfig r;
    r.input_T = c.input_T;
    r.hidden_dim = c.hidden_dim;
    r.num_layers = c.num_layers;
    r.n_heads = c.transformer_n_heads;
    r.d_ff = c.transformer_d_ff;
    r.dropout = c.transformer_dropout;
    return r;
}

// The authors' S4 skeleton (reference data, metres): default output skeleton until a dataset gives one.
io::Skeleton default_skeleton() {
    const double offsets[kin::kNumJoints][3] = {
        {0, 0, 0},           {0.077, 0, 0},       {0, -0.408, 0},     {0, -0.397, 0},   {0, -0.072, 0.164},
        {-0.077, 0, 0},      {0, -0.408, 0},      {0, -0.397, 0},     {0, -0.072, 0.164}, {0, 0.094, -0.010},
        {0, 0.105, 0},       {0, 0.192, 0},       {0, 0.13, 0},       {0, 0.09, 0},     {0.07, 0.11, 0},
        {0.12, 0, 0},        {0.26, 0, 0},        {0.25, 0, 0},       {-0.07, 0.11, 0}, {-0.12, 0, 0},
        {-0.26, 0, 0},       {-0.25, 0, 0}};
    io::Skeleton s;
    for (int k = 0; k < kin::kNumJoints; ++k) {
        s.names.emplace_back(kin::kJointNames[static_cast<size_t>(k)]);
        s.parents.push_back(kin::kJointParents[static_cast<size_t>(k)]);
        s.offsets_m.emplace_back(offsets[k][0], offsets[k][1], offsets[k][2]);
        s.end_sites_m.emplace_back(std::nullopt);
    }
    return s;
}

}  // namespace

torch::Tensor to_tensor(const std::vector<float>& v) {
    return torch::from_blob(const_cast<float*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat32).clone();
}

std::vector<float> to_vector(const torch::Tensor& t) {
    auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

ModelBundle ModelBundle::create(const TrainConfig& config) {
    ModelBundle b;
    b.config = config;
    b.skeleton = default_skeleton();
    const model::ModelConfig mc = config.model_config();
    switch (config.model_type) {
        case ModelType::Step2Motion:
        case ModelType::DiffusionStdXattn:
            b.diffusion = model::Step2Motion(mc);
            b.root = b.diffusion->root;
            break;
        case ModelType::Mlp:
            b.mlp = model::MlpRegressor(regressor_config(config));
            b.root = model::RootNet(mc);
            break;
        case ModelType::Transformer:
            b.transformer = model::TransformerRegressor(regressor_config(config));
            b.root = model::RootNet(mc);
            break;
    }
    return b;
}

torch::nn::Module& ModelBundle::pose_module() {
    if (diffusion) return *diffusion;
    if (mlp) return *mlp;
    return *transformer;
}

torch::nn::Module& ModelBundle::root_module() { return *root; }

void ModelBundle::to(const torch::Device& device) {
    pose_module().to(device);
    root->to(device);
}

void ModelBundle::train(bool on) {
    pose_module().train(on);
    root->train(on);
}

model::TensorDict ModelBundle::state() const {
    auto& self = const_cast<ModelBundle&>(*this);
    model::TensorDict d;
    if (diffusion) {
        for (auto& kv : model::module_state(*diffusion->prior, "prior.")) d[kv.first] = kv.second;
        for (auto& kv : model::module_state(*diffusion->control, "control.")) d[kv.first] = kv.second;
    } else if (mlp) {
        d = model::module_state(*mlp, "mlp.");
    } else {
        d = model::module_state(*self.transformer, "transformer.");
    }
    for (auto& kv : model::module_state(*root, "root.")) d[kv.first] = kv.second;
    return d;
}

void ModelBundle::load_state(const model::TensorDict& dict, const std::string& source) {
    torch::NoGradGuard no_grad;
    if (diffusion) {
        model::load_networks(diffusion, dict, source);
    } else {
        if (mlp) model::load_module_state(*mlp, dict, "mlp.", source);
        else model::load_module_state(*transformer, dict, "transformer.", source);
        model::load_module_state(*root, dict, "root.", source);
    }
}

int64_t ModelBundle::parameter_count() const {
    int64_t n = 0;
    for (const auto& kv : state())
        if (kv.first.find("normalizer_id") == std::string::npos && kv.first.find("positional_encoding") == std::string::npos &&
            kv.first.find(".scale") == std::string::npos)
            n += kv.second.numel();
    return n;
}

void save_model(const std::string& path, const ModelBundle& b, const model::TensorDict& extra,
                const std::map<std::string, std::string>& extra_text) {
    c10::impl::GenericDict g(c10::StringType::get(), c10::AnyType::get());
    g.insert("s2m.format", std::string(kFormatName));
    g.insert("s2m.format_version", static_cast<int64_t>(kModelFormatVersion));
    g.insert("s2m.train_config", train_config_to_json(b.config));
    g.insert("s2m.model_type", to_string(b.config.model_type));
    g.insert("s2m.rate_hz", b.rate_hz);
    for (const auto& [k, v] : extra_text) g.insert("text." + k, v);
    for (const auto& [k, v] : b.state()) g.insert(k, v.detach().to(torch::kCPU).contiguous());
    g.insert("stats.pose_mean", to_tensor(b.stats.pose_mean));
    g.insert("stats.pose_std", to_tensor(b.stats.pose_std));
    g.insert("stats.insole_mean", to_tensor(b.stats.insole_mean));
    g.insert("stats.insole_std", to_tensor(b.stats.insole_std));
    auto offsets = torch::zeros({kin::kNumJoints, 3}, torch::kFloat64);
    for (int k = 0; k < kin::kNumJoints; ++k)
        for (int a = 0; a < 3; ++a) offsets[k][a] = b.skeleton.offsets_m[static_cast<size_t>(k)][a];
    g.insert("skeleton.offsets_m", offsets);
    for (const auto& [k, v] : extra) g.insert("extra." + k, v.detach().to(torch::kCPU).contiguous());
    if (!b.sampling.empty())
        g.insert("s2m.sampling_defaults", nlohmann::json{{"sampler", b.sampling.sampler},
                                                         {"steps", b.sampling.steps},
                                                         {"samples", b.sampling.samples},
                                                         {"val_mpjpe_legs_cm", b.sampling.val_mpjpe_legs_cm},
                                                         {"chosen_on", b.sampling.chosen_on}}
                                              .dump());
    model::write_generic_dict(path, g);
}

ModelBundle load_model(const std::string& path, model::TensorDict* extra, std::map<std::string, std::string>* extra_text) {
    auto g = model::read_generic_dict(path);
    auto text = [&](const std::string& key) -> std::string {
        auto it = g.find(key);
        if (it == g.end() || !it->value().isString()) fail_input(path, 0, "not a step2motion model file (no '" + key + "')");
        return it->value().toStringRef();
    };
    if (text("s2m.format") != kFormatName) fail_input(path, 0, "not a step2motion model file (format '" + text("s2m.format") + "')");
    auto version = g.find("s2m.format_version");
    if (version == g.end() || !version->value().isInt()) fail_input(path, 0, "model file without a format version");
    if (version->value().toInt() != kModelFormatVersion)
        fail_input(path, 0, "model format version " + std::to_string(version->value().toInt()) + ", this s2m reads version " +
                                std::to_string(kModelFormatVersion));
    const TrainConfig config = parse_train_config(text("s2m.train_config"), path + " (stored config)", Representation::World);
    if (text("s2m.model_type") != to_string(config.model_type))
        fail_input(path, 0, "model_type '" + text("s2m.model_type") + "' does not match the stored config ('" + to_string(config.model_type) + "')");
    ModelBundle b = ModelBundle::create(config);
    model::TensorDict weights;
    for (const auto& kv : g) {
        // Every entry's type is checked before it is taken (toTensor() on anything else throws c10::Error).
        if (!kv.key().isString()) fail_input(path, 0, "not a step2motion model file (a key that is not a string)");
        const std::string& k = kv.key().toStringRef();
        if (k.rfind("extra.", 0) == 0) {
            if (!kv.value().isTensor()) fail_input(path, 0, "entry '" + k + "' is not a tensor");
            if (extra) (*extra)[k.substr(6)] = kv.value().toTensor();
        } else if (k.rfind("text.", 0) == 0) {
            if (!kv.value().isString()) fail_input(path, 0, "entry '" + k + "' is not text");
            if (extra_text) (*extra_text)[k.substr(5)] = kv.value().toStringRef();
        } else if (kv.value().isTensor() && k.rfind("stats.", 0) != 0 && k.rfind("skeleton.", 0) != 0) {
            weights[k] = kv.value().toTensor();
        }
    }
    b.load_state(weights, path);
    auto stat = [&](const char* key, size_t n) {
        auto it = g.find(key);
        if (it == g.end() || !it->value().isTensor()) fail_input(path, 0, std::string("missing normalisation statistics '") + key + "'");
        auto v = to_vector(it->value().toTensor());
        if (v.size() != n) fail_input(path, 0, std::string("statistics '") + key + "' has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
        for (float x : v)
            if (!std::isfinite(x)) fail_input(path, 0, std::string("statistics '") + key + "' has non-finite values");
        return v;
    };
    b.stats.pose_mean = stat("stats.pose_mean", io::kRootAndJointValues);
    b.stats.pose_std = stat("stats.pose_std", io::kRootAndJointValues);
    b.stats.insole_mean = stat("stats.insole_mean", io::kInsoleChannels);
    b.stats.insole_std = stat("stats.insole_std", io::kInsoleChannels);
    for (float s : b.stats.pose_std)
        if (!(s > 0)) fail_input(path, 0, "statistics 'stats.pose_std' has values <= 0");
    for (float s : b.stats.insole_std)
        if (!(s > 0)) fail_input(path, 0, "statistics 'stats.insole_std' has values <= 0");
    // Older files have no rate: their models were all trained at 30 Hz.
    auto rate = g.find("s2m.rate_hz");
    if (rate != g.end()) {
        if (!rate->value().isDouble() || !(rate->value().toDouble() > 0 && rate->value().toDouble() <= 1000))
            fail_input(path, 0, "s2m.rate_hz: expected a frame rate in (0, 1000] Hz");
        b.rate_hz = rate->value().toDouble();
    }
    auto sd = g.find("s2m.sampling_defaults");
    if (sd != g.end()) {
        const std::string where = path + " (stored sampler settings)";
        if (!sd->value().isString()) fail_input(where, 0, "expected JSON text");
        try {
            const auto j = nlohmann::json::parse(sd->value().toStringRef());
            b.sampling.sampler = j.at("sampler").get<std::string>();
            b.sampling.steps = j.at("steps").get<int>();
            b.sampling.samples = j.at("samples").get<int>();
            b.sampling.val_mpjpe_legs_cm = j.value("val_mpjpe_legs_cm", 0.0);
            b.sampling.chosen_on = j.value("chosen_on", std::string());
        } catch (const nlohmann::json::exception& e) {
            fail_input(where, 0, std::string("invalid: ") + e.what());
        }
        if ((b.sampling.sampler != "ddpm" && b.sampling.sampler != "fast") || b.sampling.steps < 0 || b.sampling.samples < 1)
            fail_input(where, 0, "expected sampler ddpm or fast, steps >= 0 and samples >= 1");
    }
    auto sk = g.find("skeleton.offsets_m");
    if (sk != g.end()) {
        if (!sk->value().isTensor()) fail_input(path, 0, "skeleton.offsets_m: expected 22 x 3 values");
        auto t = sk->value().toTensor().to(torch::kFloat64).contiguous();
        if (t.numel() != kin::kNumJoints * 3) fail_input(path, 0, "skeleton.offsets_m: expected 22 x 3 values");
        for (int k = 0; k < kin::kNumJoints; ++k)
            b.skeleton.offsets_m[static_cast<size_t>(k)] = s2m::Vec3(t[k][0].item<double>(), t[k][1].item<double>(), t[k][2].item<double>());
    }
    return b;
}

std::string model_file(const std::string& p) {
    namespace fs = std::filesystem;
    if (fs::is_directory(p)) {
        const fs::path f = fs::path(p) / "model.pt";
        if (!fs::exists(f)) fail_input(p, 0, "no model.pt in this folder (is it a trained model folder?)");
        return f.string();
    }
    if (!fs::exists(p)) fail_input(p, 0, "no such model folder or file");
    return p;
}

}  // namespace s2m::model
