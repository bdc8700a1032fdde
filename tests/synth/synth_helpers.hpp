#pragma once
// Shared by the synthesiser tests: synthesise a BVH clip the way `s2m synth` does.
#include <string>

#include "step2motion/io/bvh.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/synth/synthesizer.hpp"

namespace s2m::test {

struct SynthClip {
    io::Motion canonical;
    io::MoticonRecording rec;
    synth::SynthDiagnostics diag;
};

inline io::Motion canonical_from_bvh(const std::string& path, const std::string& map = "cmu") {
    const io::Bvh bvh = io::read_bvh(path);
    const kin::JointMap jm = kin::load_joint_map(map);
    const double scale = jm.scale_m_per_unit ? *jm.scale_m_per_unit : io::detect_bvh_scale(bvh);
    io::Motion c = kin::retarget_to_canonical(io::motion_from_bvh(bvh, scale), jm, path);
    synth::drop_leading_rest_frames(c);
    return c;
}

inline SynthClip synth_clip(const std::string& path, synth::SynthOptions options = {}) {
    SynthClip clip;
    clip.canonical = canonical_from_bvh(path);
    if (options.name.empty()) options.name = path;
    clip.rec = synth::synthesize_insoles(clip.canonical, options, io::default_sensor_layout(), &clip.diag);
    return clip;
}

}  // namespace s2m::test
