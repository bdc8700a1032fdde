#pragma once
// The method's 22-joint skeleton (reference §3) and the mapping of any source skeleton onto it.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "step2motion/io/motion.hpp"

namespace s2m::kin {

constexpr int kNumJoints = 22;
// Hips; left leg 1-4; right leg 5-8; spine 9-13; left arm 14-17; right arm 18-21.
extern const std::array<const char*, kNumJoints> kJointNames;
extern const std::array<int, kNumJoints> kJointParents;
enum Joint : int {
    Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, RightUpLeg, RightLeg, RightFoot, RightToeBase,
    Spine, Spine1, Spine3, Neck, Head, LeftShoulder, LeftArm, LeftForeArm, LeftHand,
    RightShoulder, RightArm, RightForeArm, RightHand
};

// Where a canonical joint comes from in a source skeleton.
struct JointSource {
    std::vector<std::string> names;  // the first one present in the source is used (before "between")
    // "between": a point on the segment from joint a to joint b at fraction `at`.
    std::vector<std::string> between_a, between_b;
    double at = 0.5;
    bool is_between() const { return !between_a.empty(); }
};

struct JointMap {
    std::string name;
    std::optional<double> scale_m_per_unit;
    std::array<JointSource, kNumJoints> joints;
};

std::vector<std::string> preset_names();
// A built-in preset name (step2motion, cmu, xsens, mixamo, snu, daz) or a JSON file:
// {"name": "...", "scale": 0.01, "joints": {"<canonical>": "<source>" | ["<a>", "<b>"] |
//  {"between": ["<a>", "<b>"], "at": 0.5, "names": ["<c>"]}, ...}}; every canonical joint must be listed.
// In the object form, a joint of "names" (optional) is used when the source has one, the point
// between the two otherwise.
JointMap load_joint_map(const std::string& preset_or_file);
JointMap parse_joint_map(const std::string& json_text, const std::string& source);

// Canonical joint positions (frames x 22) from source world positions (frames x source joints).
// Source names match exactly, or after a namespace prefix ("mixamorig:Hips" matches "Hips").
struct ResolvedMap {
    std::array<int, kNumJoints> a{}, b{};
    std::array<double, kNumJoints> at{};
};
ResolvedMap resolve_joint_map(const JointMap& map, const io::Skeleton& source, const std::string& source_name);

// Where the canonical bones' lengths come from.
// - source: the source skeleton's own joint placement (a CMU "Neck" sits on the thorax, a Daz one
//   22 cm above it), so joint positions of different conventions name different body points;
// - standard: one set of proportions for every source (the authors' UnderPressure skeleton), scaled
//   so that thigh + shin keep the source's length. The root is the midpoint of the hip joints; hip
//   joints, neck, collar bones and shoulder joints sit at the standard's places on the pelvis and
//   the thorax (where a capture puts them is its convention); every other bone keeps the source's
//   direction. Data of several mocap conventions then share one skeleton, as a model trained on
//   them needs.
enum class Proportions { source, standard };
Proportions parse_proportions(const std::string& name);  // "source" or "standard"; throws otherwise

// Retargets a motion onto the canonical skeleton: canonical joints take their sources' world
// positions (standard proportions: re-chained from the root along the sources' bone directions);
// bone offsets come from the source's rest pose (or the standard's); rotations from inverse
// kinematics (leaf joints keep the source joint's world orientation).
io::Motion retarget_to_canonical(const io::Motion& source, const JointMap& map, const std::string& source_name,
                                 Proportions proportions = Proportions::source);

// Thigh + shin, mean of both legs, of a canonical skeleton's 22 offsets (metres): the body's size as
// every mocap convention places it alike (knee and ankle; hips, spine, neck and toes differ).
double leg_length_m(const std::vector<Vec3>& offsets_m);

io::Skeleton canonical_skeleton_from(const io::Motion& source, const ResolvedMap& resolved);
bool is_canonical(const io::Skeleton& s);

}  // namespace s2m::kin
