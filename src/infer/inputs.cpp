#include "step2motion/infer/inputs.hpp"

#include <cmath>
#include <filesystem>

#include "step2motion/core/error.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/imu/frames.hpp"
#include "step2motion/imu/zupt.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/recordings.hpp"

namespace s2m::infer {

namespace fs = std::filesystem;

namespace {
// Moticon's "left steps"/"right steps" columns are sparse step events: two codes per step (e.g. 11
// and 15 on the left, 21 and 25 on the right, at heel strike and toe-off). Steps = occurrences of
// the column's first code. -1 when the column is absent.
int count_step_events(const io::MoticonRecording& rec, const char* name) {
    const io::MoticonColumn* c = rec.find_extra(name);
    if (!c) return -1;
    double first = INFINITY;
    for (double v : c->values)
        if (std::isfinite(v)) first = std::min(first, v);
    int n = 0;
    for (double v : c->values) n += v == first;
    return n;
}
}  // namespace

InsoleSequence sequence_from_moticon(const std::string& path, double rate_hz) {
    const io::MoticonRecording rec = io::read_moticon(path);
    Eigen::MatrixXf raw = io::insole_channels(rec), heading;
    imu::accelerations_to_world_filtered(raw, rec.rate_hz, {}, &heading);
    InsoleSequence s;
    s.name = fs::path(path).stem().string();
    s.source = path;
    s.rate_hz = rate_hz;
    // Linear resampling from the recording's rate over its duration.
    const int n_in = static_cast<int>(raw.rows());
    const double duration = (n_in - 1) / rec.rate_hz;
    const int n = static_cast<int>(std::floor(duration * rate_hz + 1e-9)) + 1;
    if (n < 2) fail_input(path, 0, "recording too short to reconstruct (fewer than 2 frames at " + std::to_string(rate_hz) + " Hz)");
    // The feet's path at the recording's rate: 100 Hz keeps short stances and the swing's shape.
    const Eigen::MatrixXd feet = imu::feet_root(raw, rec.rate_hz).position_m;
    s.insoles.resize(n, raw.cols());
    s.feet_root_m.resize(n, 3);
    s.insole_heading_rad.resize(n, 2);
    for (int f = 0; f < n; ++f) {
        const double x = std::min(f / rate_hz * rec.rate_hz, double(n_in - 1));
        const int i0 = std::min(static_cast<int>(x), n_in - 2);
        const float w = static_cast<float>(x - i0);
        s.insoles.row(f) = (1 - w) * raw.row(i0) + w * raw.row(i0 + 1);
        s.feet_root_m.row(f) = (1 - w) * feet.row(i0) + w * feet.row(i0 + 1);
        s.insole_heading_rad.row(f) = (1 - w) * heading.row(i0) + w * heading.row(i0 + 1);  // unwrapped
    }
    s.left_steps = count_step_events(rec, "left steps");
    s.right_steps = count_step_events(rec, "right steps");
    auto tag = rec.header.find("Tag");
    if (tag != rec.header.end()) s.tag = tag->second;
    return s;
}

InsoleSequence sequence_from_dataset_clip(const io::DatasetClip& c) {
    InsoleSequence s;
    s.name = c.name;
    for (auto& ch : s.name)
        if (ch == '/' || ch == '\\') ch = '_';
    s.source = c.source_insoles;
    s.rate_hz = c.rate_hz;
    s.insoles = c.insoles;
    s.poses = c.poses;
    s.insole_heading_rad = imu::clip_insole_headings(c);
    for (int j = 0; j < io::kDatasetJoints; ++j) s.offsets_m.push_back(c.offsets_m.row(j).transpose());
    s.wearer_leg_length_m = kin::leg_length_m(s.offsets_m);
    s.root_start_m = c.root_start_m;
    s.has_root_start = true;
    return s;
}

std::vector<InsoleSequence> load_inputs(const std::vector<std::string>& inputs, const std::string& split, double rate_hz) {
    std::vector<InsoleSequence> out;
    for (const auto& input : inputs) {
        std::string path = input, only;
        if (!fs::exists(path)) {
            // FOLDER:SEQ selects one sequence of a dataset folder.
            auto colon = input.rfind(':');
            if (colon != std::string::npos && fs::is_directory(input.substr(0, colon))) {
                path = input.substr(0, colon);
                only = input.substr(colon + 1);
            } else {
                fail_input(input, 0, "no such file or folder");
            }
        }
        const std::string ext = fs::path(path).extension().string();
        if (fs::is_regular_file(path) && (ext == ".txt" || ext == ".TXT")) {
            out.push_back(sequence_from_moticon(path, rate_hz));
        } else if (fs::is_regular_file(path) && (ext == ".h5" || ext == ".hdf5")) {
            const io::Dataset d = io::read_dataset(path);
            if (std::abs(d.rate_hz - rate_hz) > 1e-6)
                fail_input(path, 0, "dataset rate " + std::to_string(d.rate_hz) + " Hz differs from the model's " + std::to_string(rate_hz) + " Hz");
            size_t before = out.size();
            for (const auto& c : d.clips)
                if (split == "all" || c.split == split) out.push_back(sequence_from_dataset_clip(c));
            if (out.size() == before) fail_input(path, 0, "no clips in split '" + split + "'");
        } else {
            // An UnderPressure-layout folder or a manifest: sequences built like preprocess, with the
            // accelerations rotated by the insole-IMU filter (as in the wild) and the mocap as truth.
            imu::ClipOptions options;
            options.target_hz = rate_hz;
            options.imu_frame = imu::ImuFrameMode::Filter;
            size_t before = out.size();
            for (const auto& src : io::find_recordings(path)) {
                if (!only.empty() && src.name != only && fs::path(src.insoles).stem().string() != only) continue;
                out.push_back(sequence_from_dataset_clip(imu::build_clip(src, options)));
                out.back().source = src.insoles;
            }
            if (out.size() == before) fail_input(input, 0, only.empty() ? "no sequences found" : "no sequence named '" + only + "'");
        }
    }
    return out;
}

}  // namespace s2m::infer
