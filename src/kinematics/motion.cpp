#include "step2motion/kinematics/motion.hpp"

#include <cmath>
#include <limits>

#include "step2motion/core/error.hpp"

namespace s2m::kin {

std::vector<Vec3> forward_kinematics(const io::Motion& m, QuatVector* world_rotations) {
    const int J = m.skeleton.size();
    std::vector<Vec3> pos(static_cast<size_t>(m.frames) * J);
    QuatVector local_rot;
    QuatVector& rot = world_rotations ? *world_rotations : local_rot;
    rot.resize(pos.size());
    for (int f = 0; f < m.frames; ++f) {
        const size_t base = static_cast<size_t>(f) * J;
        for (int j = 0; j < J; ++j) {
            const int parent = m.skeleton.parents[static_cast<size_t>(j)];
            const Quat& q = m.rotations[base + j];
            const Vec3& t = m.translations[base + j];
            if (parent < 0) {
                pos[base + j] = t;
                rot[base + j] = q;
            } else {
                const Quat& pq = rot[base + parent];
                pos[base + j] = pos[base + parent] + pq * t;
                rot[base + j] = pq * q;
            }
        }
    }
    return pos;
}

namespace {

// Rotation turning the rest bone of child `primary` onto its target, with the roll about it taken
// from child `secondary` (when not collinear).
Quat turn_and_roll(const std::vector<Vec3>& rest, const std::vector<Vec3>& target, size_t primary, size_t secondary) {
    Quat q = shortest_arc(rest[primary], target[primary]);
    if (secondary == primary) return q;
    const Vec3 axis = target[primary].normalized();
    Vec3 a = q * rest[secondary];
    Vec3 b = target[secondary];
    a -= axis * axis.dot(a);
    b -= axis * axis.dot(b);
    if (a.norm() < 1e-6 || b.norm() < 1e-6) return q;
    const double angle = std::atan2(axis.dot(a.cross(b)), a.dot(b));
    return Quat(Eigen::AngleAxisd(angle, axis)) * q;
}

// Rotation (in the joint's parent-relative frame) that maps rest child offsets onto targets. With
// one child: the shortest turn. With several: a turn towards one child and a roll from another, the
// pair chosen that fits all children best (sources such as CMU move some children independently,
// and the rigidly attached pair is the one that reproduces positions).
Quat solve_joint(const std::vector<Vec3>& rest, const std::vector<Vec3>& target) {
    std::vector<size_t> usable;
    for (size_t i = 0; i < rest.size(); ++i)
        if (rest[i].norm() > 1e-9 && target[i].norm() > 1e-9) usable.push_back(i);
    if (usable.empty()) return Quat::Identity();
    if (usable.size() == 1) return shortest_arc(rest[usable[0]], target[usable[0]]);
    Quat best = Quat::Identity();
    double best_err = std::numeric_limits<double>::infinity();
    for (size_t p : usable)
        for (size_t s : usable) {
            if (s == p) continue;
            const Quat q = turn_and_roll(rest, target, p, s);
            double err = 0;
            for (size_t i : usable) err += (q * rest[i] - target[i]).squaredNorm();
            if (err < best_err - 1e-15) {
                best_err = err;
                best = q;
            }
        }
    return best;
}

}  // namespace

io::Motion inverse_kinematics(const io::Skeleton& skeleton, const std::vector<Vec3>& world_positions, int frames,
                          double fps, const IkOptions& options) {
    const int J = skeleton.size();
    if (world_positions.size() != static_cast<size_t>(frames) * J)
        throw std::invalid_argument("inverse_kinematics: positions do not match frames x joints");
    io::Motion m;
    m.skeleton = skeleton;
    m.fps = fps;
    m.resize(frames);
    const auto kids = skeleton.children();
    QuatVector world(static_cast<size_t>(J));
    std::vector<Vec3> rest, target;
    for (int f = 0; f < frames; ++f) {
        const size_t base = static_cast<size_t>(f) * J;
        m.translation(f, 0) = world_positions[base];
        for (int j = 0; j < J; ++j) {
            const int parent = skeleton.parents[static_cast<size_t>(j)];
            const Quat parent_world = parent < 0 ? Quat::Identity() : world[static_cast<size_t>(parent)];
            Quat local = Quat::Identity();
            const auto& ch = kids[static_cast<size_t>(j)];
            if (!ch.empty()) {
                rest.clear();
                target.clear();
                for (int c : ch) {
                    rest.push_back(skeleton.offsets_m[static_cast<size_t>(c)]);
                    target.push_back(parent_world.conjugate() * (world_positions[base + c] - world_positions[base + j]));
                }
                local = solve_joint(rest, target);
            } else if (options.leaf_world_rotations) {
                local = parent_world.conjugate() * (*options.leaf_world_rotations)[base + j];
            }
            local.normalize();
            m.rotation(f, j) = local;
            world[static_cast<size_t>(j)] = (parent_world * local).normalized();
        }
    }
    return m;
}

io::Motion resample(const io::Motion& m, double fps) {
    if (!(fps > 0)) fail_input("resample: the frame rate must be positive");
    if (std::abs(fps - m.fps) < 1e-9 || m.frames < 2) {
        io::Motion out = m;
        out.fps = fps;
        return out;
    }
    io::Motion out;
    out.skeleton = m.skeleton;
    out.fps = fps;
    const int n = static_cast<int>(std::floor(m.duration_s() * fps + 1e-9)) + 1;
    out.resize(n);
    const int J = m.skeleton.size();
    for (int f = 0; f < n; ++f) {
        const double src = std::min(f / fps * m.fps, double(m.frames - 1));
        const int i0 = std::min(static_cast<int>(std::floor(src)), m.frames - 2);
        const double w = src - i0;
        for (int j = 0; j < J; ++j) {
            out.rotation(f, j) = slerp(m.rotation(i0, j), m.rotation(i0 + 1, j), w).normalized();
            out.translation(f, j) = (1 - w) * m.translation(i0, j) + w * m.translation(i0 + 1, j);
        }
    }
    return out;
}

JointDistance joint_distance(const io::Motion& a, const io::Motion& b, const std::string& what) {
    if (a.skeleton.names != b.skeleton.names)
        fail_input(what + ": the two motions have different joints (" + std::to_string(a.skeleton.size()) + " and " +
                   std::to_string(b.skeleton.size()) + ", or other names)");
    if (a.frames != b.frames)
        fail_input(what + ": the two motions have " + std::to_string(a.frames) + " and " + std::to_string(b.frames) +
                   " frames; expected the same number");
    const std::vector<Vec3> pa = forward_kinematics(a), pb = forward_kinematics(b);
    JointDistance d;
    const int J = a.skeleton.size();
    for (size_t i = 0; i < pa.size(); ++i) {
        const double e = (pa[i] - pb[i]).norm();
        d.mean_m += e;
        if (e > d.max_m || d.frame < 0) {
            d.max_m = e;
            d.frame = static_cast<int>(i) / J;
            d.joint = static_cast<int>(i) % J;
        }
    }
    if (!pa.empty()) d.mean_m /= static_cast<double>(pa.size());
    return d;
}

}  // namespace s2m::kin
