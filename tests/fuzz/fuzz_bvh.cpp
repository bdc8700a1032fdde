// BVH: the parser, then what `s2m info` and `s2m retarget` do with a parsed file (scale detection,
// conversion to a motion, writing it back).
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/motion.hpp"

S2M_FUZZ_TARGET(bvh) {
    try {
        const s2m::io::Bvh bvh = s2m::io::parse_bvh(input, "fuzz.bvh");
        const double scale = s2m::io::detect_bvh_scale(bvh);
        const s2m::io::Motion m = s2m::io::motion_from_bvh(bvh, scale);
        (void)m.duration_s();
        (void)m.skeleton.rest_height_m();
        const std::string text = s2m::io::format_bvh(bvh);
        (void)s2m::io::parse_bvh(text, "fuzz-roundtrip.bvh");
    } catch (const s2m::InputError&) {
    }
}
