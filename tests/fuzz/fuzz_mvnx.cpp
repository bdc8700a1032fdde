// Xsens MVNX (XML).
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/io/mvnx.hpp"

S2M_FUZZ_TARGET(mvnx) {
    try {
        const s2m::io::Mvnx m = s2m::io::parse_mvnx(input, "fuzz.mvnx");
        for (int s = 0; s < m.segment_count(); ++s) (void)s2m::io::mvn_parent_index(m.segments, s);
    } catch (const s2m::InputError&) {
    }
}
