// JSON skeleton maps (--map MAP.json).
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/kinematics/canonical.hpp"

S2M_FUZZ_TARGET(joint_map) {
    try {
        (void)s2m::kin::parse_joint_map(std::string(input), "fuzz.json");
    } catch (const s2m::InputError&) {
    }
}
