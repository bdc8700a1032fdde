#include "step2motion/model/config.hpp"

#include "step2motion/core/error.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

namespace s2m::model {

std::string ModelConfig::check() const {
    auto pos = [](int v) { return v > 0; };
    if (!pos(hidden_dim) || !pos(num_layers) || !pos(n_heads) || !pos(d_ff) || !pos(input_T) ||
        !pos(diffusion_T) || !pos(root_layers))
        return "all sizes must be positive";
    if (hidden_dim % io::kInsoleComponents != 0)
        return "hidden_dim " + std::to_string(hidden_dim) + " is not divisible by the 8 insole heads";
    if (hidden_dim % n_heads != 0)
        return "hidden_dim " + std::to_string(hidden_dim) + " is not divisible by n_heads " +
               std::to_string(n_heads);
    if (hidden_dim % 2 != 0) return "hidden_dim must be even (sinusoidal encoding)";
    if (dropout < 0.0 || dropout >= 1.0) return "dropout must be in [0, 1)";
    if (insole_encoder_layers < 0 || insole_encoder_layers > kMaxInsoleEncoderLayers)
        return "insole_encoder_layers must be in 0.." + std::to_string(kMaxInsoleEncoderLayers);
    return {};
}

bool ModelConfig::operator==(const ModelConfig& o) const { return config_difference(*this, o).empty(); }

std::string to_string(CrossAttentionKind k) {
    return k == CrossAttentionKind::PerComponent ? "per_component" : "standard";
}
std::string to_string(ConditionInputs c) {
    switch (c) {
        case ConditionInputs::All: return "all";
        case ConditionInputs::PressureOnly: return "pressure_only";
        case ConditionInputs::ImuOnly: return "imu_only";
    }
    return "all";
}

CrossAttentionKind parse_cross_attention(const std::string& s, const std::string& what) {
    if (s == "per_component") return CrossAttentionKind::PerComponent;
    if (s == "standard") return CrossAttentionKind::Standard;
    fail_input(what + ": expected per_component or standard, got '" + s + "'");
}
ConditionInputs parse_condition_inputs(const std::string& s, const std::string& what) {
    if (s == "all") return ConditionInputs::All;
    if (s == "pressure_only") return ConditionInputs::PressureOnly;
    if (s == "imu_only") return ConditionInputs::ImuOnly;
    fail_input(what + ": expected all, pressure_only or imu_only, got '" + s + "'");
}

std::string config_to_json(const ModelConfig& c) {
    nlohmann::ordered_json j;
    j["hidden_dim"] = c.hidden_dim;
    j["num_layers"] = c.num_layers;
    j["n_heads"] = c.n_heads;
    j["d_ff"] = c.d_ff;
    j["input_T"] = c.input_T;
    j["diffusion_T"] = c.diffusion_T;
    j["root_layers"] = c.root_layers;
    j["dropout"] = c.dropout;
    j["cross_attention"] = to_string(c.cross_attention);
    j["condition_inputs"] = to_string(c.condition_inputs);
    j["cross_attention_locality"] = c.cross_attention_locality;
    j["zero_terminal_snr"] = c.zero_terminal_snr;
    j["insole_encoder_layers"] = c.insole_encoder_layers;
    return j.dump();
}

ModelConfig config_from_json(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        fail_input(source + ": model config is not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) fail_input(source + ": model config must be a JSON object");
    ModelConfig c;
    auto get_int = [&](const char* key, int& out) {
        if (!j.contains(key) || !j[key].is_number_integer())
            fail_input(source + ": model config field '" + key + "' missing or not an integer");
        out = j[key].get<int>();
    };
    get_int("hidden_dim", c.hidden_dim);
    get_int("num_layers", c.num_layers);
    get_int("n_heads", c.n_heads);
    get_int("d_ff", c.d_ff);
    get_int("input_T", c.input_T);
    get_int("diffusion_T", c.diffusion_T);
    get_int("root_layers", c.root_layers);
    if (!j.contains("dropout") || !j["dropout"].is_number())
        fail_input(source + ": model config field 'dropout' missing or not a number");
    c.dropout = j["dropout"].get<double>();
    auto get_str = [&](const char* key) {
        if (!j.contains(key) || !j[key].is_string())
            fail_input(source + ": model config field '" + key + "' missing or not a string");
        return j[key].get<std::string>();
    };
    c.cross_attention = parse_cross_attention(get_str("cross_attention"), source + ": cross_attention");
    c.condition_inputs = parse_condition_inputs(get_str("condition_inputs"), source + ": condition_inputs");
    // Optional: absent in files written before they existed.
    auto get_optional_bool = [&](const char* key, bool& out) {
        if (!j.contains(key)) return;
        if (!j[key].is_boolean()) fail_input(source + ": model config field '" + key + "' is not true or false");
        out = j[key].get<bool>();
    };
    get_optional_bool("cross_attention_locality", c.cross_attention_locality);
    get_optional_bool("zero_terminal_snr", c.zero_terminal_snr);
    if (j.contains("insole_encoder_layers")) get_int("insole_encoder_layers", c.insole_encoder_layers);
    if (auto why = c.check(); !why.empty()) fail_input(source + ": model config: " + why);
    return c;
}

std::string config_difference(const ModelConfig& a, const ModelConfig& b) {
    auto num = [](const char* name, double x, double y) {
        if (x == y) return std::string();
        std::ostringstream s;
        s << name << ": " << x << " vs " << y;
        return s.str();
    };
    for (auto d : {num("hidden_dim", a.hidden_dim, b.hidden_dim), num("num_layers", a.num_layers, b.num_layers),
                   num("n_heads", a.n_heads, b.n_heads), num("d_ff", a.d_ff, b.d_ff),
                   num("input_T", a.input_T, b.input_T), num("diffusion_T", a.diffusion_T, b.diffusion_T),
                   num("root_layers", a.root_layers, b.root_layers), num("dropout", a.dropout, b.dropout),
                   num("insole_encoder_layers", a.insole_encoder_layers, b.insole_encoder_layers)})
        if (!d.empty()) return d;
    if (a.cross_attention != b.cross_attention)
        return "cross_attention: " + to_string(a.cross_attention) + " vs " + to_string(b.cross_attention);
    if (a.condition_inputs != b.condition_inputs)
        return "condition_inputs: " + to_string(a.condition_inputs) + " vs " + to_string(b.condition_inputs);
    auto flag = [](const char* name, bool x, bool y) {
        return x == y ? std::string() : std::string(name) + ": " + (x ? "true" : "false") + " vs " + (y ? "true" : "false");
    };
    for (auto d : {flag("cross_attention_locality", a.cross_attention_locality, b.cross_attention_locality),
                   flag("zero_terminal_snr", a.zero_terminal_snr, b.zero_terminal_snr)})
        if (!d.empty()) return d;
    return {};
}

}  // namespace s2m::model
