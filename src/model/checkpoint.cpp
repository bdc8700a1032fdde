#include "step2motion/model/checkpoint.hpp"

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

#include <fstream>
#include <set>
#include <sstream>

namespace s2m::model {

namespace {

std::string shape_str(const torch::Tensor& t) {
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_input(path + ": cannot open file");
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const char* kFormatKey = "s2m.format";
const char* kFormatName = "step2motion-checkpoint";
const char* kVersionKey = "s2m.format_version";
const char* kConfigKey = "s2m.config";

}  // namespace

c10::impl::GenericDict read_generic_dict(const std::string& path) {
    auto bytes = read_bytes(path);
    c10::IValue iv;
    try {
        iv = torch::pickle_load(bytes);
    } catch (const std::exception& e) {
        std::string what = e.what();
        fail_input(path + ": not a readable torch.save file (" + what.substr(0, what.find('\n')) + ")");
    }
    if (!iv.isGenericDict()) fail_input(path + ": expected a dict at the top level of the .pt file");
    return iv.toGenericDict();
}

void write_generic_dict(const std::string& path, const c10::impl::GenericDict& dict) {
    auto bytes = torch::pickle_save(c10::IValue(dict));
    AtomicFile out(path);
    out.stream().write(bytes.data(), std::streamsize(bytes.size()));
    if (!out.stream()) fail_input(path, 0, write_failure(path));
    out.commit();
}

TensorDict read_tensor_dict(const std::string& path) {
    TensorDict out;
    for (const auto& kv : read_generic_dict(path)) {
        if (!kv.key().isString()) fail_input(path + ": dict key is not a string");
        const auto& k = kv.key().toStringRef();
        if (!kv.value().isTensor()) {
            if (k.rfind("s2m.", 0) == 0) continue;  // our checkpoint's metadata: weights are still readable
            fail_input(path + ": entry '" + k + "' is not a tensor");
        }
        out[k] = kv.value().toTensor();
    }
    return out;
}

void write_tensor_dict(const std::string& path, const TensorDict& dict) {
    c10::impl::GenericDict g(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [k, v] : dict) g.insert(k, v.contiguous());
    write_generic_dict(path, g);
}

TensorDict module_state(const torch::nn::Module& module, const std::string& prefix) {
    TensorDict out;
    for (const auto& p : module.named_parameters(true)) out[prefix + p.key()] = p.value();
    for (const auto& b : module.named_buffers(true)) out[prefix + b.key()] = b.value();
    return out;
}

std::vector<std::string> state_names(const torch::nn::Module& module) {
    std::vector<std::string> names;
    for (const auto& kv : module_state(module)) names.push_back(kv.first);
    return names;
}

void load_module_state(torch::nn::Module& module, const TensorDict& dict, const std::string& prefix,
                       const std::string& source) {
    torch::NoGradGuard no_grad;
    auto targets = module_state(module);
    for (auto& [name, target] : targets) {
        auto it = dict.find(prefix + name);
        if (it == dict.end()) fail_input(source + ": missing weight '" + prefix + name + "'");
        if (!it->second.sizes().equals(target.sizes()))
            fail_input(source + ": '" + prefix + name + "' has shape " + shape_str(it->second) +
                       ", the model configuration expects " + shape_str(target));
        target.copy_(it->second.to(target.dtype()));
    }
    for (const auto& [key, value] : dict) {
        if (key.compare(0, prefix.size(), prefix) != 0) continue;
        if (!targets.count(key.substr(prefix.size())))
            fail_input(source + ": unexpected weight '" + key + "' (not in the model built from the configuration)");
    }
}

void load_networks(Step2Motion& model, const TensorDict& dict, const std::string& source) {
    load_module_state(*model->prior, dict, "prior.", source);
    load_module_state(*model->control, dict, "control.", source);
    load_module_state(*model->root, dict, "root.", source);
}

ModelConfig config_from_reference_dict(const TensorDict& dict, const std::string& source) {
    ModelConfig c;
    auto get = [&](const std::string& key, int& out) {
        auto it = dict.find("config." + key);
        if (it == dict.end()) fail_input(source + ": missing entry 'config." + key + "'");
        if (it->second.numel() != 1) fail_input(source + ": 'config." + key + "' is not a scalar");
        out = int(it->second.item<int64_t>());
    };
    get("hidden_dim", c.hidden_dim);
    get("num_layers", c.num_layers);
    get("n_heads", c.n_heads);
    get("d_ff", c.d_ff);
    get("input_T", c.input_T);
    get("diffusion_T", c.diffusion_T);
    // The root network's depth is not among the config entries: count its encoder layers.
    std::set<std::string> layers;
    const std::string root_prefix = "root.encoder.layers.";
    for (const auto& kv : dict)
        if (kv.first.compare(0, root_prefix.size(), root_prefix) == 0)
            layers.insert(kv.first.substr(root_prefix.size(), kv.first.find('.', root_prefix.size()) - root_prefix.size()));
    c.root_layers = layers.empty() ? 1 : int(layers.size());
    if (auto why = c.check(); !why.empty()) fail_input(source + ": config: " + why);
    return c;
}

Step2Motion load_reference_weights(const std::string& path) {
    auto dict = read_tensor_dict(path);
    Step2Motion model(config_from_reference_dict(dict, path));
    load_networks(model, dict, path);
    model->eval();
    return model;
}

TensorDict reference_dict(Step2Motion& model) {
    auto dict = module_state(*model);
    const auto& c = model->config;
    auto scalar = [](int v) { return torch::scalar_tensor(int64_t(v), torch::kLong); };
    dict["config.hidden_dim"] = scalar(c.hidden_dim);
    dict["config.num_layers"] = scalar(c.num_layers);
    dict["config.n_heads"] = scalar(c.n_heads);
    dict["config.d_ff"] = scalar(c.d_ff);
    dict["config.input_T"] = scalar(c.input_T);
    dict["config.diffusion_T"] = scalar(c.diffusion_T);
    return dict;
}

std::string NormalizationStats::check() const {
    auto one = [](const torch::Tensor& t, const char* name, int64_t n, bool is_std) -> std::string {
        if (!t.defined()) return std::string(name) + " missing";
        if (t.dim() != 1 || t.size(0) != n)
            return std::string(name) + " has shape " + shape_str(t) + ", expected [" + std::to_string(n) + "]";
        if (!torch::isfinite(t).all().item<bool>()) return std::string(name) + " has non-finite values";
        if (is_std && (t <= 0).any().item<bool>()) return std::string(name) + " has values <= 0";
        return {};
    };
    for (auto s : {one(pose_mean, "pose_mean", io::kRootValues + io::kJointValues, false),
                   one(pose_std, "pose_std", io::kRootValues + io::kJointValues, true),
                   one(insole_mean, "insole_mean", io::kInsoleChannels, false),
                   one(insole_std, "insole_std", io::kInsoleChannels, true)})
        if (!s.empty()) return s;
    return {};
}

void save_checkpoint(const std::string& path, Step2Motion& model, const NormalizationStats& stats) {
    if (auto why = stats.check(); !why.empty()) fail_input(path + ": refusing to save statistics: " + why);
    c10::impl::GenericDict g(c10::StringType::get(), c10::AnyType::get());
    g.insert(kFormatKey, std::string(kFormatName));
    g.insert(kVersionKey, torch::scalar_tensor(int64_t(kCheckpointFormatVersion), torch::kLong));
    g.insert(kConfigKey, config_to_json(model->config));
    for (const auto& [k, v] : reference_dict(model)) g.insert(k, v.detach().contiguous());
    g.insert("stats.pose_mean", stats.pose_mean.to(torch::kFloat).contiguous());
    g.insert("stats.pose_std", stats.pose_std.to(torch::kFloat).contiguous());
    g.insert("stats.insole_mean", stats.insole_mean.to(torch::kFloat).contiguous());
    g.insert("stats.insole_std", stats.insole_std.to(torch::kFloat).contiguous());
    write_generic_dict(path, g);
}

Checkpoint load_checkpoint(const std::string& path, const ModelConfig* expected) {
    auto g = read_generic_dict(path);
    auto find = [&](const char* key) -> c10::optional<c10::IValue> {
        auto it = g.find(key);
        if (it == g.end()) return c10::nullopt;
        return it->value();
    };
    auto fmt = find(kFormatKey);
    if (!fmt || !fmt->isString() || fmt->toStringRef() != kFormatName)
        fail_input(path + ": not a step2motion checkpoint (no '" + kFormatKey +
                   "' entry; plain reference weight files load with load_reference_weights)");
    auto ver = find(kVersionKey);
    if (!ver || !ver->isTensor()) fail_input(path + ": checkpoint has no format version");
    Checkpoint ck;
    ck.format_version = int(ver->toTensor().item<int64_t>());
    if (ck.format_version != kCheckpointFormatVersion)
        fail_input(path + ": checkpoint format version " + std::to_string(ck.format_version) +
                   ", this build reads version " + std::to_string(kCheckpointFormatVersion));
    auto cfg = find(kConfigKey);
    if (!cfg || !cfg->isString()) fail_input(path + ": checkpoint has no model configuration");
    ck.config = config_from_json(cfg->toStringRef(), path);
    if (expected) {
        if (auto diff = config_difference(ck.config, *expected); !diff.empty())
            fail_input(path + ": model configuration differs from the expected one (" + diff + ", file vs expected)");
    }
    TensorDict tensors;
    for (const auto& kv : g)
        if (kv.value().isTensor()) tensors[kv.key().toStringRef()] = kv.value().toTensor();
    // The config.* entries must agree with the JSON config (they are what Python readers see).
    auto ref_cfg = config_from_reference_dict(tensors, path);
    ref_cfg.root_layers = ck.config.root_layers;
    ModelConfig cmp = ck.config;
    cmp.dropout = ref_cfg.dropout;
    cmp.cross_attention = ref_cfg.cross_attention;
    cmp.condition_inputs = ref_cfg.condition_inputs;
    if (auto diff = config_difference(cmp, ref_cfg); !diff.empty())
        fail_input(path + ": config.* entries disagree with the stored configuration (" + diff + ")");
    ck.model = Step2Motion(ck.config);
    load_networks(ck.model, tensors, path);
    auto stat = [&](const char* key) {
        auto it = tensors.find(key);
        if (it == tensors.end()) fail_input(path + ": checkpoint has no normalisation statistics '" + key + "'");
        return it->second;
    };
    ck.stats.pose_mean = stat("stats.pose_mean");
    ck.stats.pose_std = stat("stats.pose_std");
    ck.stats.insole_mean = stat("stats.insole_mean");
    ck.stats.insole_std = stat("stats.insole_std");
    if (auto why = ck.stats.check(); !why.empty()) fail_input(path + ": normalisation statistics: " + why);
    ck.model->eval();
    return ck;
}

}  // namespace s2m::model
