// The model files' metadata that is ours rather than LibTorch's: the model configuration JSON a
// checkpoint stores under s2m.config (the pickled dictionary itself is read by torch::pickle_load).
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/model/config.hpp"

S2M_FUZZ_TARGET(model_meta) {
    try {
        const s2m::model::ModelConfig c = s2m::model::config_from_json(std::string(input), "fuzz.pt");
        const s2m::model::ModelConfig back = s2m::model::config_from_json(s2m::model::config_to_json(c), "fuzz-roundtrip");
        (void)s2m::model::config_difference(c, back);
    } catch (const s2m::InputError&) {
    }
}
