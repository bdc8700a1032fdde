// Moticon OpenGo text export: the parser and the 50-channel matrix every consumer takes from it.
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/io/moticon.hpp"

S2M_FUZZ_TARGET(moticon) {
    try {
        const s2m::io::MoticonRecording rec = s2m::io::parse_moticon(input, "fuzz.txt");
        const Eigen::MatrixXf m = s2m::io::insole_channels(rec);
        (void)m.rows();
        (void)rec.feet[0].missing_fraction();
        (void)rec.feet[1].missing_fraction();
    } catch (const s2m::InputError&) {
    }
}
