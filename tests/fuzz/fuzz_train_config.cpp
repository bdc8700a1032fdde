// Training configs (--config CONFIG.json), also the s2m.train_config text stored in model files.
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/model/train_config.hpp"

S2M_FUZZ_TARGET(train_config) {
    try {
        const s2m::model::TrainConfig c = s2m::model::parse_train_config(std::string(input), "fuzz.json");
        (void)s2m::model::parse_train_config(s2m::model::train_config_to_json(c), "fuzz-roundtrip.json");
        (void)c.model_config().check();
    } catch (const s2m::InputError&) {
    }
}
