#pragma once
// Paired test data built in the tests: a canonical BVH at 240 Hz cut from a real CMU clip, Moticon
// insoles at 100 Hz written with io::write_moticon whose IMU readings come from the mocap foot
// orientations, and an UnderPressure sync CSV with different leads for the two insoles.
#include <filesystem>
#include <string>

#include "step2motion/core/files.hpp"
#include "step2motion/imu/clip.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/sync.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/kinematics/motion.hpp"
#include "test_support.hpp"

namespace s2m::test {

struct PairedFixture {
    std::string bvh, insoles, sync;
    io::Motion canon240;          // the motion written to the BVH
    double lead_left_s = 0, lead_right_s = 0;
    Eigen::Vector3d world_acc_g;   // constant world acceleration the IMU readings encode
};

// Frames of the CMU clip 02_01 (walking), retargeted and resampled to 240 Hz; `seconds` long.
inline io::Motion canonical_walk_240(double seconds) {
    const io::Bvh bvh = io::read_bvh((shared_dir() / "data" / "mocap" / "cmu" / "02_01.bvh").string());
    const kin::JointMap map = kin::load_joint_map("cmu");
    io::Motion m = io::motion_from_bvh(bvh, map.scale_m_per_unit ? *map.scale_m_per_unit : io::detect_bvh_scale(bvh));
    m = kin::retarget_to_canonical(kin::resample(m, 240), map, "02_01.bvh");
    const int frames = static_cast<int>(std::lround(seconds * 240));
    if (frames > m.frames) throw std::runtime_error("fixture: clip too short");
    std::vector<double> idx(static_cast<size_t>(frames));
    for (int f = 0; f < frames; ++f) idx[static_cast<size_t>(f)] = f;
    return imu::sample_motion(m, idx, 240);
}

inline PairedFixture make_paired(const std::filesystem::path& dir, const std::string& seq, const io::Motion& canon240,
                                 double lead_left_s, double lead_right_s, const Eigen::Vector3d& world_acc_g) {
    PairedFixture fx;
    fx.canon240 = canon240;
    fx.lead_left_s = lead_left_s;
    fx.lead_right_s = lead_right_s;
    fx.world_acc_g = world_acc_g;
    const double seconds = canon240.frames / 240.0;
    std::filesystem::create_directories(dir);
    fx.bvh = (dir / (seq + ".bvh")).string();
    io::write_bvh(fx.bvh, io::bvh_from_motion(canon240));

    // Insole rows: row i of the left foot is mocap time i/100 - lead_left (right: lead_right).
    const double lead_max = std::max(lead_left_s, lead_right_s);
    const int rows = static_cast<int>(std::lround((seconds + lead_max + 0.5) * 100));
    io::MoticonRecording rec;
    rec.source = seq;
    rec.insole_size = 6;
    rec.rate_hz = 100;
    rec.header["Start time"] = "26.11.2026 10:00:00.000";
    rec.header["Tag"] = "fixture";
    Eigen::MatrixXf ch = Eigen::MatrixXf::Zero(rows, io::kInsoleChannels);
    const imu::Quat in_foot[2] = {imu::insole_frame_in_foot(canon240.skeleton, 0),
                                  imu::insole_frame_in_foot(canon240.skeleton, 1)};
    for (int foot = 0; foot < 2; ++foot) {
        const double lead = foot == 0 ? lead_left_s : lead_right_s;
        std::vector<double> idx(static_cast<size_t>(rows));
        for (int i = 0; i < rows; ++i) idx[static_cast<size_t>(i)] = std::clamp((i / 100.0 - lead) * 240, 0.0, canon240.frames - 1.0);
        const io::Motion at = imu::sample_motion(canon240, idx, 100);
        s2m::QuatVector world;
        kin::forward_kinematics(at, &world);
        const int foot_j = foot == 0 ? kin::LeftFoot : kin::RightFoot;
        const int b = foot * io::kFootChannels;
        imu::Quat prev = world[static_cast<size_t>(foot_j)] * in_foot[foot];
        for (int i = 0; i < rows; ++i) {
            ch(i, b) = static_cast<float>(i / 100.0);  // pressure 1 carries the insole clock
            for (int c = 1; c < 16; ++c) ch(i, b + c) = 2.0f;
            const imu::Quat q = world[static_cast<size_t>(i) * 22 + foot_j] * in_foot[foot];
            const imu::Vec3 a = imu::device_acceleration_g(world_acc_g, q);
            // Angular rate in the device frame from the orientation change since the previous row.
            const Eigen::AngleAxisd step(prev.conjugate() * q);
            const imu::Vec3 w = step.axis() * step.angle() * 100.0 * 180.0 / M_PI;
            prev = q;
            for (int k = 0; k < 3; ++k) {
                ch(i, b + io::kAccOffset + k) = static_cast<float>(a[k]);
                ch(i, b + io::kGyroOffset + k) = static_cast<float>(w[k]);
            }
            ch(i, b + io::kForceOffset) = 300.f;
        }
    }
    for (int i = 0; i < rows; ++i) rec.time_s.push_back(i / 100.0);
    io::set_insole_channels(rec, ch);
    fx.insoles = (dir / (seq + ".txt")).string();
    io::write_moticon(fx.insoles, rec, {true});

    io::SyncInfo sync;
    const long span_ins = std::lround(seconds * 100);
    sync.left_insole = {std::lround(lead_left_s * 100), std::lround(lead_left_s * 100) + span_ins, 0};
    sync.right_insole = {std::lround(lead_right_s * 100), std::lround(lead_right_s * 100) + span_ins, 0};
    sync.mocap = {0, canon240.frames, 0};
    fx.sync = (dir / (seq + ".csv")).string();
    write_file_atomic(fx.sync, io::format_sync_csv(sync));
    return fx;
}

}  // namespace s2m::test
