#include "step2motion/io/mvnx.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::io {

namespace {

const std::map<std::string, std::string>& mvn_tree() {
    static const std::map<std::string, std::string> tree = {
        {"Pelvis", ""},
        {"L5", "Pelvis"},
        {"L3", "L5"},
        {"T12", "L3"},
        {"T8", "T12"},
        {"Neck", "T8"},
        {"Head", "Neck"},
        {"RightShoulder", "T8"},
        {"RightUpperArm", "RightShoulder"},
        {"RightForeArm", "RightUpperArm"},
        {"RightHand", "RightForeArm"},
        {"LeftShoulder", "T8"},
        {"LeftUpperArm", "LeftShoulder"},
        {"LeftForeArm", "LeftUpperArm"},
        {"LeftHand", "LeftForeArm"},
        {"RightUpperLeg", "Pelvis"},
        {"RightLowerLeg", "RightUpperLeg"},
        {"RightFoot", "RightLowerLeg"},
        {"RightToe", "RightFoot"},
        {"LeftUpperLeg", "Pelvis"},
        {"LeftLowerLeg", "LeftUpperLeg"},
        {"LeftFoot", "LeftLowerLeg"},
        {"LeftToe", "LeftFoot"},
    };
    return tree;
}

long line_at(std::string_view text, std::ptrdiff_t offset) {
    if (offset < 0) return 0;
    const auto end = text.begin() + std::min<std::ptrdiff_t>(offset, static_cast<std::ptrdiff_t>(text.size()));
    return 1 + static_cast<long>(std::count(text.begin(), end, '\n'));
}

// Numbers of an element's text; false when anything but numbers is there.
bool parse_numbers(const char* s, std::vector<double>& out) {
    out.clear();
    const char* e = s + std::strlen(s);
    while (true) {
        while (s < e && std::isspace(static_cast<unsigned char>(*s))) ++s;
        if (s >= e) return true;
        double v = 0;
        auto r = std::from_chars(s, e, v);
        if (r.ec != std::errc() || !std::isfinite(v)) return false;
        out.push_back(v);
        s = r.ptr;
    }
}

}  // namespace

int Mvnx::find(std::string_view name) const {
    for (size_t i = 0; i < segments.size(); ++i)
        if (segments[i] == name) return static_cast<int>(i);
    return -1;
}

Eigen::Vector3d mvnx_to_y_up(const Eigen::Vector3d& v) { return {v.y(), v.z(), v.x()}; }
Eigen::Quaterniond mvnx_to_y_up(const Eigen::Quaterniond& q) { return {q.w(), q.y(), q.z(), q.x()}; }
Eigen::Vector3d y_up_to_mvnx(const Eigen::Vector3d& v) { return {v.z(), v.x(), v.y()}; }
Eigen::Quaterniond y_up_to_mvnx(const Eigen::Quaterniond& q) { return {q.w(), q.z(), q.x(), q.y()}; }

int mvn_parent_index(const std::vector<std::string>& segments, int segment) {
    const auto& tree = mvn_tree();
    auto it = tree.find(segments[static_cast<size_t>(segment)]);
    if (it == tree.end()) return -2;
    if (it->second.empty()) return -1;
    for (size_t i = 0; i < segments.size(); ++i)
        if (segments[i] == it->second) return static_cast<int>(i);
    return -2;
}

Mvnx parse_mvnx(std::string_view text, const std::string& source) {
    pugi::xml_document doc;
    const pugi::xml_parse_result res =
        doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata_single, pugi::encoding_utf8);
    if (!res) fail_input(source, line_at(text, res.offset), std::string("invalid XML: ") + res.description());
    // Element line numbers come from their offset in the buffer.
    auto line_of = [&](const pugi::xml_node& n) { return line_at(text, n.offset_debug()); };
    const pugi::xml_node root = doc.child("mvnx");
    if (!root) fail_input(source, 1, "expected an <mvnx> root element (Xsens MVNX)");
    const pugi::xml_node subject = root.child("subject");
    if (!subject) fail_input(source, line_of(root), "expected a <subject> element");
    Mvnx m;
    m.source = source;
    m.subject = subject.attribute("label").as_string();
    m.frame_rate_hz = subject.attribute("frameRate").as_double(0);
    if (!(m.frame_rate_hz > 0)) fail_input(source, line_of(subject), "<subject> needs a positive frameRate attribute");
    const pugi::xml_node segments = subject.child("segments");
    if (!segments) fail_input(source, line_of(subject), "expected <segments>");
    for (pugi::xml_node s = segments.child("segment"); s; s = s.next_sibling("segment"))
        m.segments.push_back(s.attribute("label").as_string());
    const int ns = m.segment_count();
    if (ns == 0) fail_input(source, line_of(segments), "no <segment> entries");
    for (int s = 0; s < ns; ++s) {
        const int p = mvn_parent_index(m.segments, s);
        if (p == -2)
            fail_input(source, line_of(segments), "segment '" + m.segments[static_cast<size_t>(s)] +
                                                      "' is not an MVN body segment (or its parent is missing)");
        m.parents.push_back(p);
    }
    if (m.find("Pelvis") != 0) fail_input(source, line_of(segments), "the first segment must be Pelvis");
    const pugi::xml_node frames = subject.child("frames");
    if (!frames) fail_input(source, line_of(subject), "expected <frames>");

    std::vector<double> nums;
    auto read_block = [&](const pugi::xml_node& frame, const char* name, int per_segment, bool required,
                          std::vector<double>& out) {
        const pugi::xml_node e = frame.child(name);
        if (!e) {
            if (required) fail_input(source, line_of(frame), std::string("frame without <") + name + ">");
            return false;
        }
        if (!parse_numbers(e.child_value(), out))
            fail_input(source, line_of(e), std::string("<") + name + ">: expected numbers");
        if (static_cast<int>(out.size()) != per_segment * ns)
            fail_input(source, line_of(e), std::string("<") + name + ">: expected " + std::to_string(per_segment * ns) +
                                               " numbers (" + std::to_string(per_segment) + " per segment), got " +
                                               std::to_string(out.size()));
        return true;
    };
    std::vector<double> ori, pos;
    for (pugi::xml_node f = frames.child("frame"); f; f = f.next_sibling("frame")) {
        const std::string type = f.attribute("type").as_string("normal");
        if (type == "normal") {
            read_block(f, "orientation", 4, true, ori);
            read_block(f, "position", 3, true, pos);
            m.time_ms.push_back(f.attribute("time").as_double(static_cast<double>(m.frames) * 1000.0 / m.frame_rate_hz));
            for (int s = 0; s < ns; ++s) {
                Eigen::Quaterniond q(ori[4 * s], ori[4 * s + 1], ori[4 * s + 2], ori[4 * s + 3]);
                if (std::abs(q.norm() - 1) > 0.05)
                    fail_input(source, line_of(f.child("orientation")),
                               "segment '" + m.segments[static_cast<size_t>(s)] + "': orientation is not a unit quaternion");
                m.orientations.push_back(mvnx_to_y_up(q.normalized()));
                m.positions_m.push_back(mvnx_to_y_up(Eigen::Vector3d(pos[3 * s], pos[3 * s + 1], pos[3 * s + 2])));
            }
            ++m.frames;
        } else if (type == "identity" && m.reference_type.empty()) {
            // Calibration pose: every segment at zero rotation; orientations default to identity.
            read_block(f, "position", 3, true, pos);
            const bool has_ori = read_block(f, "orientation", 4, false, ori);
            for (int s = 0; s < ns; ++s) {
                m.reference_positions_m.push_back(mvnx_to_y_up(Eigen::Vector3d(pos[3 * s], pos[3 * s + 1], pos[3 * s + 2])));
                m.reference_orientations.push_back(
                    has_ori ? mvnx_to_y_up(Eigen::Quaterniond(ori[4 * s], ori[4 * s + 1], ori[4 * s + 2], ori[4 * s + 3]).normalized())
                            : Eigen::Quaterniond::Identity());
            }
            m.reference_type = "identity";
        }
        // Other calibration frames (tpose, tpose-isb) are skipped.
    }
    if (m.frames < 2) fail_input(source, line_of(frames), "fewer than two motion frames (type=\"normal\")");
    if (m.reference_type.empty()) {
        m.reference_type = "first-frame";
        m.reference_positions_m.assign(m.positions_m.begin(), m.positions_m.begin() + ns);
        m.reference_orientations.assign(m.orientations.begin(), m.orientations.begin() + ns);
    }
    return m;
}

Mvnx read_mvnx(const std::string& path) {
    const std::string text = read_text_file(path);
    return parse_mvnx(text, path);
}

std::string format_mvnx(const Mvnx& m) {
    const int ns = m.segment_count();
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mvnx version=\"4\" xmlns=\"http://www.xsens.com/mvn/mvnx\">\n";
    out += "<subject label=\"" + m.subject + "\" frameRate=\"" + std::to_string(static_cast<int>(std::lround(m.frame_rate_hz))) +
           "\" segmentCount=\"" + std::to_string(ns) + "\">\n<segments>\n";
    for (int s = 0; s < ns; ++s)
        out += "<segment label=\"" + m.segments[static_cast<size_t>(s)] + "\" id=\"" + std::to_string(s + 1) + "\"/>\n";
    out += "</segments>\n<frames segmentCount=\"" + std::to_string(ns) + "\">\n";
    char buf[64];
    auto num = [&](double v) {
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, r.ptr);
    };
    auto frame = [&](const char* type, const std::string& extra, const Eigen::Quaterniond* q, const Eigen::Vector3d* p) {
        out += std::string("<frame ") + extra + "type=\"" + type + "\">\n<orientation>";
        for (int s = 0; s < ns; ++s) {
            const Eigen::Quaterniond z = y_up_to_mvnx(q[s]);
            const double v[4] = {z.w(), z.x(), z.y(), z.z()};
            for (int a = 0; a < 4; ++a) {
                if (s || a) out += ' ';
                num(v[a]);
            }
        }
        out += "</orientation>\n<position>";
        for (int s = 0; s < ns; ++s) {
            const Eigen::Vector3d z = y_up_to_mvnx(p[s]);
            for (int a = 0; a < 3; ++a) {
                if (s || a) out += ' ';
                num(z[a]);
            }
        }
        out += "</position>\n</frame>\n";
    };
    frame("identity", "time=\"0\" ", m.reference_orientations.data(), m.reference_positions_m.data());
    frame("tpose", "time=\"0\" ", m.reference_orientations.data(), m.reference_positions_m.data());
    frame("tpose-isb", "time=\"0\" ", m.reference_orientations.data(), m.reference_positions_m.data());
    for (int f = 0; f < m.frames; ++f) {
        const long t = std::lround(f * 1000.0 / m.frame_rate_hz);
        frame("normal", "time=\"" + std::to_string(t) + "\" index=\"" + std::to_string(f) + "\" ",
              m.orientations.data() + static_cast<size_t>(f) * ns, m.positions_m.data() + static_cast<size_t>(f) * ns);
    }
    out += "</frames>\n</subject>\n</mvnx>\n";
    return out;
}

}  // namespace s2m::io
