// s2m retarget: map BVH files of any skeleton onto the canonical 22-joint skeleton.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

namespace {
struct RetargetOptions {
    std::vector<std::string> inputs;
    std::string map = "cmu", scale = "auto", out, proportions = "source";
    double fps = 0;
};
}  // namespace

static std::function<int()> setup_retarget(CLI::App& app) {
    auto opt = std::make_shared<RetargetOptions>();
    app.add_option("inputs", opt->inputs, "BVH files")->required();
    app.add_option("--map", opt->map, "preset (step2motion, cmu, xsens, mixamo, snu, daz) or JSON map file")
        ->required();
    app.add_option("--scale", opt->scale, "metres per file unit, or auto (from the skeleton's height)");
    app.add_option("--fps", opt->fps, "resample to this frame rate (default: keep)");
    app.add_option("--proportions", opt->proportions, "bone lengths: source (the mocap's own joint placement) or standard (one set of proportions for every source, scaled to the leg)")
        ->capture_default_str()
        ->check(CLI::IsMember({"source", "standard"}));
    app.add_option("--out", opt->out, "output folder")->required();
    return [opt]() {
        namespace fs = std::filesystem;
        const s2m::kin::JointMap map = s2m::kin::load_joint_map(opt->map);
        s2m::Progress progress("retarget", static_cast<std::int64_t>(opt->inputs.size()), "files");
        for (const auto& input : opt->inputs) {
            const s2m::io::Bvh bvh = s2m::io::read_bvh(input);
            double scale;
            if (opt->scale == "auto") scale = map.scale_m_per_unit ? *map.scale_m_per_unit : s2m::io::detect_bvh_scale(bvh);
            else {
                try {
                    scale = std::stod(opt->scale);
                } catch (...) {
                    s2m::fail_input("--scale " + opt->scale + ": expected auto or a positive number");
                }
                if (!(scale > 0)) s2m::fail_input("--scale " + opt->scale + ": expected a positive number");
            }
            s2m::io::Motion m = s2m::io::motion_from_bvh(bvh, scale);
            if (opt->fps > 0) m = s2m::kin::resample(m, opt->fps);
            const s2m::io::Motion canon = s2m::kin::retarget_to_canonical(m, map, input, s2m::kin::parse_proportions(opt->proportions));
            const std::string out = (fs::path(opt->out) / fs::path(input).filename()).string();
            s2m::io::write_bvh(out, s2m::io::bvh_from_motion(canon), {6});
            spdlog::info("{} -> {} ({} frames at {:g} fps, scale {:g} m/unit, height {:.2f} m)", input, out,
                         canon.frames, canon.fps, scale, canon.skeleton.rest_height_m());
            progress.advance();
        }
        progress.finish();
        return 0;
    };
}
S2M_COMMAND("retarget", "map BVH motion of any skeleton onto the canonical 22 joints", setup_retarget);
