#include "step2motion/model/train_config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::model {

std::string to_string(ModelType t) {
    switch (t) {
        case ModelType::Step2Motion: return "step2motion";
        case ModelType::Mlp: return "mlp";
        case ModelType::Transformer: return "transformer";
        case ModelType::DiffusionStdXattn: return "diffusion_std_xattn";
    }
    return "?";
}

std::string to_string(Representation r) { return r == Representation::Heading ? "heading" : "world"; }

model::ModelConfig TrainConfig::model_config() const {
    model::ModelConfig m;
    m.hidden_dim = hidden_dim;
    m.num_layers = num_layers;
    m.n_heads = transformer_n_heads;
    m.d_ff = transformer_d_ff;
    m.input_T = input_T;
    m.diffusion_T = diffusion_T;
    m.root_layers = root_layers;
    m.dropout = transformer_dropout;
    m.cross_attention = model_type == ModelType::DiffusionStdXattn ? model::CrossAttentionKind::Standard
                                                                   : model::CrossAttentionKind::PerComponent;
    m.condition_inputs = condition_inputs;
    m.cross_attention_locality = cross_attention_locality;
    m.zero_terminal_snr = zero_terminal_snr;
    m.insole_encoder_layers = insole_encoder_layers;
    return m;
}

namespace {

using json = nlohmann::json;

struct Field {
    std::function<void(const json&, TrainConfig&, const std::string& where)> read;
    std::function<void(const TrainConfig&, json&)> write;
};

[[noreturn]] void bad(const std::string& source, const std::string& key, const std::string& what) {
    fail_input(source, 0, "\"" + key + "\": " + what);
}

template <typename T>
Field int_field(const char* key, T TrainConfig::*member, long lo, long hi) {
    return {[=](const json& v, TrainConfig& c, const std::string& src) {
                if (!v.is_number_integer()) bad(src, key, "expected an integer, found " + v.dump());
                const long x = v.get<long>();
                if (x < lo || x > hi)
                    bad(src, key, "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", found " + v.dump());
                c.*member = static_cast<T>(x);
            },
            [=](const TrainConfig& c, json& j) { j[key] = c.*member; }};
}

Field bool_field(const char* key, bool TrainConfig::*member) {
    return {[key, member](const json& v, TrainConfig& c, const std::string& src) {
                if (!v.is_boolean()) bad(src, key, "expected true or false, found " + v.dump());
                c.*member = v.get<bool>();
            },
            [key, member](const TrainConfig& c, json& j) { j[key] = c.*member; }};
}

Field real_field(const char* key, double TrainConfig::*member, double lo, double hi, bool open_lo = false) {
    return {[=](const json& v, TrainConfig& c, const std::string& src) {
                if (!v.is_number()) bad(src, key, "expected a number, found " + v.dump());
                const double x = v.get<double>();
                if (!(open_lo ? x > lo : x >= lo) || !(x <= hi))
                    bad(src, key, std::string("expected a number in ") + (open_lo ? "(" : "[") + json(lo).dump() + ", " +
                                      json(hi).dump() + "], found " + v.dump());
                c.*member = x;
            },
            [=](const TrainConfig& c, json& j) { j[key] = c.*member; }};
}

const std::map<std::string, Field>& fields() {
    static const std::map<std::string, Field> f = {
        {"seed", int_field("seed", &TrainConfig::seed, 0, 2147483647L)},
        {"epochs_pose", int_field("epochs_pose", &TrainConfig::epochs_pose, 0, 1000000)},
        {"epochs_trans", int_field("epochs_trans", &TrainConfig::epochs_trans, 0, 1000000)},
        {"batch_size", int_field("batch_size", &TrainConfig::batch_size, 1, 1 << 20)},
        {"lr", real_field("lr", &TrainConfig::lr, 0, 10, true)},
        {"clip_grad_value", real_field("clip_grad_value", &TrainConfig::clip_grad_value, 0, 1e12, true)},
        {"input_T", int_field("input_T", &TrainConfig::input_T, 2, 100000)},
        {"input_stride", int_field("input_stride", &TrainConfig::input_stride, 1, 100000)},
        {"hidden_dim", int_field("hidden_dim", &TrainConfig::hidden_dim, 8, 65536)},
        {"num_layers", int_field("num_layers", &TrainConfig::num_layers, 1, 64)},
        {"diffusion_T", int_field("diffusion_T", &TrainConfig::diffusion_T, 1, 100000)},
        {"diffusion_val_T", int_field("diffusion_val_T", &TrainConfig::diffusion_val_T, 1, 100000)},
        {"prediction_mode",
         {[](const json& v, TrainConfig& c, const std::string& src) {
              if (!v.is_string()) bad(src, "prediction_mode", "expected a string, found " + v.dump());
              if (v.get<std::string>() != "x0")
                  bad(src, "prediction_mode", "only \"x0\" (the reference's clean-sample prediction) is supported, found " + v.dump());
              c.prediction_mode = v.get<std::string>();
          },
          [](const TrainConfig& c, json& j) { j["prediction_mode"] = c.prediction_mode; }}},
        {"p_uncond", real_field("p_uncond", &TrainConfig::p_uncond, 0, 1)},
        {"transformer_n_heads", int_field("transformer_n_heads", &TrainConfig::transformer_n_heads, 1, 256)},
        {"transformer_d_ff", int_field("transformer_d_ff", &TrainConfig::transformer_d_ff, 1, 1 << 20)},
        {"transformer_dropout", real_field("transformer_dropout", &TrainConfig::transformer_dropout, 0, 0.99)},
        {"model_type",
         {[](const json& v, TrainConfig& c, const std::string& src) {
              const std::string s = v.is_string() ? v.get<std::string>() : "";
              for (ModelType t : {ModelType::Step2Motion, ModelType::Mlp, ModelType::Transformer, ModelType::DiffusionStdXattn})
                  if (s == to_string(t)) {
                      c.model_type = t;
                      return;
                  }
              bad(src, "model_type", "expected step2motion, mlp, transformer or diffusion_std_xattn, found " + v.dump());
          },
          [](const TrainConfig& c, json& j) { j["model_type"] = to_string(c.model_type); }}},
        {"root_layers", int_field("root_layers", &TrainConfig::root_layers, 1, 16)},
        {"condition_inputs",
         {[](const json& v, TrainConfig& c, const std::string& src) {
              if (!v.is_string()) bad(src, "condition_inputs", "expected all, pressure_only or imu_only, found " + v.dump());
              c.condition_inputs = model::parse_condition_inputs(v.get<std::string>(), src + ": \"condition_inputs\"");
          },
          [](const TrainConfig& c, json& j) { j["condition_inputs"] = model::to_string(c.condition_inputs); }}},
        {"cross_attention_locality", bool_field("cross_attention_locality", &TrainConfig::cross_attention_locality)},
        {"zero_terminal_snr", bool_field("zero_terminal_snr", &TrainConfig::zero_terminal_snr)},
        {"insole_encoder_layers", int_field("insole_encoder_layers", &TrainConfig::insole_encoder_layers, 0,
                                            model::ModelConfig::kMaxInsoleEncoderLayers)},
        {"timestep_power", real_field("timestep_power", &TrainConfig::timestep_power, 0, 10, true)},
        {"max_windows_per_epoch", int_field("max_windows_per_epoch", &TrainConfig::max_windows_per_epoch, 0, 2147483647L)},
        {"max_val_windows", int_field("max_val_windows", &TrainConfig::max_val_windows, 0, 2147483647L)},
        {"keyed_draws", bool_field("keyed_draws", &TrainConfig::keyed_draws)},
        {"representation",
         {[](const json& v, TrainConfig& c, const std::string& src) {
              const std::string s = v.is_string() ? v.get<std::string>() : "";
              if (s == "world") c.representation = Representation::World;
              else if (s == "heading") c.representation = Representation::Heading;
              else bad(src, "representation", "expected world or heading, found " + v.dump());
          },
          [](const TrainConfig& c, json& j) { j["representation"] = to_string(c.representation); }}},
        {"heading_jitter_deg", real_field("heading_jitter_deg", &TrainConfig::heading_jitter_deg, 0, 180)},
    };
    return f;
}

}  // namespace

TrainConfig parse_train_config(const std::string& text, const std::string& source, Representation representation_when_absent) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        fail_input(source, 0, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) fail_input(source, 0, "expected a JSON object of training settings");
    TrainConfig c;
    c.representation = representation_when_absent;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it.key().empty() && it.key()[0] == '_') continue;  // "_comment" and the like
        auto f = fields().find(it.key());
        if (f == fields().end()) fail_input(source, 0, "unknown key \"" + it.key() + "\"");
        f->second.read(it.value(), c, source);
    }
    const std::string why = c.model_config().check();
    if (!why.empty()) fail_input(source, 0, why);
    return c;
}

TrainConfig read_train_config(const std::string& path) { return parse_train_config(read_text_file(path), path); }

std::string train_config_to_json(const TrainConfig& c) {
    json j = json::object();
    for (const auto& [key, field] : fields()) field.write(c, j);
    return j.dump(2);
}

}  // namespace s2m::model
