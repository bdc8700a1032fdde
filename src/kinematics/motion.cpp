#include "step2motion/kinematics/motion.hpp"

#include <cmath>
#include <limits>

#include "step2motion/core/error.hpp"

namespace s2m::kin {

int Skeleton::find(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<int>(i);
    return -1;
}

std::vector<std::vector<int>> Skeleton::children() const {
    std::vector<std::vector<int>> kids(names.size());
    for (int j = 1; j < size(); ++j) kids[static_cast<size_t>(parents[static_cast<size_t>(j)])].push_back(j);
    return kids;
}

std::vector<Vec3> Skeleton::rest_positions() const {
    std::vector<Vec3> p(names.size());
    for (int j = 0; j < size(); ++j) {
        int parent = parents[static_cast<size_t>(j)];
        p[static_cast<size_t>(j)] = parent < 0 ? Vec3::Zero() : Vec3(p[static_cast<size_t>(parent)] + offsets_m[static_cast<size_t>(j)]);
    }
    return p;
}

double Skeleton::rest_height_m() const {
    auto p = rest_positions();
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int j = 0; j < size(); ++j) {
        lo = std::min(lo, p[static_cast<size_t>(j)].y());
        hi = std::max(hi, p[static_cast<size_t>(j)].y());
        if (end_sites_m[static_cast<size_t>(j)]) {
            double y = p[static_cast<size_t>(j)].y() + end_sites_m[static_cast<size_t>(j)]->y();
            lo = std::min(lo, y);
            hi = std::max(hi, y);
        }
    }
    return size() ? hi - lo : 0;
}

void Motion::resize(int num_frames) {
    frames = num_frames;
    const size_t n = static_cast<size_t>(num_frames) * static_cast<size_t>(skeleton.size());
    rotations.assign(n, Quat::Identity());
    translations.resize(n);
    for (int f = 0; f < num_frames; ++f)
        for (int j = 0; j < skeleton.size(); ++j) translation(f, j) = skeleton.offsets_m[static_cast<size_t>(j)];
}

std::vector<Vec3> forward_kinematics(const Motion& m, QuatVector* world_rotations) {
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

Motion inverse_kinematics(const Skeleton& skeleton, const std::vector<Vec3>& world_positions, int frames,
                          double fps, const IkOptions& options) {
    const int J = skeleton.size();
    if (world_positions.size() != static_cast<size_t>(frames) * J)
        throw std::invalid_argument("inverse_kinematics: positions do not match frames x joints");
    Motion m;
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

Skeleton skeleton_from_bvh(const io::Bvh& bvh, double scale) {
    Skeleton s;
    for (const auto& j : bvh.joints) {
        s.names.push_back(j.name);
        s.parents.push_back(j.parent);
        s.offsets_m.push_back(j.offset * scale);
        s.end_sites_m.push_back(j.end_site ? std::optional<Vec3>(*j.end_site * scale) : std::nullopt);
    }
    return s;
}

double detect_bvh_scale(const io::Bvh& bvh) {
    Skeleton s = skeleton_from_bvh(bvh, 1.0);
    // The body's size: the largest side of the rest pose's bounding box, not its height, since some
    // files rest lying along X (SNU basketball) and a T-pose's arm span is about the height.
    Vec3 lo = Vec3::Constant(std::numeric_limits<double>::infinity()), hi = -lo;
    for (const Vec3& p : s.rest_positions()) {
        lo = lo.cwiseMin(p);
        hi = hi.cwiseMax(p);
    }
    const double h = s.size() ? (hi - lo).maxCoeff() : 0.0;
    if (!(h > 0) || !std::isfinite(h)) return 1.0;
    // Candidates, and the human height each would imply; pick the closest to 1.7 m in log scale.
    const double candidates[] = {1.0, 0.01, 0.001, 0.0254, 0.056444};
    double best = 1.0, best_err = std::numeric_limits<double>::infinity();
    for (double c : candidates) {
        double err = std::abs(std::log(h * c / 1.7));
        if (err < best_err) {
            best_err = err;
            best = c;
        }
    }
    return best;
}

Motion motion_from_bvh(const io::Bvh& bvh, double scale) {
    Motion m;
    m.skeleton = skeleton_from_bvh(bvh, scale);
    m.fps = bvh.fps();
    m.resize(bvh.num_frames);
    const int J = m.skeleton.size();
    for (int f = 0; f < bvh.num_frames; ++f) {
        for (int j = 0; j < J; ++j) {
            const io::BvhJoint& joint = bvh.joints[static_cast<size_t>(j)];
            Quat q = Quat::Identity();
            Vec3 t = m.skeleton.offsets_m[static_cast<size_t>(j)];
            bool has_pos[3] = {false, false, false};
            for (size_t k = 0; k < joint.channels.size(); ++k) {
                const io::Channel c = joint.channels[k];
                const double v = bvh.value(f, joint.first_channel + static_cast<int>(k));
                const int axis = io::channel_axis(c);
                if (io::is_position(c)) {
                    // Position channels replace the OFFSET, except on the root where most tools
                    // treat them as absolute (and our writer keeps the root OFFSET at zero).
                    if (!has_pos[axis]) t[axis] = 0;
                    t[axis] += v * scale;
                    has_pos[axis] = true;
                } else {
                    q = q * axis_angle_deg(axis, v);
                }
            }
            m.rotation(f, j) = q;
            m.translation(f, j) = t;
        }
    }
    return m;
}

io::Bvh bvh_from_motion(const Motion& m, const BvhExportOptions& options) {
    const AxisOrder order = axis_order(options.rotation_order);
    io::Bvh bvh;
    const int J = m.skeleton.size();
    int column = 0;
    for (int j = 0; j < J; ++j) {
        io::BvhJoint joint;
        joint.name = m.skeleton.names[static_cast<size_t>(j)];
        joint.parent = m.skeleton.parents[static_cast<size_t>(j)];
        joint.offset = j == 0 ? Vec3::Zero() : m.skeleton.offsets_m[static_cast<size_t>(j)];
        joint.end_site = m.skeleton.end_sites_m[static_cast<size_t>(j)];
        if (j == 0 || options.positions_on_all_joints)
            joint.channels = {io::Channel::Xposition, io::Channel::Yposition, io::Channel::Zposition};
        for (int a : order) joint.channels.push_back(static_cast<io::Channel>(3 + a));
        joint.first_channel = column;
        column += static_cast<int>(joint.channels.size());
        bvh.joints.push_back(std::move(joint));
    }
    bvh.num_channels = column;
    bvh.num_frames = m.frames;
    bvh.frame_time_s = 1.0 / m.fps;
    bvh.values.resize(static_cast<size_t>(m.frames) * column);
    std::vector<Vec3> previous(static_cast<size_t>(J), Vec3::Zero());
    for (int f = 0; f < m.frames; ++f) {
        for (int j = 0; j < J; ++j) {
            const io::BvhJoint& joint = bvh.joints[static_cast<size_t>(j)];
            int c = joint.first_channel;
            if (joint.channels.size() == 6)
                for (int a = 0; a < 3; ++a) bvh.value(f, c++) = m.translation(f, j)[a];
            Vec3 e = quat_to_euler_deg_near(m.rotation(f, j), order, previous[static_cast<size_t>(j)]);
            previous[static_cast<size_t>(j)] = e;
            for (int a = 0; a < 3; ++a) bvh.value(f, c++) = e[a];
        }
    }
    return bvh;
}

Motion resample(const Motion& m, double fps) {
    if (!(fps > 0)) fail_input("resample: the frame rate must be positive");
    if (std::abs(fps - m.fps) < 1e-9 || m.frames < 2) {
        Motion out = m;
        out.fps = fps;
        return out;
    }
    Motion out;
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

}  // namespace s2m::kin
