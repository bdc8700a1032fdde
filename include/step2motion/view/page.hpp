#pragma once
// Self-contained HTML pages: a player of skeletons next to the insoles (`s2m view`) and the pieces
// the evaluation report shares with it. The page's script and style sheet (src/view/web/) are built
// into the binary; the data is embedded as JSON with base64 arrays, so a page needs no other file and
// no network.
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace s2m::view {

// Files of src/view/web/ ("player.js", "player.css"); InputError for an unknown name.
std::string_view web_asset(const std::string& name);

// One skeleton over time: world positions in metres, Y up.
struct Track {
    std::string label;
    std::string kind = "reconstruction";  // or "truth"
    std::vector<int> parents;             // parents[j] < j, -1 for the root (joint 0)
    std::vector<Eigen::Vector3d> positions_m;  // frames x joints
    // Attention weights from `s2m reconstruct --details`: frames x 3 body parts x 8 components.
    std::vector<float> attention;
    int joints() const { return static_cast<int>(parents.size()); }
    int frames() const { return parents.empty() ? 0 : static_cast<int>(positions_m.size() / parents.size()); }
};

// A BVH file of any skeleton (scale detected as `s2m info` does), resampled to `fps` when it differs.
Track track_from_bvh(const std::string& path, const std::string& label, double fps);
// 66-value pose frames (root displacement, 21 root-relative joints) on the canonical skeleton, with
// the root starting at `root_start_m`.
Track track_from_poses(const Eigen::MatrixXf& poses, const Eigen::Vector3d& root_start_m, const std::string& label);
// Reads the attention of a `--details` JSON into `track`; InputError when it does not fit the track.
// Returns the component labels the file names.
std::vector<std::string> attach_details(Track& track, const std::string& details_path);

struct PlayerData {
    std::string title;
    double fps = 30;
    std::vector<Track> tracks;   // reconstructions (side by side) and at most one "truth"
    Eigen::MatrixXf insoles;     // frames x 50 (reference layout, raw units), or empty
    std::vector<std::string> components;  // attention components, in the model's head order
};

// A foot is in stance when its insole's total force reaches the exporter's centre-of-pressure
// threshold (io::kCopMinForce_n, 50 N): the force at which a Moticon export starts to give a CoP.
bool in_stance(double total_force_n);

// The JSON a player reads (schema in page.cpp). Frames: the shortest of the tracks and insoles.
nlohmann::json player_json(const PlayerData& data);
// A complete page: title, an optional intro (HTML), one player per data set (several: a selector).
std::string page_html(const std::string& title, const std::string& body_html, const std::vector<nlohmann::json>& players);

// Colour of the i-th reconstruction in players and plots.
std::string track_colour(int i);

// Helpers shared with the report.
std::string html_escape(std::string_view text);
std::string base64(const void* data, size_t bytes);

}  // namespace s2m::view
