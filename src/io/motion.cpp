#include "step2motion/io/motion.hpp"

#include <cmath>
#include <limits>

namespace s2m::io {

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

Skeleton skeleton_from_bvh(const Bvh& bvh, double scale) {
    Skeleton s;
    for (const auto& j : bvh.joints) {
        s.names.push_back(j.name);
        s.parents.push_back(j.parent);
        s.offsets_m.push_back(j.offset * scale);
        s.end_sites_m.push_back(j.end_site ? std::optional<Vec3>(*j.end_site * scale) : std::nullopt);
    }
    return s;
}

double detect_bvh_scale(const Bvh& bvh) {
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

Motion motion_from_bvh(const Bvh& bvh, double scale) {
    Motion m;
    m.skeleton = skeleton_from_bvh(bvh, scale);
    m.fps = bvh.fps();
    m.resize(bvh.num_frames);
    const int J = m.skeleton.size();
    for (int f = 0; f < bvh.num_frames; ++f) {
        for (int j = 0; j < J; ++j) {
            const BvhJoint& joint = bvh.joints[static_cast<size_t>(j)];
            Quat q = Quat::Identity();
            Vec3 t = m.skeleton.offsets_m[static_cast<size_t>(j)];
            bool has_pos[3] = {false, false, false};
            for (size_t k = 0; k < joint.channels.size(); ++k) {
                const Channel c = joint.channels[k];
                const double v = bvh.value(f, joint.first_channel + static_cast<int>(k));
                const int axis = channel_axis(c);
                if (is_position(c)) {
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

Bvh bvh_from_motion(const Motion& m, const BvhExportOptions& options) {
    const AxisOrder order = axis_order(options.rotation_order);
    Bvh bvh;
    const int J = m.skeleton.size();
    int column = 0;
    for (int j = 0; j < J; ++j) {
        BvhJoint joint;
        joint.name = m.skeleton.names[static_cast<size_t>(j)];
        joint.parent = m.skeleton.parents[static_cast<size_t>(j)];
        joint.offset = j == 0 ? Vec3::Zero() : m.skeleton.offsets_m[static_cast<size_t>(j)];
        joint.end_site = m.skeleton.end_sites_m[static_cast<size_t>(j)];
        if (j == 0 || options.positions_on_all_joints)
            joint.channels = {Channel::Xposition, Channel::Yposition, Channel::Zposition};
        for (int a : order) joint.channels.push_back(static_cast<Channel>(3 + a));
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
            const BvhJoint& joint = bvh.joints[static_cast<size_t>(j)];
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

}  // namespace s2m::io
