// make_seeds DIR: writes the seed inputs that are easier made than cut from real files (a tiny HDF5
// dataset, a tiny MVNX, model configurations); scripts/fuzz.sh --seeds puts them under fuzz/corpus/.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "step2motion/core/files.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/mvnx.hpp"
#include "step2motion/model/config.hpp"

namespace fs = std::filesystem;
using namespace s2m;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const fs::path dir = argv[1];
    for (const char* t : {"dataset_h5", "mvnx", "model_meta"}) fs::create_directories(dir / t);

    io::Dataset d;
    for (int j = 0; j < io::kDatasetJoints; ++j) {
        d.joint_names.push_back("j" + std::to_string(j));
        d.joint_parents.push_back(j - 1);
    }
    d.attributes["tool"] = "make_seeds";
    io::write_dataset((dir / "dataset_h5" / "no_clips.h5").string(), d);
    for (int k = 0; k < 2; ++k) {
        io::DatasetClip c;
        c.name = "S1/walk_" + std::to_string(k);
        c.subject = "S1";
        c.activity = "walk";
        c.split = k == 0 ? "train" : "test";
        const int n = 3 + k;
        c.poses = io::RowMatrixXf::Constant(n, io::kPoseValues, 0.25f * static_cast<float>(k + 1));
        c.insoles = io::RowMatrixXf::Constant(n, io::kInsoleChannels, 1.5f);
        c.insole_valid.setOnes(n, 2);
        d.clips.push_back(c);
    }
    d.stats = io::compute_norm_stats(d.clips);
    io::write_dataset((dir / "dataset_h5" / "two_clips.h5").string(), d);

    io::Mvnx m;
    m.subject = "seed";
    m.frame_rate_hz = 60;
    m.segments = {"Pelvis", "L5", "RightUpperLeg"};
    m.parents = {-1, 0, 0};
    m.frames = 2;
    m.time_ms = {0, 16.7};
    for (int f = 0; f < 2; ++f)
        for (int s = 0; s < 3; ++s) {
            m.orientations.push_back(Eigen::Quaterniond::Identity());
            m.positions_m.emplace_back(0.1 * s, 1.0 - 0.1 * s, 0.01 * f);
        }
    m.reference_orientations.assign(3, Eigen::Quaterniond::Identity());
    m.reference_positions_m = {m.positions_m.begin(), m.positions_m.begin() + 3};
    m.reference_type = "identity";
    write_file_atomic((dir / "mvnx" / "tiny.mvnx").string(), io::format_mvnx(m));

    model::ModelConfig c;
    write_file_atomic((dir / "model_meta" / "default.json").string(), model::config_to_json(c));
    c.cross_attention_locality = true;
    c.zero_terminal_snr = true;
    c.insole_encoder_layers = 2;
    c.hidden_dim = 64;
    write_file_atomic((dir / "model_meta" / "demo_like.json").string(), model::config_to_json(c));
    return 0;
}
