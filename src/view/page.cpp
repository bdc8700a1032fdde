#include "step2motion/view/page.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

// The player's JSON (version 1), read by src/view/web/player.js:
//   title, fps, frames, floor_m (grid height), body_parts [3], components [8],
//   tracks: [{label, kind ("reconstruction" | "truth"), colour, parents [J],
//             root: f32 [F, 3] (metres), joints: i16 [F, J, 3] (millimetres, relative to root),
//             attention: u16 [F, 3, 8] (weight x 65535) | null}],
//   insoles: {layout: {x_anterior [16], y_medial [16], area_cm2 [16]},
//             pressure: u16 [F, 2, 16] (N/cm² x 100), force: u16 [F, 2] (N x 10),
//             cop: i16 [F, 2, 2] (x 10000), stance: u8 [F, 2], max_pressure_n_cm2, max_force_n,
//             stance_rule} | null.
// Arrays are {type, shape, scale, b64}: little-endian raw values, value = raw x scale. Fixed point
// keeps a one-minute clip with one reconstruction and its truth well under a megabyte.

namespace s2m::view {

namespace {

const char* const kPalette[] = {"#1f5fbf", "#2a9d4b", "#8e44ad", "#c0392b", "#138d90", "#7f6000"};
constexpr const char* kTruthColour = "#e08a1e";

template <typename T>
nlohmann::json packed(const std::vector<T>& raw, const char* type, std::vector<int> shape, double scale) {
    std::string bytes(raw.size() * sizeof(T), '\0');
    // Little-endian on every machine this builds for (x86-64, aarch64); written byte by byte anyway.
    for (size_t i = 0; i < raw.size(); ++i) {
        using U = std::make_unsigned_t<T>;
        U u;
        std::memcpy(&u, &raw[i], sizeof(T));
        for (size_t b = 0; b < sizeof(T); ++b) bytes[i * sizeof(T) + b] = static_cast<char>((u >> (8 * b)) & 0xff);
    }
    return {{"type", type}, {"shape", shape}, {"scale", scale}, {"b64", base64(bytes.data(), bytes.size())}};
}

nlohmann::json packed_f32(const std::vector<float>& v, std::vector<int> shape) {
    std::vector<uint32_t> raw(v.size());
    std::memcpy(raw.data(), v.data(), v.size() * sizeof(float));
    auto j = packed(raw, "f32", std::move(shape), 1.0);
    return j;
}

template <typename T>
T quantise(double value, double scale) {
    const double q = std::round(value / scale);
    const double lo = static_cast<double>(std::numeric_limits<T>::min()), hi = static_cast<double>(std::numeric_limits<T>::max());
    return static_cast<T>(std::clamp(std::isfinite(q) ? q : 0.0, lo, hi));
}

// Pages show `frames` of everything: the shortest of the tracks and the insoles.
int common_frames(const PlayerData& d) {
    int frames = -1;
    for (const auto& t : d.tracks) frames = frames < 0 ? t.frames() : std::min(frames, t.frames());
    if (d.insoles.rows() > 0) frames = frames < 0 ? int(d.insoles.rows()) : std::min(frames, int(d.insoles.rows()));
    return std::max(frames, 0);
}

}  // namespace

std::string base64(const void* data, size_t bytes) {
    static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    out.reserve((bytes + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes; i += 3) {
        const uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
        out += kDigits[(v >> 6) & 63];
        out += kDigits[v & 63];
    }
    if (i < bytes) {
        const bool two = i + 1 < bytes;
        const uint32_t v = (uint32_t(p[i]) << 16) | (two ? uint32_t(p[i + 1]) << 8 : 0);
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
        out += two ? kDigits[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string html_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string track_colour(int i) { return kPalette[((i % 6) + 6) % 6]; }

bool in_stance(double total_force_n) { return total_force_n >= io::kCopMinForce_n; }

Track track_from_bvh(const std::string& path, const std::string& label, double fps) {
    const io::Bvh bvh = io::read_bvh(path);
    if (bvh.num_frames < 1) fail_input(path, 0, "BVH has no frames");
    io::Motion motion = io::motion_from_bvh(bvh, io::detect_bvh_scale(bvh));
    if (fps > 0 && std::abs(motion.fps - fps) > 1e-6 && motion.frames > 1) motion = kin::resample(motion, fps);
    Track t;
    t.label = label;
    t.parents = motion.skeleton.parents;
    t.positions_m = kin::forward_kinematics(motion);
    return t;
}

Track track_from_poses(const Eigen::MatrixXf& poses, const Eigen::Vector3d& root_start_m, const std::string& label) {
    const auto m = infer::positions_from_poses(poses, root_start_m);
    Track t;
    t.label = label;
    t.parents.assign(kin::kJointParents.begin(), kin::kJointParents.end());
    t.positions_m = m.joints_m;
    return t;
}

std::vector<std::string> attach_details(Track& track, const std::string& path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_text_file(path));
    } catch (const nlohmann::json::exception& e) {
        fail_input(path, 0, std::string("invalid JSON: ") + e.what());
    }
    std::vector<std::string> components;
    try {
        for (const auto& c : j.at("components")) components.push_back(c.get<std::string>());
        const auto& att = j.at("attention");
        if (components.size() != 8) fail_input(path, 0, "expected \"components\": 8 insole component names");
        if (att.empty()) return components;  // a regressor: no attention
        if (static_cast<int>(att.size()) != track.frames())
            fail_input(path, 0, "attention has " + std::to_string(att.size()) + " frames, the BVH " + std::to_string(track.frames()) +
                                    " (is this the --details file of that BVH?)");
        track.attention.clear();
        track.attention.reserve(att.size() * 24);
        for (const auto& frame : att) {
            if (frame.size() != 3) fail_input(path, 0, "attention: expected 3 body parts per frame");
            for (const auto& part : frame) {
                if (part.size() != 8) fail_input(path, 0, "attention: expected 8 components per body part");
                for (const auto& v : part) track.attention.push_back(v.get<float>());
            }
        }
    } catch (const nlohmann::json::exception& e) {
        fail_input(path, 0, std::string("not a `s2m reconstruct --details` file: ") + e.what());
    }
    return components;
}

nlohmann::json player_json(const PlayerData& d) {
    const int F = common_frames(d);
    if (F < 1) fail_input("view: nothing to show (no frames)");
    nlohmann::json j;
    j["version"] = 1;
    j["title"] = d.title;
    j["fps"] = d.fps;
    j["frames"] = F;
    j["body_parts"] = {"left_leg", "right_leg", "body"};
    j["components"] = d.components;
    // The grid at the floor of the first track: the 2nd percentile of its lowest joint per frame
    // (a stray low frame does not sink the floor).
    if (!d.tracks.empty()) {
        const Track& t = d.tracks.front();
        std::vector<double> lowest(static_cast<size_t>(F), 1e30);
        for (int f = 0; f < F; ++f)
            for (int k = 0; k < t.joints(); ++k) lowest[size_t(f)] = std::min(lowest[size_t(f)], t.positions_m[size_t(f * t.joints() + k)].y());
        std::sort(lowest.begin(), lowest.end());
        j["floor_m"] = lowest[size_t(F / 50)];
    }
    j["tracks"] = nlohmann::json::array();
    int colour = 0;
    for (const auto& t : d.tracks) {
        const int J = t.joints();
        std::vector<float> root(static_cast<size_t>(F) * 3);
        std::vector<int16_t> rel(static_cast<size_t>(F) * J * 3);
        for (int f = 0; f < F; ++f) {
            const Eigen::Vector3d r = t.positions_m[size_t(f * J)];
            for (int a = 0; a < 3; ++a) root[size_t(f * 3 + a)] = static_cast<float>(r[a]);
            for (int k = 0; k < J; ++k) {
                // Relative to the float32 root as the page will read it back.
                const Eigen::Vector3d& p = t.positions_m[size_t(f * J + k)];
                for (int a = 0; a < 3; ++a) rel[size_t((f * J + k) * 3 + a)] = quantise<int16_t>(p[a] - double(root[size_t(f * 3 + a)]), 0.001);
            }
        }
        nlohmann::json tj;
        tj["label"] = t.label;
        tj["kind"] = t.kind;
        tj["colour"] = t.kind == "truth" ? kTruthColour : track_colour(colour++);
        tj["parents"] = t.parents;
        tj["root"] = packed_f32(root, {F, 3});
        tj["joints"] = packed(rel, "i16", {F, J, 3}, 0.001);
        if (static_cast<int>(t.attention.size()) >= F * 24) {
            std::vector<uint16_t> a(static_cast<size_t>(F) * 24);
            for (size_t i = 0; i < a.size(); ++i) a[i] = quantise<uint16_t>(t.attention[i], 1.0 / 65535);
            tj["attention"] = packed(a, "u16", {F, 3, 8}, 1.0 / 65535);
        } else {
            tj["attention"] = nullptr;
        }
        j["tracks"].push_back(tj);
    }
    if (d.insoles.rows() > 0) {
        if (d.insoles.cols() != io::kInsoleChannels) fail_input("view: insole frames must have 50 channels");
        const auto& layout = io::default_sensor_layout();
        std::vector<uint16_t> pressure(static_cast<size_t>(F) * 32), force(static_cast<size_t>(F) * 2);
        std::vector<int16_t> cop(static_cast<size_t>(F) * 4);
        std::vector<uint8_t> stance(static_cast<size_t>(F) * 2);
        std::vector<float> all_pressure;
        double max_force = 0;
        for (int f = 0; f < F; ++f)
            for (int foot = 0; foot < 2; ++foot) {
                const int base = foot * io::kFootChannels;
                for (int k = 0; k < 16; ++k) {
                    const float p = std::max(0.f, d.insoles(f, base + k));
                    pressure[size_t((f * 2 + foot) * 16 + k)] = quantise<uint16_t>(p, 0.01);
                    if (p > 0) all_pressure.push_back(p);
                }
                const double fn = std::max(0.f, d.insoles(f, base + io::kForceOffset));
                max_force = std::max(max_force, fn);
                force[size_t(f * 2 + foot)] = quantise<uint16_t>(fn, 0.1);
                for (int a = 0; a < 2; ++a) cop[size_t((f * 2 + foot) * 2 + a)] = quantise<int16_t>(d.insoles(f, base + io::kCopOffset + a), 1e-4);
                stance[size_t(f * 2 + foot)] = in_stance(fn) ? 1 : 0;
            }
        // Colour scale to the 99th percentile of loaded cells: one hard heel strike does not wash out the rest.
        double pmax = 1;
        if (!all_pressure.empty()) {
            const size_t k = std::min(all_pressure.size() - 1, all_pressure.size() * 99 / 100);
            std::nth_element(all_pressure.begin(), all_pressure.begin() + long(k), all_pressure.end());
            pmax = std::max(1.0, double(all_pressure[k]));
        }
        const auto areas = layout.areas_cm2(7);
        nlohmann::json ins;
        ins["layout"] = {{"x_anterior", layout.x_anterior}, {"y_medial", layout.y_medial}, {"area_cm2", areas}};
        ins["pressure"] = packed(pressure, "u16", {F, 2, 16}, 0.01);
        ins["force"] = packed(force, "u16", {F, 2}, 0.1);
        ins["cop"] = packed(cop, "i16", {F, 2, 2}, 1e-4);
        ins["stance"] = packed(stance, "u8", {F, 2}, 1.0);
        ins["max_pressure_n_cm2"] = pmax;
        ins["max_force_n"] = std::max(1.0, max_force);
        ins["stance_rule"] = "total force >= 50 N (the exporter's centre-of-pressure threshold)";
        j["insoles"] = ins;
    } else {
        j["insoles"] = nullptr;
    }
    return j;
}

std::string page_html(const std::string& title, const std::string& body_html, const std::vector<nlohmann::json>& players) {
    std::string html;
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    html += "<title>" + html_escape(title) + "</title>\n<style>\n";
    html += web_asset("player.css");
    html += "</style>\n</head>\n<body>\n";
    html += body_html;
    if (!players.empty()) {
        html += "<div id=\"s2m-player\"></div>\n";
        for (const auto& p : players) {
            // Inside a script element "</script" or "<!--" would end or confuse it: '<' occurs in JSON
            // only within strings, where \u003c means the same character.
            std::string safe;
            for (char c : p.dump()) {
                if (c == '<') safe += "\\u003c";
                else safe += c;
            }
            html += "<script type=\"application/json\" class=\"s2m-data\">" + safe + "</script>\n";
        }
        html += "<script>\n";
        html += web_asset("player.js");
        html += "</script>\n";
    }
    html += "</body>\n</html>\n";
    return html;
}

}  // namespace s2m::view
