#include "step2motion/kinematics/canonical.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/kinematics/motion.hpp"

namespace s2m::kin {

const std::array<const char*, kNumJoints> kJointNames = {
    "Hips",      "LeftUpLeg",    "LeftLeg", "LeftFoot",    "LeftToeBase",  "RightUpLeg",   "RightLeg",    "RightFoot",
    "RightToeBase", "Spine",     "Spine1",  "Spine3",      "Neck",         "Head",         "LeftShoulder", "LeftArm",
    "LeftForeArm", "LeftHand",   "RightShoulder", "RightArm", "RightForeArm", "RightHand"};
const std::array<int, kNumJoints> kJointParents = {-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 12, 11, 14, 15, 16, 11, 18, 19, 20};

namespace {

// Built-in maps, in the user file format. Alternatives in a list: the first present is used.
const char* kPresetStep2Motion = R"({"name": "step2motion", "joints": {
  "Hips": "Hips", "LeftUpLeg": "LeftUpLeg", "LeftLeg": "LeftLeg", "LeftFoot": "LeftFoot",
  "LeftToeBase": "LeftToeBase", "RightUpLeg": "RightUpLeg", "RightLeg": "RightLeg",
  "RightFoot": "RightFoot", "RightToeBase": "RightToeBase", "Spine": "Spine", "Spine1": "Spine1",
  "Spine3": ["Spine3", "Spine2"], "Neck": "Neck", "Head": "Head", "LeftShoulder": "LeftShoulder",
  "LeftArm": "LeftArm", "LeftForeArm": "LeftForeArm", "LeftHand": "LeftHand",
  "RightShoulder": "RightShoulder", "RightArm": "RightArm", "RightForeArm": "RightForeArm",
  "RightHand": "RightHand"}})";

// CMU "cgspeed" 31-joint BVH: Hips, L/RHipJoint, LowerBack, Spine, Spine1, Neck, Neck1, Head, ...
// CMU rotates LowerBack at the hip centre and Neck1 between Neck and Head, independently of the
// joints the canonical skeleton keeps; mapping Spine to LowerBack and Head to Neck1 keeps every
// canonical bone rigid, so that world positions are reproduced exactly (Spine and Neck then sit on
// their parents: zero-length Hips->Spine and Spine3->Neck bones). Head's end site reaches CMU's Head.
// The same map covers the ASF/AMC joint names of CMU's own conversion (hip, lfemur, ltibia, ...).
const char* kPresetCmu = R"({"name": "cmu", "joints": {
  "Hips": ["Hips", "hip"], "LeftUpLeg": ["LeftUpLeg", "lfemur"], "LeftLeg": ["LeftLeg", "ltibia"],
  "LeftFoot": ["LeftFoot", "lfoot"], "LeftToeBase": ["LeftToeBase", "ltoes"],
  "RightUpLeg": ["RightUpLeg", "rfemur"], "RightLeg": ["RightLeg", "rtibia"],
  "RightFoot": ["RightFoot", "rfoot"], "RightToeBase": ["RightToeBase", "rtoes"],
  "Spine": ["LowerBack", "lowerback"], "Spine1": ["Spine", "upperback"], "Spine3": ["Spine1", "thorax"],
  "Neck": ["Neck", "lowerneck"], "Head": ["Head", "head"],
  "LeftShoulder": {"between": [["LeftShoulder", "lclavicle"], ["LeftArm", "lhumerus"]], "at": 0.4},
  "LeftArm": ["LeftArm", "lhumerus"], "LeftForeArm": ["LeftForeArm", "lradius"], "LeftHand": ["LeftHand", "lwrist"],
  "RightShoulder": {"between": [["RightShoulder", "rclavicle"], ["RightArm", "rhumerus"]], "at": 0.4},
  "RightArm": ["RightArm", "rhumerus"], "RightForeArm": ["RightForeArm", "rradius"],
  "RightHand": ["RightHand", "rwrist"]}})";

// Xsens MVN segment names (BVH export or MVNX).
const char* kPresetXsens = R"({"name": "xsens", "joints": {
  "Hips": "Pelvis", "LeftUpLeg": "LeftUpperLeg", "LeftLeg": "LeftLowerLeg", "LeftFoot": "LeftFoot",
  "LeftToeBase": "LeftToe", "RightUpLeg": "RightUpperLeg", "RightLeg": "RightLowerLeg",
  "RightFoot": "RightFoot", "RightToeBase": "RightToe", "Spine": "L3", "Spine1": "T12",
  "Spine3": "T8", "Neck": "Neck", "Head": "Head", "LeftShoulder": "LeftShoulder",
  "LeftArm": "LeftUpperArm", "LeftForeArm": "LeftForeArm", "LeftHand": "LeftHand",
  "RightShoulder": "RightShoulder", "RightArm": "RightUpperArm", "RightForeArm": "RightForeArm",
  "RightHand": "RightHand"}})";

// Mixamo ("mixamorig:" prefixes are matched by the namespace rule).
const char* kPresetMixamo = R"({"name": "mixamo", "scale": 0.01, "joints": {
  "Hips": "Hips", "LeftUpLeg": "LeftUpLeg", "LeftLeg": "LeftLeg", "LeftFoot": "LeftFoot",
  "LeftToeBase": "LeftToeBase", "RightUpLeg": "RightUpLeg", "RightLeg": "RightLeg",
  "RightFoot": "RightFoot", "RightToeBase": "RightToeBase", "Spine": "Spine", "Spine1": "Spine1",
  "Spine3": "Spine2", "Neck": "Neck", "Head": "Head", "LeftShoulder": "LeftShoulder",
  "LeftArm": "LeftArm", "LeftForeArm": "LeftForeArm", "LeftHand": "LeftHand",
  "RightShoulder": "RightShoulder", "RightArm": "RightArm", "RightForeArm": "RightForeArm",
  "RightHand": "RightHand"}})";

// SNU woody/woody2 (20 and 26 joints: LeftToes, LeftShoulder1, HEad; no neck joint) and SNU basketball
// (22 joints: Spine2, Neck, LeftToe).
const char* kPresetSnu = R"({"name": "snu", "joints": {
  "Hips": ["Hips", "root"], "LeftUpLeg": "LeftUpLeg", "LeftLeg": "LeftLeg", "LeftFoot": "LeftFoot",
  "LeftToeBase": ["LeftToes", "LeftToeBase", "LeftToe"], "RightUpLeg": "RightUpLeg", "RightLeg": "RightLeg",
  "RightFoot": "RightFoot", "RightToeBase": ["RightToes", "RightToeBase", "RightToe"], "Spine": "Spine",
  "Spine1": {"between": ["Spine", ["Spine2", "Spine1"]], "at": 0.5}, "Spine3": ["Spine2", "Spine1"],
  "Neck": {"names": ["Neck"], "between": [["Spine2", "Spine1"], ["HEad", "Head"]], "at": 0.7}, "Head": ["HEad", "Head"],
  "LeftShoulder": ["LeftShoulder1", "LeftShoulder"], "LeftArm": "LeftArm",
  "LeftForeArm": "LeftForeArm", "LeftHand": "LeftHand", "RightShoulder": "RightShoulder",
  "RightArm": "RightArm", "RightForeArm": "RightForeArm", "RightHand": "RightHand"}})";

// CMU "Daz-friendly" conversion (hip, abdomen, chest, lThigh, lShin, lFoot, ...).
const char* kPresetDaz = R"({"name": "daz", "joints": {
  "Hips": "hip", "LeftUpLeg": "lThigh", "LeftLeg": "lShin", "LeftFoot": "lFoot",
  "LeftToeBase": ["lToe", "lFoot"], "RightUpLeg": "rThigh", "RightLeg": "rShin", "RightFoot": "rFoot",
  "RightToeBase": ["rToe", "rFoot"], "Spine": "abdomen",
  "Spine1": {"between": ["abdomen", "chest"], "at": 0.5}, "Spine3": "chest", "Neck": "neck",
  "Head": "head", "LeftShoulder": "lCollar", "LeftArm": "lShldr", "LeftForeArm": "lForeArm",
  "LeftHand": "lHand", "RightShoulder": "rCollar", "RightArm": "rShldr",
  "RightForeArm": "rForeArm", "RightHand": "rHand"}})";

struct Preset {
    const char* name;
    const char* json;
};
const Preset kPresets[] = {{"step2motion", kPresetStep2Motion}, {"cmu", kPresetCmu}, {"xsens", kPresetXsens},
                           {"mixamo", kPresetMixamo},           {"snu", kPresetSnu}, {"daz", kPresetDaz}};

std::vector<std::string> name_list(const nlohmann::json& v, const std::string& source, const std::string& joint) {
    std::vector<std::string> out;
    if (v.is_string()) {
        out.push_back(v.get<std::string>());
    } else if (v.is_array()) {
        for (const auto& e : v) {
            if (!e.is_string()) fail_input(source, 0, "joint '" + joint + "': expected joint names as strings");
            out.push_back(e.get<std::string>());
        }
    }
    if (out.empty()) fail_input(source, 0, "joint '" + joint + "': expected a source joint name");
    return out;
}

int find_source(const io::Skeleton& s, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        int j = s.find(n);
        if (j >= 0) return j;
    }
    // Namespace rule: "mixamorig:Hips" or "Character1_Hips"-style prefixes ending in ':'.
    for (const auto& n : names)
        for (int j = 0; j < s.size(); ++j) {
            const std::string& full = s.names[static_cast<size_t>(j)];
            auto colon = full.rfind(':');
            if (colon != std::string::npos && full.compare(colon + 1, std::string::npos, n) == 0) return j;
        }
    return -1;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " or " : "") + v[i];
    return s;
}

}  // namespace

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const auto& p : kPresets) names.emplace_back(p.name);
    return names;
}

namespace {
JointMap parse_joint_map_json(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        fail_input(source, 0, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("joints") || !j["joints"].is_object())
        fail_input(source, 0, "expected an object with a \"joints\" object");
    JointMap map;
    map.name = j.value("name", std::filesystem::path(source).stem().string());
    if (j.contains("scale")) {
        if (!j["scale"].is_number() || !(j["scale"].get<double>() > 0))
            fail_input(source, 0, "\"scale\": expected a positive number (metres per file unit)");
        map.scale_m_per_unit = j["scale"].get<double>();
    }
    for (auto it = j["joints"].begin(); it != j["joints"].end(); ++it) {
        bool known = false;
        for (const char* n : kJointNames) known |= it.key() == n;
        if (!known) fail_input(source, 0, "unknown canonical joint '" + it.key() + "'");
    }
    for (int k = 0; k < kNumJoints; ++k) {
        const std::string name = kJointNames[static_cast<size_t>(k)];
        if (!j["joints"].contains(name)) fail_input(source, 0, "canonical joint '" + name + "' is not mapped");
        const auto& v = j["joints"][name];
        JointSource& src = map.joints[static_cast<size_t>(k)];
        if (v.is_object()) {
            if (!v.contains("between") || !v["between"].is_array() || v["between"].size() != 2)
                fail_input(source, 0, "joint '" + name + "': expected {\"between\": [\"a\", \"b\"], \"at\": 0.5}");
            src.between_a = name_list(v["between"][0], source, name);
            src.between_b = name_list(v["between"][1], source, name);
            src.at = v.value("at", 0.5);
            if (v.contains("names")) src.names = name_list(v["names"], source, name);
            if (!(src.at >= 0 && src.at <= 1)) fail_input(source, 0, "joint '" + name + "': \"at\" must be in [0, 1]");
        } else {
            src.names = name_list(v, source, name);
        }
    }
    return map;
}
}  // namespace

JointMap parse_joint_map(const std::string& text, const std::string& source) {
    try {
        return parse_joint_map_json(text, source);
    } catch (const nlohmann::json::exception& e) {  // a value of the wrong JSON type
        fail_input(source, 0, std::string("invalid joint map: ") + e.what());
    }
}

JointMap load_joint_map(const std::string& preset_or_file) {
    for (const auto& p : kPresets)
        if (preset_or_file == p.name) return parse_joint_map(p.json, std::string("preset ") + p.name);
    if (!std::filesystem::exists(preset_or_file)) {
        std::string names;
        for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
        fail_input("--map " + preset_or_file + ": neither a preset (" + names + ") nor an existing JSON file");
    }
    return parse_joint_map(read_text_file(preset_or_file), preset_or_file);
}

ResolvedMap resolve_joint_map(const JointMap& map, const io::Skeleton& source, const std::string& source_name) {
    ResolvedMap r;
    for (int k = 0; k < kNumJoints; ++k) {
        const JointSource& js = map.joints[static_cast<size_t>(k)];
        // A joint the source has by name wins over a point between two others.
        const int named = js.names.empty() ? -1 : find_source(source, js.names);
        if (named >= 0) {
            r.a[static_cast<size_t>(k)] = r.b[static_cast<size_t>(k)] = named;
            r.at[static_cast<size_t>(k)] = 0;
            continue;
        }
        const auto& first = js.is_between() ? js.between_a : js.names;
        int a = find_source(source, first);
        if (a < 0)
            fail_input(source_name, 0, std::string("map '") + map.name + "': canonical joint " +
                                           kJointNames[static_cast<size_t>(k)] + " needs source joint " + join(first) +
                                           ", which this skeleton lacks");
        int b = a;
        double at = 0;
        if (js.is_between()) {
            b = find_source(source, js.between_b);
            if (b < 0)
                fail_input(source_name, 0, std::string("map '") + map.name + "': canonical joint " +
                                               kJointNames[static_cast<size_t>(k)] + " needs source joint " +
                                               join(js.between_b) + ", which this skeleton lacks");
            at = js.at;
        }
        r.a[static_cast<size_t>(k)] = a;
        r.b[static_cast<size_t>(k)] = b;
        r.at[static_cast<size_t>(k)] = at;
    }
    return r;
}

double leg_length_m(const std::vector<Vec3>& offsets_m) {
    if (offsets_m.size() != static_cast<size_t>(kNumJoints))
        fail_input("leg length: expected the " + std::to_string(kNumJoints) + " offsets of a canonical skeleton, found " +
                   std::to_string(offsets_m.size()));
    return (offsets_m[LeftLeg].norm() + offsets_m[LeftFoot].norm() + offsets_m[RightLeg].norm() + offsets_m[RightFoot].norm()) / 2;
}

bool is_canonical(const io::Skeleton& s) {
    if (s.size() != kNumJoints) return false;
    for (int k = 0; k < kNumJoints; ++k)
        if (s.names[static_cast<size_t>(k)] != kJointNames[static_cast<size_t>(k)] ||
            s.parents[static_cast<size_t>(k)] != kJointParents[static_cast<size_t>(k)])
            return false;
    return true;
}

namespace {
Vec3 mapped_point(const std::vector<Vec3>& p, size_t base, const ResolvedMap& r, int k) {
    const Vec3& a = p[base + static_cast<size_t>(r.a[static_cast<size_t>(k)])];
    const Vec3& b = p[base + static_cast<size_t>(r.b[static_cast<size_t>(k)])];
    const double t = r.at[static_cast<size_t>(k)];
    return (1 - t) * a + t * b;
}
}  // namespace

io::Skeleton canonical_skeleton_from(const io::Motion& source, const ResolvedMap& r) {
    const std::vector<Vec3> rest = source.skeleton.rest_positions();
    io::Skeleton s;
    std::vector<Vec3> canon_rest(kNumJoints);
    for (int k = 0; k < kNumJoints; ++k) canon_rest[static_cast<size_t>(k)] = mapped_point(rest, 0, r, k);
    const auto src_kids = source.skeleton.children();
    for (int k = 0; k < kNumJoints; ++k) {
        s.names.emplace_back(kJointNames[static_cast<size_t>(k)]);
        const int parent = kJointParents[static_cast<size_t>(k)];
        s.parents.push_back(parent);
        s.offsets_m.push_back(parent < 0 ? Vec3::Zero() : Vec3(canon_rest[static_cast<size_t>(k)] - canon_rest[static_cast<size_t>(parent)]));
        s.end_sites_m.emplace_back(std::nullopt);
    }
    // End sites on the leaves (toes, head, hands): the source joint's own end site, else the offset
    // to its first child, so that viewers draw a bone there.
    for (int k : {int(LeftToeBase), int(RightToeBase), int(Head), int(LeftHand), int(RightHand)}) {
        const int a = r.b[static_cast<size_t>(k)] != r.a[static_cast<size_t>(k)] ? r.b[static_cast<size_t>(k)] : r.a[static_cast<size_t>(k)];
        const auto& src = source.skeleton;
        if (src.end_sites_m[static_cast<size_t>(a)] && src.end_sites_m[static_cast<size_t>(a)]->norm() > 1e-9)
            s.end_sites_m[static_cast<size_t>(k)] = (rest[static_cast<size_t>(a)] + *src.end_sites_m[static_cast<size_t>(a)]) - canon_rest[static_cast<size_t>(k)];
        else if (!src_kids[static_cast<size_t>(a)].empty())
            s.end_sites_m[static_cast<size_t>(k)] = rest[static_cast<size_t>(src_kids[static_cast<size_t>(a)][0])] - canon_rest[static_cast<size_t>(k)];
        else
            s.end_sites_m[static_cast<size_t>(k)] = Vec3(0, 0.05, 0);
        if (s.end_sites_m[static_cast<size_t>(k)]->norm() < 1e-6) s.end_sites_m[static_cast<size_t>(k)] = Vec3(0, 0.05, 0);
    }
    return s;
}

Proportions parse_proportions(const std::string& name) {
    if (name == "source") return Proportions::source;
    if (name == "standard") return Proportions::standard;
    throw std::invalid_argument("proportions '" + name + "': expected source or standard");
}

namespace {
// Rest offsets (metres) of the standard proportions: the authors' UnderPressure skeleton
// (UPSkeleton_S4_AMASS.bvh, MIT) on the canonical joints, its T-pose facing +Z.
const std::array<Vec3, kNumJoints> kStandardOffsets_m = {{
    {0, 0, 0},
    {0.077033, -0.000305, 0.000034}, {0, -0.407844, 0.000028}, {0, -0.397358, 0.000048}, {0, -0.072286, 0.163616},
    {-0.077033, -0.000284, 0.000031}, {0, -0.407843, 0.000029}, {0, -0.397359, 0.000048}, {0, -0.072286, 0.163616},
    {0, 0.094280, -0.010476}, {0, 0.105043, 0}, {-0.000765, 0.191652, 0.000837}, {0, 0.133027, 0}, {0, 0.089132, -0.000259},
    {0.027775, 0.074497, 0}, {0.127702, 0, 0}, {0.268456, 0, 0}, {0.221219, 0, 0.000073},
    {-0.027775, 0.074497, 0}, {-0.127702, 0, 0}, {-0.268456, 0, 0}, {-0.221219, 0, 0.000073},
}};

// Joints whose place on the pelvis or the thorax is a convention of the capture, not motion: the
// root sits on the line between the hip joints or 6 cm above it, the collar bones start level with
// the top of the spine or below it and droop or rise. In standard proportions they are rigid with
// their segment, at the standard's place (the standard skeleton's root is the hips' midpoint).
bool on_pelvis(int k) { return k == LeftUpLeg || k == RightUpLeg; }
bool on_thorax(int k) {
    return k == Neck || k == LeftShoulder || k == RightShoulder || k == LeftArm || k == RightArm;
}

// Standard-proportion positions: the root at the midpoint of the source's hip joints; the hip
// joints, neck, collar bones and shoulder joints at the standard's offsets in a pelvis frame (left
// from the source's hip joints) and a thorax frame (left from its shoulder joints, up along its
// upper spine); every other bone keeps the source's direction and takes the standard length times
// `scale`. A bone with a rest direction (one of near zero length in the source: CMU's LowerBack
// sits on its hips) turns that by its parent's world rotation (`world_rot`, frames x canonical
// joints) instead, so that it stays rigid with its siblings, as inverse kinematics needs.
void restore_standard_proportions(std::vector<Vec3>& pos, const QuatVector& world_rot,
                                  const std::array<std::optional<Vec3>, kNumJoints>& rest_direction, int frames, double scale) {
    std::vector<Vec3> out(pos.size());
    // Standard offsets are in the standard's T-pose frame: x = the body's left, y = up, z = forward.
    auto in_frame = [](const Vec3& left, const Vec3& up_hint, const Vec3& offset) {
        const Vec3 up = (up_hint - up_hint.dot(left) * left).normalized();
        return Vec3(offset.x() * left + offset.y() * up + offset.z() * left.cross(up));
    };
    for (int f = 0; f < frames; ++f) {
        const size_t base = static_cast<size_t>(f) * kNumJoints;
        auto src = [&](int k) -> const Vec3& { return pos[base + static_cast<size_t>(k)]; };
        auto standard_m = [&](int k) { return Vec3(kStandardOffsets_m[static_cast<size_t>(k)] * scale); };
        const Vec3 hips_mid = 0.5 * (src(LeftUpLeg) + src(RightUpLeg));
        const Vec3 pelvis_left = (src(LeftUpLeg) - src(RightUpLeg)).normalized();
        const Vec3 thorax_left = (src(LeftArm) - src(RightArm)).normalized();
        out[base] = hips_mid;
        for (int k = 1; k < kNumJoints; ++k) {
            const size_t at = base + static_cast<size_t>(k), parent = base + static_cast<size_t>(kJointParents[static_cast<size_t>(k)]);
            if (on_pelvis(k)) {
                out[at] = out[parent] + in_frame(pelvis_left, src(Spine3) - hips_mid, standard_m(k));
                continue;
            }
            if (on_thorax(k)) {
                out[at] = out[parent] + in_frame(thorax_left, out[base + Spine3] - out[base + Spine1], standard_m(k));
                continue;
            }
            const auto& rest = rest_direction[static_cast<size_t>(k)];
            // The spine starts at the hips' midpoint now, not at the source's root.
            const Vec3 from = k == Spine ? hips_mid : src(kJointParents[static_cast<size_t>(k)]);
            const bool own_direction = !rest || (k == Spine && (src(k) - from).norm() >= 0.01);
            const Vec3 d = own_direction ? Vec3(src(k) - from) : Vec3(world_rot[parent] * *rest);
            out[at] = out[parent] + d.normalized() * standard_m(k).norm();
        }
    }
    pos.swap(out);
}

// Rest directions of the bones shorter than 1 cm in the source's rest pose: towards the first
// descendant that is apart (along first children), else the standard offset's.
std::array<std::optional<Vec3>, kNumJoints> short_bone_directions(const std::vector<Vec3>& rest) {
    constexpr double kApart_m = 0.01;
    std::array<int, kNumJoints> first_child;
    first_child.fill(-1);
    for (int k = kNumJoints - 1; k >= 1; --k) first_child[static_cast<size_t>(kJointParents[static_cast<size_t>(k)])] = k;
    std::array<std::optional<Vec3>, kNumJoints> out;
    for (int k = 1; k < kNumJoints; ++k) {
        const Vec3& from = rest[static_cast<size_t>(kJointParents[static_cast<size_t>(k)])];
        if ((rest[static_cast<size_t>(k)] - from).norm() >= kApart_m) continue;
        Vec3 d = kStandardOffsets_m[static_cast<size_t>(k)];
        for (int c = first_child[static_cast<size_t>(k)]; c >= 0; c = first_child[static_cast<size_t>(c)])
            if ((rest[static_cast<size_t>(c)] - from).norm() >= kApart_m) {
                d = rest[static_cast<size_t>(c)] - from;
                break;
            }
        out[static_cast<size_t>(k)] = d.normalized();
    }
    return out;
}
}  // namespace

io::Motion retarget_to_canonical(const io::Motion& source, const JointMap& map, const std::string& source_name,
                                 Proportions proportions) {
    const ResolvedMap r = resolve_joint_map(map, source.skeleton, source_name);
    io::Skeleton canon = canonical_skeleton_from(source, r);
    QuatVector src_world_rot;
    const std::vector<Vec3> src_pos = forward_kinematics(source, &src_world_rot);
    const int J = source.skeleton.size();
    std::vector<Vec3> pos(static_cast<size_t>(source.frames) * kNumJoints);
    QuatVector leaf_rot(pos.size(), Quat::Identity());
    for (int f = 0; f < source.frames; ++f) {
        const size_t base = static_cast<size_t>(f) * J;
        for (int k = 0; k < kNumJoints; ++k) {
            pos[static_cast<size_t>(f) * kNumJoints + k] = mapped_point(src_pos, base, r, k);
            leaf_rot[static_cast<size_t>(f) * kNumJoints + k] = src_world_rot[base + static_cast<size_t>(r.a[static_cast<size_t>(k)])];
        }
    }
    if (proportions == Proportions::standard) {
        // Scale: the source's thigh + shin over the standard's (knee and ankle are placed alike in
        // every convention; hips, spine, neck and toes are not).
        const double scale =
            leg_length_m(canon.offsets_m) / leg_length_m(std::vector<Vec3>(kStandardOffsets_m.begin(), kStandardOffsets_m.end()));
        // The rest pose goes through the same, so that its offsets keep the source's directions (the
        // angles between a joint's children, which inverse kinematics must reproduce).
        std::vector<Vec3> rest = canon.rest_positions();
        const auto rest_direction = short_bone_directions(rest);
        restore_standard_proportions(rest, QuatVector(kNumJoints, Quat::Identity()), rest_direction, 1, scale);
        for (int k = 1; k < kNumJoints; ++k)
            canon.offsets_m[static_cast<size_t>(k)] = rest[static_cast<size_t>(k)] - rest[static_cast<size_t>(kJointParents[static_cast<size_t>(k)])];
        const std::vector<Vec3> source_pos = pos;
        restore_standard_proportions(pos, leaf_rot, rest_direction, source.frames, scale);
        // Other hip offsets and leg lengths lift or sink the feet: move the whole body up or down by
        // the clip's mean change of ankle height, so that the feet meet the source's floor.
        double lift_m = 0;
        for (size_t i = 0; i < pos.size(); i += kNumJoints)
            for (int k : {int(LeftFoot), int(RightFoot)}) lift_m += source_pos[i + static_cast<size_t>(k)].y() - pos[i + static_cast<size_t>(k)].y();
        lift_m /= static_cast<double>(std::max<size_t>(1, 2 * pos.size() / kNumJoints));
        for (Vec3& p : pos) p.y() += lift_m;
    }
    // A canonical bone that spans several source bones (CMU Neck -> Neck1 -> Head) changes length as
    // they bend: give it the clip's median length rather than the rest pose's (a rigid bone keeps its
    // length either way), so that its end stays as close as a rigid bone can.
    io::Skeleton fitted = canon;
    for (int k = 1; k < kNumJoints; ++k) {
        const double rest_len = canon.offsets_m[static_cast<size_t>(k)].norm();
        if (rest_len < 1e-9 || source.frames < 1) continue;
        const int parent = kJointParents[static_cast<size_t>(k)];
        std::vector<double> len(static_cast<size_t>(source.frames));
        for (int f = 0; f < source.frames; ++f)
            len[static_cast<size_t>(f)] = (pos[static_cast<size_t>(f) * kNumJoints + k] - pos[static_cast<size_t>(f) * kNumJoints + parent]).norm();
        std::nth_element(len.begin(), len.begin() + static_cast<long>(len.size() / 2), len.end());
        const double median = len[len.size() / 2];
        if (std::abs(median - rest_len) > 1e-6 * rest_len) fitted.offsets_m[static_cast<size_t>(k)] *= median / rest_len;
    }
    IkOptions options;
    options.leaf_world_rotations = &leaf_rot;
    return inverse_kinematics(fitted, pos, source.frames, source.fps, options);
}

}  // namespace s2m::kin
