// make_seeds DIR: writes the HDF5 seeds (tiny datasets, easier made than cut from real files);
// scripts/fuzz.sh --seeds puts them under tests/fuzz/corpus/dataset_h5/.
#include <cstdio>
#include <filesystem>

#include "step2motion/io/dataset.hpp"
#include "step2motion/io/moticon.hpp"

namespace fs = std::filesystem;
using namespace s2m;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    const fs::path dir = argv[1];
    fs::create_directories(dir / "dataset_h5");

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
        c.poses = io::RowMatrixXf::Constant(n, io::kRootAndJointValues, 0.25f * static_cast<float>(k + 1));
        c.insoles = io::RowMatrixXf::Constant(n, io::kInsoleChannels, 1.5f);
        c.insole_valid.setOnes(n, 2);
        d.clips.push_back(c);
    }
    d.stats = io::compute_norm_stats(d.clips);
    io::write_dataset((dir / "dataset_h5" / "two_clips.h5").string(), d);

    return 0;
}
