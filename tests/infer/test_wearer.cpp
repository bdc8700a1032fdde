// The wearer's size: legs measured from a skeleton and from poses, the body scaled about the root to
// the wearer's legs (root path untouched), before the feet are held; evaluate draws each clip's body
// at the size of its skeleton.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "step2motion/core/error.hpp"
#include "step2motion/eval/evaluate.hpp"
#include "step2motion/infer/contacts.hpp"
#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/infer/wearer.hpp"
#include "step2motion/io/dataset.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/model/bundle.hpp"
#include "test_support.hpp"

using namespace s2m;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = S2M_SOURCE_DIR;

int col(int joint) { return 3 + 3 * (joint - 1); }

// One held-out clip of the bundled data.
io::DatasetClip heldout_clip(const std::string& name) {
    const io::Dataset held_out = io::read_dataset((kSource / "data" / "demo-heldout.h5").string());
    for (const auto& c : held_out.clips)
        if (c.name.find(name) != std::string::npos) return c;
    ADD_FAILURE() << "no clip " << name << " in data/demo-heldout.h5";
    return {};
}

}  // namespace

TEST(WearerSize, LegsFromOffsetsAndFromPoses) {
    std::vector<Eigen::Vector3d> offsets(22, Eigen::Vector3d(0.01, 0.02, 0.03));
    offsets[kin::LeftLeg] = {0, -0.40, 0.03};     // 0.40112 m
    offsets[kin::LeftFoot] = {0, -0.38, 0};       // 0.38
    offsets[kin::RightLeg] = {0, -0.44, 0};       // 0.44
    offsets[kin::RightFoot] = {0.02, -0.40, 0};   // 0.40050
    EXPECT_NEAR(kin::leg_length_m(offsets), (std::hypot(0.40, 0.03) + 0.38 + 0.44 + std::hypot(0.02, 0.40)) / 2, 1e-12);
    offsets.pop_back();
    EXPECT_THROW(kin::leg_length_m(offsets), InputError);

    // Two frames: legs of 0.8 and 0.9 m (thigh from the hip joint, not from the root).
    Eigen::MatrixXf poses = Eigen::MatrixXf::Zero(2, 66);
    for (int f = 0; f < 2; ++f) {
        const float thigh = f == 0 ? 0.42f : 0.47f, shin = f == 0 ? 0.38f : 0.43f;
        for (const int side : {0, 1}) {
            const float x = side == 0 ? 0.09f : -0.09f;
            poses.block<1, 3>(f, col(side == 0 ? kin::LeftUpLeg : kin::RightUpLeg)) << x, -0.06f, 0.f;
            poses.block<1, 3>(f, col(side == 0 ? kin::LeftLeg : kin::RightLeg)) << x, -0.06f - thigh, 0.f;
            poses.block<1, 3>(f, col(side == 0 ? kin::LeftFoot : kin::RightFoot)) << x, -0.06f - thigh, -shin;
        }
    }
    EXPECT_NEAR(infer::predicted_leg_length_m(poses), 0.85, 1e-6);
    EXPECT_EQ(infer::predicted_leg_length_m(Eigen::MatrixXf::Zero(0, 66)), 0);
}

// Scaling changes the joints by one factor about the root, never the root's displacements, and brings
// the legs to the wearer's length.
TEST(WearerSize, BodyScaledAboutTheRootToTheWearersLegs) {
    const io::DatasetClip clip = heldout_clip("07_02");
    Eigen::MatrixXf poses = clip.poses;
    const Eigen::MatrixXf before = poses;
    const double legs = infer::predicted_leg_length_m(before);
    ASSERT_GT(legs, 0.6);
    const double factor = infer::scale_to_wearer(poses, 1.1 * legs);
    EXPECT_NEAR(factor, 1.1, 1e-6);
    EXPECT_NEAR(infer::predicted_leg_length_m(poses), 1.1 * legs, 1e-5);
    EXPECT_EQ(poses.leftCols(3), before.leftCols(3));
    EXPECT_LT((poses.rightCols(63) - 1.1f * before.rightCols(63)).cwiseAbs().maxCoeff(), 1e-5);
    EXPECT_THROW(infer::scale_to_wearer(poses, 0), InputError);
}

// Reconstruct draws the body at the input's wearer size, then holds the feet: the same motion scaled,
// and with foot contacts exactly the held version of the scaled one (holding first would let the
// held feet slide by the scaling).
TEST(WearerSize, ReconstructScalesTheBodyBeforeHoldingTheFeet) {
    auto bundle = model::load_model(model::model_file((kSource / "data" / "models" / "demo").string()));
    infer::InsoleSequence in = infer::sequence_from_dataset_clip(heldout_clip("07_02"));
    infer::ReconstructOptions o;
    o.sampler = "fast";
    o.steps = 2;
    o.seed = 5;
    o.root = "fused";
    o.progress = false;
    const Eigen::MatrixXf own = infer::reconstruct(bundle, {in}, o)[0].poses;
    const double target = 1.15 * infer::predicted_leg_length_m(own);
    in.wearer_leg_length_m = target;
    const Eigen::MatrixXf unchanged = infer::reconstruct(bundle, {in}, o)[0].poses;
    EXPECT_EQ(unchanged, own);  // wearer_size off: the model's own size
    o.wearer_size = true;
    const Eigen::MatrixXf scaled = infer::reconstruct(bundle, {in}, o)[0].poses;
    EXPECT_NEAR(infer::predicted_leg_length_m(scaled), target, 1e-5);
    EXPECT_EQ(scaled.leftCols(3), own.leftCols(3));
    EXPECT_LT((scaled.rightCols(63) - 1.15f * own.rightCols(63)).cwiseAbs().maxCoeff(), 1e-5);
    o.foot_contacts = true;
    const Eigen::MatrixXf held = infer::reconstruct(bundle, {in}, o)[0].poses;
    Eigen::MatrixXf expected = scaled;
    infer::lock_foot_contacts(expected, in);
    EXPECT_LT((held - expected).cwiseAbs().maxCoeff(), 1e-6);
    EXPECT_GT((held - scaled).cwiseAbs().maxCoeff(), 1e-3);
}

// evaluate: a clip whose wearer is 12 % taller (skeleton and true joints scaled, the same insoles) is
// drawn 12 % taller, so its joint errors are exactly 1.12 times the original's; with --no-wearer-size
// the model's body stays the same and the errors differ otherwise. (demo-mlp: deterministic, so the
// two clips get the same prediction; feet free, since held feet follow the root.)
TEST(WearerSize, EvaluateDrawsEachClipAtItsSkeletonsSize) {
    const fs::path dir = test::temp_dir("wearer_evaluate");
    io::Dataset data = io::read_dataset((kSource / "data" / "demo-heldout.h5").string());
    io::DatasetClip clip = heldout_clip("07_02"), tall = clip;
    clip.split = tall.split = "test";
    tall.name = clip.name + "_tall";
    tall.offsets_m *= 1.12;
    tall.poses.rightCols(63) *= 1.12f;
    data.clips = {clip, tall};
    io::write_dataset((dir / "two.h5").string(), data);

    eval::EvaluateOptions o;
    o.models = {(kSource / "data" / "models" / "demo-mlp").string()};
    o.data = (dir / "two.h5").string();
    o.reconstruct.root = "network";
    o.reconstruct.progress = false;
    o.given.foot_contacts = true;  // free: held feet follow the root, which a wearer's size does not scale
    o.reconstruct.foot_contacts = false;
    const auto on = eval::evaluate_models(o);  // the default of a heading-frame model: on
    EXPECT_TRUE(on["demo-mlp"]["wearer_size"].get<bool>());
    o.given.wearer_size = true;
    o.reconstruct.wearer_size = false;
    const auto off = eval::evaluate_models(o);
    EXPECT_FALSE(off["demo-mlp"]["wearer_size"].get<bool>());
    // Keyed by the clips' output names.
    const std::string name = infer::sequence_from_dataset_clip(clip).name, tall_name = infer::sequence_from_dataset_clip(tall).name;
    auto error = [&](const nlohmann::json& m, const std::string& clip_name, const char* key) {
        return m.at("demo-mlp").at("clips").at(clip_name).at(key).at("mean").get<double>();
    };
    for (const char* key : {"MPJPE_cm", "MPJPE_Legs_cm"}) {
        SCOPED_TRACE(key);
        std::printf("%s: %.3f cm, taller wearer %.3f cm drawn at its size, %.3f cm at the model's\n", key, error(on, name, key),
                    error(on, tall_name, key), error(off, tall_name, key));
        EXPECT_NEAR(error(on, tall_name, key), 1.12 * error(on, name, key), 1e-3);
        EXPECT_GT(std::abs(error(off, tall_name, key) - 1.12 * error(off, name, key)), 0.05);
    }
}
