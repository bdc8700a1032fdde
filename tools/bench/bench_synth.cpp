// Synthesis speed: one hour of 120 Hz mocap (CMU walking, repeated) turned into 100 Hz insoles.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "step2motion/io/bvh.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/synth/synthesizer.hpp"

int main(int argc, char** argv) {
    // --smoke: one minute instead of one hour, for the test suite (checks that it works, not the figures).
    const bool smoke = argc > 1 && std::string(argv[1]) == "--smoke";
    if (argc > 2 || (argc == 2 && !smoke)) {
        std::fprintf(stderr, "usage: bench_synth [--smoke]\n");
        return 2;
    }
    namespace fs = std::filesystem;
    using clock = std::chrono::steady_clock;
    const std::string path = (fs::path(S2M_SOURCE_DIR) / "data" / "mocap" / "cmu" / "07_01.bvh").string();
    const s2m::io::Bvh bvh = s2m::io::read_bvh(path);
    const s2m::kin::JointMap map = s2m::kin::load_joint_map("cmu");
    s2m::io::Motion clip = s2m::kin::retarget_to_canonical(s2m::io::motion_from_bvh(bvh, s2m::io::detect_bvh_scale(bvh)), map, path);
    s2m::synth::drop_leading_rest_frames(clip);

    // One hour at 120 Hz: the clip played forwards and backwards in turn, so that it joins up
    // without jumps (the work per frame does not depend on the content).
    const int J = clip.skeleton.size();
    const int target = static_cast<int>((smoke ? 60 : 3600) * clip.fps);
    s2m::io::Motion hour;
    hour.skeleton = clip.skeleton;
    hour.fps = clip.fps;
    hour.frames = target;
    hour.rotations.resize(static_cast<size_t>(target) * J);
    hour.translations.resize(static_cast<size_t>(target) * J);
    for (int f = 0; f < target; ++f) {
        const int period = 2 * (clip.frames - 1);
        const int k = f % period;
        const int src = k < clip.frames ? k : period - k;
        for (int j = 0; j < J; ++j) {
            hour.rotation(f, j) = clip.rotation(src, j);
            hour.translation(f, j) = clip.translation(src, j);
        }
    }
    std::printf("mocap: %d frames at %g Hz (%.0f min, %zu MB of joint state)\n", hour.frames, hour.fps, hour.duration_s() / 60,
                (hour.rotations.size() * sizeof(s2m::Quat) + hour.translations.size() * sizeof(s2m::Vec3)) >> 20);

    s2m::synth::SynthOptions opt;
    opt.name = "bench";
    for (auto noise : {s2m::synth::NoiseModel::None, s2m::synth::NoiseModel::Realistic}) {
        opt.noise = noise;
        const auto t0 = clock::now();
        const s2m::io::MoticonRecording rec = s2m::synth::synthesize_insoles(hour, opt, s2m::io::default_sensor_layout());
        const double s = std::chrono::duration<double>(clock::now() - t0).count();
        std::printf("synthesise %.0f min of 120 Hz mocap -> %d insole samples at 100 Hz, noise %s: %.2f s (target for 1 h < 20 s), %.0fx real time\n",
                    hour.duration_s() / 60, rec.frames(), noise == s2m::synth::NoiseModel::None ? "none" : "realistic", s,
                    hour.duration_s() / s);
    }
    const auto t0 = clock::now();
    const auto text = s2m::io::format_moticon(s2m::synth::synthesize_insoles(hour, opt, s2m::io::default_sensor_layout()));
    std::printf("synthesise + format the Moticon text (%.0f MB): %.2f s\n", text.size() / 1e6,
                std::chrono::duration<double>(clock::now() - t0).count());
    return 0;
}
