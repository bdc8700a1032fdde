// UnderPressure synchronisation CSV: parse, span checks, write and read back.
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/io/sync.hpp"

S2M_FUZZ_TARGET(sync) {
    try {
        const s2m::io::SyncInfo s = s2m::io::parse_sync_csv(input, "fuzz.csv");
        s2m::io::check_span_within(s, s.mocap, "mocap", 1000, "fuzz.bvh");
        (void)s2m::io::parse_sync_csv(s2m::io::format_sync_csv(s), "fuzz-roundtrip.csv");
    } catch (const s2m::InputError&) {
    }
}
