// s2m view: one self-contained HTML page that plays reconstructions beside the insoles they came from.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/infer/inputs.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/view/page.hpp"

namespace {
struct ViewCli {
    std::vector<std::string> bvh, labels, details;
    std::string insoles, truth, out, clip, title;
    bool no_details = false;
};

// The recording's one sequence; for a dataset file or folder with several, the one named --clip.
s2m::infer::InsoleSequence pick_sequence(const ViewCli& o, double fps) {
    auto all = s2m::infer::load_inputs({o.insoles}, "all", fps);
    if (!o.clip.empty()) {
        for (auto& s : all)
            if (s.name == o.clip) return s;
        s2m::fail_input(o.insoles, 0, "no clip named '" + o.clip + "' (it has " + std::to_string(all.size()) + " sequences)");
    }
    if (all.size() != 1) {
        std::string names;
        for (size_t i = 0; i < all.size() && i < 5; ++i) names += (i ? ", " : "") + all[i].name;
        s2m::fail_input(o.insoles, 0, std::to_string(all.size()) + " sequences: choose one with --clip (e.g. " + names + ")");
    }
    return all.front();
}
}  // namespace

static std::function<int()> setup_view(CLI::App& app) {
    auto opt = std::make_shared<ViewCli>();
    app.add_option("bvh", opt->bvh, "reconstructions of one recording (BVH); several are shown side by side")->required();
    app.add_option("--insoles", opt->insoles, "the insole recording they came from (Moticon .txt, dataset .h5 with --clip, FOLDER:SEQ)")
        ->required();
    app.add_option("--out", opt->out, "the HTML page to write")->required();
    app.add_option("--truth", opt->truth,
                   "ground-truth BVH, overlaid in orange; 'recording' for the ground truth stored with a dataset clip");
    app.add_option("--label", opt->labels, "a name per reconstruction (default: file or folder names)");
    app.add_option("--details", opt->details,
                   "`s2m reconstruct --details` JSON per reconstruction (default: <name>.json beside each BVH, when present)");
    app.add_flag("--no-details", opt->no_details, "leave attention out even where a details file is present");
    app.add_option("--clip", opt->clip, "the clip of a dataset file or folder");
    app.add_option("--title", opt->title, "page title (default: the recording's name)");
    return [opt]() {
        namespace fs = std::filesystem;
        if (!opt->labels.empty() && opt->labels.size() != opt->bvh.size())
            s2m::fail_input("--label: give one per BVH (" + std::to_string(opt->bvh.size()) + "), got " + std::to_string(opt->labels.size()));
        if (!opt->details.empty() && opt->details.size() != opt->bvh.size())
            s2m::fail_input("--details: give one per BVH (" + std::to_string(opt->bvh.size()) + "), got " + std::to_string(opt->details.size()));
        const double fps = s2m::io::read_bvh(opt->bvh.front()).fps();
        if (!(fps > 0)) s2m::fail_input(opt->bvh.front(), 0, "BVH frame time must be positive");

        // Labels: file stems, or parent folder names when the stems are all the same (models side by side).
        std::vector<std::string> labels = opt->labels;
        if (labels.empty()) {
            bool same = true;
            for (const auto& p : opt->bvh) same = same && fs::path(p).stem() == fs::path(opt->bvh.front()).stem();
            for (const auto& p : opt->bvh) {
                const fs::path path(p);
                labels.push_back(same && opt->bvh.size() > 1 ? path.parent_path().filename().string() : path.stem().string());
            }
        }
        s2m::view::PlayerData data;
        data.fps = fps;
        for (size_t i = 0; i < opt->bvh.size(); ++i) {
            auto track = s2m::view::track_from_bvh(opt->bvh[i], labels[i], fps);
            std::string details;
            if (!opt->details.empty()) details = opt->details[i];
            else if (!opt->no_details) {
                const fs::path beside = fs::path(opt->bvh[i]).replace_extension(".json");
                if (fs::exists(beside)) details = beside.string();
            }
            if (!details.empty() && !opt->no_details) {
                const auto components = s2m::view::attach_details(track, details);
                if (data.components.empty()) data.components = components;
                if (track.attention.empty())
                    std::printf("details of %s from %s: no attention (a regressor)\n", labels[i].c_str(), details.c_str());
                else
                    std::printf("attention of %s from %s\n", labels[i].c_str(), details.c_str());
            }
            data.tracks.push_back(std::move(track));
        }
        const auto sequence = pick_sequence(*opt, fps);
        if (opt->truth == "recording") {
            if (sequence.poses.rows() != sequence.frames())
                s2m::fail_input(opt->insoles, 0, "--truth recording: this recording has no ground truth (only dataset clips do)");
            auto truth = s2m::view::track_from_poses(sequence.poses, sequence.root_start_m, "ground truth");
            truth.kind = "truth";
            data.tracks.push_back(std::move(truth));
        } else if (!opt->truth.empty()) {
            auto truth = s2m::view::track_from_bvh(opt->truth, "ground truth", fps);
            truth.kind = "truth";
            data.tracks.push_back(std::move(truth));
        }
        data.insoles = sequence.insoles;
        data.title = opt->title.empty() ? sequence.name : opt->title;
        int frames = sequence.frames();
        for (const auto& t : data.tracks) {
            if (std::abs(t.frames() - sequence.frames()) > 1)
                std::printf("note: %s has %d frames, the recording %d at %.0f Hz; the page shows the first %d\n", t.label.c_str(),
                            t.frames(), sequence.frames(), fps, std::min(t.frames(), sequence.frames()));
            frames = std::min(frames, t.frames());
        }
        std::string intro = "<h1>" + s2m::view::html_escape(data.title) + "</h1>\n<div class=\"s2m-meta\">" +
                            s2m::view::html_escape(sequence.source) + " · " + std::to_string(frames) + " frames at " +
                            std::to_string(int(fps + 0.5)) + " Hz · reconstructions: ";
        for (size_t i = 0; i < opt->bvh.size(); ++i) intro += (i ? ", " : "") + s2m::view::html_escape(opt->bvh[i]);
        if (!opt->truth.empty()) intro += " · ground truth: " + s2m::view::html_escape(opt->truth);
        intro += "</div>\n";
        const std::string html = s2m::view::page_html(data.title, intro, {s2m::view::player_json(data)});
        if (fs::path(opt->out).has_parent_path()) fs::create_directories(fs::path(opt->out).parent_path());
        s2m::write_file_atomic(opt->out, html);
        std::printf("wrote %s (%d frames, %.1f s, %.0f KB): open it in a browser\n", opt->out.c_str(), frames, frames / fps,
                    html.size() / 1024.0);
        return 0;
    };
}
S2M_COMMAND("view", "write a self-contained HTML player of reconstructions beside their insole recording", setup_view);
