#include "step2motion/imu/clip.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "step2motion/core/error.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/sync.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"

namespace s2m::imu {

namespace {

std::string lower_ext(const std::string& path) {
    std::string e = std::filesystem::path(path).extension().string();
    for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return e;
}

// Linear interpolation of one foot's 25 channels at fractional source indices.
void sample_foot(const Eigen::MatrixXf& src, const std::vector<unsigned char>& valid, int base,
                 const std::vector<double>& idx, Eigen::MatrixXf& out, Eigen::Matrix<unsigned char, Eigen::Dynamic, 2, Eigen::RowMajor>& out_valid,
                 int foot) {
    const long last = src.rows() - 1;
    for (size_t k = 0; k < idx.size(); ++k) {
        const double x = std::clamp(idx[k], 0.0, static_cast<double>(last));
        const long i0 = std::min(static_cast<long>(std::floor(x)), std::max(0L, last - 1));
        const long i1 = std::min(i0 + 1, last);
        const float w = static_cast<float>(x - static_cast<double>(i0));
        const long row = static_cast<long>(k);
        out.block(row, base, 1, io::kFootChannels) =
            (1 - w) * src.block(i0, base, 1, io::kFootChannels) + w * src.block(i1, base, 1, io::kFootChannels);
        const bool ok = valid[static_cast<size_t>(i0)] && (w == 0 || valid[static_cast<size_t>(i1)]);
        out_valid(row, foot) = ok ? 1 : 0;
    }
}

// Column `col` of `src` at fractional rows `idx` (linear), into column `col` of `out`.
void sample_column(const Eigen::MatrixXf& src, int col, const std::vector<double>& idx, Eigen::MatrixXf& out) {
    const long last = src.rows() - 1;
    for (size_t k = 0; k < idx.size(); ++k) {
        const double x = std::clamp(idx[k], 0.0, static_cast<double>(last));
        const long i0 = std::min(static_cast<long>(std::floor(x)), std::max(0L, last - 1));
        const long i1 = std::min(i0 + 1, last);
        const float w = static_cast<float>(x - static_cast<double>(i0));
        out(static_cast<long>(k), col) = (1 - w) * src(i0, col) + w * src(i1, col);
    }
}

}  // namespace

io::Motion motion_from_mvnx(const io::Mvnx& x) {
    const int ns = x.segment_count();
    io::Motion m;
    m.skeleton.names = x.segments;
    m.skeleton.parents = x.parents;
    for (int s = 0; s < ns; ++s) {
        const int p = x.parents[static_cast<size_t>(s)];
        m.skeleton.offsets_m.push_back(p < 0 ? s2m::Vec3::Zero()
                                             : s2m::Vec3(x.reference_positions_m[static_cast<size_t>(s)] -
                                                         x.reference_positions_m[static_cast<size_t>(p)]));
        m.skeleton.end_sites_m.emplace_back();
    }
    // Parents must come before children for FK; the MVN order does that (Pelvis first, chains in order).
    for (int s = 0; s < ns; ++s)
        if (x.parents[static_cast<size_t>(s)] >= s)
            fail_input(x.source, 0, "segment '" + x.segments[static_cast<size_t>(s)] + "' is listed before its parent");
    m.fps = x.frame_rate_hz;
    m.resize(x.frames);
    s2m::QuatVector world(static_cast<size_t>(ns));
    for (int f = 0; f < x.frames; ++f) {
        for (int s = 0; s < ns; ++s) {
            const size_t k = static_cast<size_t>(f) * ns + s;
            world[static_cast<size_t>(s)] = (x.orientations[k] * x.reference_orientations[static_cast<size_t>(s)].conjugate()).normalized();
            const int p = x.parents[static_cast<size_t>(s)];
            m.rotation(f, s) = p < 0 ? world[static_cast<size_t>(s)]
                                     : (world[static_cast<size_t>(p)].conjugate() * world[static_cast<size_t>(s)]).normalized();
        }
        m.translation(f, 0) = x.positions_m[static_cast<size_t>(f) * ns];
    }
    return m;
}

io::Motion load_mocap(const std::string& path, const std::string& map, const std::string& bvh_scale, std::string* map_used) {
    const std::string ext = lower_ext(path);
    if (ext == ".mvnx") {
        if (map_used) *map_used = map == "auto" ? "xsens" : map;
        return motion_from_mvnx(io::read_mvnx(path));
    }
    if (ext != ".bvh") fail_input(path, 0, "unknown mocap file type '" + ext + "', expected .bvh or .mvnx");
    const io::Bvh bvh = io::read_bvh(path);
    std::string chosen = map;
    if (map == "auto") {
        const io::Skeleton probe = io::skeleton_from_bvh(bvh, 1.0);
        chosen.clear();
        for (const char* preset : {"step2motion", "xsens", "cmu", "mixamo", "snu", "daz"}) {
            try {
                kin::resolve_joint_map(kin::load_joint_map(preset), probe, path);
                chosen = preset;
                break;
            } catch (const InputError&) {
            }
        }
        if (chosen.empty())
            fail_input(path, 0, "no built-in joint map fits this skeleton; give one with \"map\" in a manifest");
    }
    if (map_used) *map_used = chosen;
    double scale = 0;
    if (bvh_scale == "auto") {
        const kin::JointMap jm = kin::load_joint_map(chosen);
        scale = jm.scale_m_per_unit ? *jm.scale_m_per_unit : io::detect_bvh_scale(bvh);
    } else {
        try {
            scale = std::stod(bvh_scale);
        } catch (const std::exception&) {
            scale = 0;
        }
        if (!(scale > 0)) fail_input("--scale " + bvh_scale + ": expected auto or a positive number of metres per unit");
    }
    return io::motion_from_bvh(bvh, scale);
}

io::Motion sample_motion(const io::Motion& m, const std::vector<double>& idx, double fps) {
    io::Motion out;
    out.skeleton = m.skeleton;
    out.fps = fps;
    out.resize(static_cast<int>(idx.size()));
    const int J = m.skeleton.size();
    const int last = m.frames - 1;
    for (size_t k = 0; k < idx.size(); ++k) {
        const double x = std::clamp(idx[k], 0.0, static_cast<double>(last));
        const int i0 = std::min(static_cast<int>(std::floor(x)), std::max(0, last - 1));
        const int i1 = std::min(i0 + 1, last);
        const double w = x - i0;
        const int f = static_cast<int>(k);
        for (int j = 0; j < J; ++j) {
            out.rotation(f, j) = w == 0 ? m.rotation(i0, j) : s2m::slerp(m.rotation(i0, j), m.rotation(i1, j), w).normalized();
            out.translation(f, j) = (1 - w) * m.translation(i0, j) + w * m.translation(i1, j);
        }
    }
    return out;
}

io::RowMatrixXf poses_from_motion(const io::Motion& c, Eigen::Vector3d* root_start_m) {
    const std::vector<s2m::Vec3> p = kin::forward_kinematics(c);
    const int J = c.skeleton.size();
    const int n = c.frames;
    io::RowMatrixXf poses(std::max(0, n - 1), io::kRootAndJointValues);
    for (int f = 1; f < n; ++f) {
        const s2m::Vec3& root = p[static_cast<size_t>(f) * J];
        const s2m::Vec3 d = root - p[static_cast<size_t>(f - 1) * J];
        for (int a = 0; a < 3; ++a) poses(f - 1, a) = static_cast<float>(d[a]);
        for (int j = 1; j < J; ++j) {
            const s2m::Vec3 r = p[static_cast<size_t>(f) * J + j] - root;
            for (int a = 0; a < 3; ++a) poses(f - 1, 3 * j + a) = static_cast<float>(r[a]);
        }
    }
    if (root_start_m && n > 0) *root_start_m = p[0];
    return poses;
}

io::DatasetClip build_clip(const io::RecordingSource& src, const ClipOptions& o) {
    if (!(o.target_hz > 0)) fail_input("--hz must be positive");
    // The cheap checks first: sync file, then insoles, then mocap.
    io::SyncInfo sync;
    if (!src.sync.empty()) sync = io::read_sync_csv(src.sync);
    const io::MoticonRecording rec = io::read_moticon(src.insoles);
    std::string map_used;
    const io::Motion mocap = load_mocap(src.mocap, src.map, o.bvh_scale, &map_used);
    const double ins_hz = rec.rate_hz, moc_hz = mocap.fps;

    // Synchronised spans.
    if (!src.sync.empty()) {
        io::check_span_within(sync, sync.left_insole, "left_insole", rec.frames(), src.insoles);
        io::check_span_within(sync, sync.right_insole, "right_insole", rec.frames(), src.insoles);
        io::check_span_within(sync, sync.mocap, "mocap", mocap.frames, src.mocap);
    } else {
        // No sync file: both streams start together; the common duration is used.
        const double t = std::min(rec.frames() / ins_hz, mocap.frames / moc_hz);
        const long ni = std::min<long>(rec.frames(), std::lround(t * ins_hz));
        const long nm = std::min<long>(mocap.frames, std::lround(t * moc_hz));
        sync.left_insole = {0, ni, 0};
        sync.right_insole = {0, ni, 0};
        sync.mocap = {0, nm, 0};
    }
    const double span_s = static_cast<double>(sync.mocap.frames()) / moc_hz;
    const long n = std::lround(static_cast<double>(sync.mocap.frames()) * o.target_hz / moc_hz);
    if (n < 3)
        fail_input(src.sync.empty() ? src.mocap : src.sync, sync.mocap.line,
                   "synchronised span of " + std::to_string(span_s) + " s gives fewer than 3 frames at " +
                       std::to_string(o.target_hz) + " Hz");
    std::vector<double> idx_m(static_cast<size_t>(n)), idx_l(static_cast<size_t>(n)), idx_r(static_cast<size_t>(n));
    for (long k = 0; k < n; ++k) {
        const double tau = static_cast<double>(k) / o.target_hz;  // seconds since the span start
        idx_m[static_cast<size_t>(k)] = std::min(sync.mocap.start + tau * moc_hz, static_cast<double>(sync.mocap.end - 1));
        // Insole spans cover the same real time; mapping them linearly absorbs clock drift.
        idx_l[static_cast<size_t>(k)] = std::min(sync.left_insole.start + tau / span_s * sync.left_insole.frames(),
                                                 static_cast<double>(sync.left_insole.end - 1));
        idx_r[static_cast<size_t>(k)] = std::min(sync.right_insole.start + tau / span_s * sync.right_insole.frames(),
                                                 static_cast<double>(sync.right_insole.end - 1));
    }

    // Mocap: resample the source skeleton, then retarget (cheaper than retargeting every 240 Hz frame).
    const io::Motion sampled = sample_motion(mocap, idx_m, o.target_hz);
    const kin::JointMap jm = kin::load_joint_map(map_used);
    const io::Motion canon = kin::retarget_to_canonical(sampled, jm, src.mocap);

    // Insoles at the target rate; accelerations rotated to world with the mocap foot orientation.
    Eigen::MatrixXf raw = io::insole_channels(rec);
    Eigen::MatrixXf ins(n, io::kInsoleChannels);
    Eigen::Matrix<unsigned char, Eigen::Dynamic, 2, Eigen::RowMajor> valid(n, 2);
    sample_foot(raw, rec.feet[0].valid, 0, idx_l, ins, valid, 0);
    sample_foot(raw, rec.feet[1].valid, io::kFootChannels, idx_r, ins, valid, 1);
    s2m::QuatVector world;
    kin::forward_kinematics(canon, &world);
    const int J = canon.skeleton.size();
    s2m::QuatVector lf(static_cast<size_t>(n)), rf(static_cast<size_t>(n));
    for (long k = 0; k < n; ++k) {
        lf[static_cast<size_t>(k)] = world[static_cast<size_t>(k) * J + kin::LeftFoot];
        rf[static_cast<size_t>(k)] = world[static_cast<size_t>(k) * J + kin::RightFoot];
    }
    const Quat insole_in_foot[2] = {insole_frame_in_foot(canon.skeleton, 0), insole_frame_in_foot(canon.skeleton, 1)};
    accelerations_to_world(ins, lf, rf, insole_in_foot[0], insole_in_foot[1]);
    // Each insole's heading in the accelerations' frame (the heading-frame representation's input).
    Eigen::MatrixXf heading(n, 2);
    for (long k = 0; k < n; ++k) {
        heading(k, 0) = static_cast<float>(heading_deg(lf[static_cast<size_t>(k)] * insole_in_foot[0]) * M_PI / 180);
        heading(k, 1) = static_cast<float>(heading_deg(rf[static_cast<size_t>(k)] * insole_in_foot[1]) * M_PI / 180);
    }
    if (o.imu_frame == ImuFrameMode::Filter) {
        // The orientation filter instead, at the insoles' own rate. Its heading reference is arbitrary
        // (the insole's own heading at its first still phase) while the poses are in the mocap world:
        // each foot's filter world is turned onto the mocap one by one yaw, so that inputs and
        // targets share a world frame while the filter's tilt errors and drift remain. The yaw is
        // the mean heading difference while the foot is loaded (flat: both headings well defined;
        // the filter's heading there is what a heading frame is built from in the wild); the yaw that
        // best matches the accelerations would absorb the filter's swing-phase errors into the
        // heading instead. Too few loaded frames: that yaw after all.
        const Eigen::MatrixXf by_mocap = ins, mocap_heading = heading;
        Eigen::MatrixXf filter_heading;
        accelerations_to_world_filtered(raw, ins_hz, o.filter, &filter_heading);
        sample_foot(raw, rec.feet[0].valid, 0, idx_l, ins, valid, 0);
        sample_foot(raw, rec.feet[1].valid, io::kFootChannels, idx_r, ins, valid, 1);
        sample_column(filter_heading, 0, idx_l, heading);
        sample_column(filter_heading, 1, idx_r, heading);
        for (int foot = 0; foot < 2; ++foot) {
            const int c = foot * io::kFootChannels + io::kAccOffset;
            // Angles as complex numbers: the yaw is the argument of sum(mocap * conj(filter)).
            double re = 0, im = 0, loaded = 0;
            for (long k = 0; k < n; ++k)
                if (ins(k, foot * io::kFootChannels + io::kForceOffset) > kLoadedForceN) {
                    const double d = double(mocap_heading(k, foot)) - heading(k, foot);
                    re += std::cos(d);
                    im += std::sin(d);
                    ++loaded;
                }
            if (loaded < 5) {
                re = im = 0;
                for (long k = 0; k < n; ++k) {  // headings as z + i x
                    const double mz = by_mocap(k, c + 2), mx = by_mocap(k, c), fz = ins(k, c + 2), fx = ins(k, c);
                    re += mz * fz + mx * fx;
                    im += mx * fz - mz * fx;
                }
            }
            const double yaw = std::atan2(im, re);
            rotate_foot_accelerations_yaw(ins, foot, yaw);
            heading.col(foot).array() += static_cast<float>(yaw);
        }
    }
    unwrap_angles(heading);

    io::DatasetClip c;
    c.name = src.name;
    c.subject = src.subject;
    c.activity = src.activity;
    c.source_insoles = src.insoles;
    c.source_sync = src.sync;
    c.source_mocap = src.mocap;
    c.joint_map = map_used;
    c.imu_frame = o.imu_frame == ImuFrameMode::Mocap ? "mocap" : "filter";
    c.rate_hz = o.target_hz;
    c.source_insole_rate_hz = ins_hz;
    c.source_mocap_rate_hz = moc_hz;
    c.weight_kg = src.weight_kg;
    c.insole_size = src.insole_size > 0 ? src.insole_size : rec.insole_size;
    c.poses = poses_from_motion(canon, &c.root_start_m);
    c.insoles = ins.bottomRows(n - 1);  // the first frame has no displacement: dropped everywhere
    c.insole_valid = valid.bottomRows(n - 1);
    c.insole_heading_rad = heading.bottomRows(n - 1);
    for (int j = 0; j < io::kDatasetJoints; ++j) c.offsets_m.row(j) = canon.skeleton.offsets_m[static_cast<size_t>(j)].transpose();
    return c;
}

std::vector<io::DatasetClip> build_clips(const std::vector<io::RecordingSource>& sources, const ClipOptions& options,
                                         int threads, const std::function<void(const io::RecordingSource&)>& on_done) {
    const size_t n = sources.size();
    std::vector<io::DatasetClip> out(n);
    std::vector<std::exception_ptr> errors(n);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex done_mutex;
    auto worker = [&] {
        while (!failed.load()) {
            const size_t i = next.fetch_add(1);
            if (i >= n) return;
            try {
                out[i] = build_clip(sources[i], options);
                if (on_done) {
                    std::lock_guard<std::mutex> lock(done_mutex);
                    on_done(sources[i]);
                }
            } catch (...) {
                errors[i] = std::current_exception();
                failed.store(true);
            }
        }
    };
    const int t = std::max(1, std::min<int>(threads, static_cast<int>(n)));
    std::vector<std::thread> pool;
    for (int k = 1; k < t; ++k) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    return out;
}

}  // namespace s2m::imu
