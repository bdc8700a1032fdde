// Parity against the reference networks: every fixture in ../shared/fixtures/parity and in
// $S2M_PARITY_FIXTURES must be reproduced within 1e-4 absolute (fp32; bf16 has its own tolerance).
#include "step2motion/model/checkpoint.hpp"
#include "step2motion/model/diffusion.hpp"
#include "step2motion/model/layers.hpp"
#include "step2motion/model/networks.hpp"
#include "test_support.hpp"
#include "torch_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using namespace s2m::model;
using s2m::test::max_abs_diff;

namespace {

std::vector<fs::path> parity_fixtures() {
    std::vector<fs::path> dirs, files;
    if (!s2m::test::shared_dir().empty()) dirs.push_back(s2m::test::shared_dir() / "fixtures" / "parity");
    if (const char* env = std::getenv("S2M_PARITY_FIXTURES"); env && *env) dirs.emplace_back(env);
    for (const auto& d : dirs) {
        if (!fs::is_directory(d)) continue;
        for (const auto& e : fs::directory_iterator(d))
            if (e.path().extension() == ".pt") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

const torch::Tensor& entry(const TensorDict& d, const std::string& key) {
    auto it = d.find(key);
    if (it == d.end()) throw std::runtime_error("fixture lacks '" + key + "'");
    return it->second;
}

constexpr double kTol = 1e-4;

}  // namespace

namespace {

// Every output of one fixture file, sizes from its config.* entries.
void check_fixture(const fs::path& f) {
    torch::NoGradGuard ng;
    {
        std::cout << "[parity] checking " << f.string() << std::endl;
        SCOPED_TRACE(f.string());
        auto d = read_tensor_dict(f.string());
        auto model = load_reference_weights(f.string());
        const auto& cfg = model->config;
        std::cout << "[parity]   hidden " << cfg.hidden_dim << ", layers " << cfg.num_layers << ", heads "
                  << cfg.n_heads << ", ff " << cfg.d_ff << ", window " << cfg.input_T << ", T " << cfg.diffusion_T
                  << ", root layers " << cfg.root_layers << std::endl;
        const auto& x_t = entry(d, "in.x_t");
        const auto& c = entry(d, "in.c");
        const auto& t = entry(d, "in.t");
        const auto& c_mask = entry(d, "in.c_mask");

        auto cond = model->condition(c, c_mask);
        double e_cond = max_abs_diff(model->denoise(x_t, t, &cond), entry(d, "out.pose_cond"));
        double e_uncond = max_abs_diff(model->denoise(x_t, t, nullptr), entry(d, "out.pose_uncond"));
        double e_root = max_abs_diff(model->displacement(c), entry(d, "out.displacement"));
        std::cout << "[parity]   pose_cond " << e_cond << ", pose_uncond " << e_uncond << ", displacement "
                  << e_root << std::endl;
        EXPECT_LT(e_cond, kTol);
        EXPECT_LT(e_uncond, kTol);
        EXPECT_LT(e_root, kTol);

        EXPECT_LT(max_abs_diff(model->prior->temporal_pe->positional_encoding, entry(d, "pe.prior")), kTol);

        DiffusionSchedule sched(cfg.diffusion_T);
        auto all = torch::indexing::Slice();
        auto from1 = torch::indexing::Slice(1, torch::indexing::None);
        EXPECT_LT(max_abs_diff(sched.sqrt_cum_alphas, entry(d, "diff.sqrt_cum_alphas")), kTol);
        EXPECT_LT(max_abs_diff(sched.sqrt_one_minus_cum_alphas, entry(d, "diff.sqrt_one_minus_cum_alphas")), kTol);
        (void)all;
        for (const char* name : {"posterior_coeff_1", "posterior_coeff_2", "posterior_std"}) {
            const auto& ref = entry(d, std::string("diff.") + name);
            const auto& ours = std::string(name) == "posterior_coeff_1"   ? sched.posterior_coeff_1
                               : std::string(name) == "posterior_coeff_2" ? sched.posterior_coeff_2
                                                                           : sched.posterior_std;
            ASSERT_EQ(ref.size(0), ours.size(0)) << name;
            EXPECT_LT(max_abs_diff(ours.index({from1}), ref.index({from1})), kTol) << name;
            EXPECT_TRUE(std::isnan(ours[0].item<double>())) << name << " index 0 should be NaN";
        }
        auto q = sched.q_sample(entry(d, "diff.in.x0"), t, entry(d, "diff.in.eps"));
        EXPECT_LT(max_abs_diff(q, entry(d, "diff.out.q_sample")), kTol);
        auto ps = sched.posterior_sample(entry(d, "diff.in.x0"), x_t, t, entry(d, "diff.in.z"));
        EXPECT_LT(max_abs_diff(ps, entry(d, "diff.out.posterior_sample")), kTol);

        auto loss = translation_loss(entry(d, "loss.in.pred"), entry(d, "loss.in.target"));
        EXPECT_LT(max_abs_diff(loss.reshape({1}), entry(d, "loss.out.translation").reshape({1})), kTol);
    }
}

}  // namespace

TEST(Parity, NetworksMatchReferenceFixtures) {
    auto files = parity_fixtures();
    if (files.empty()) GTEST_SKIP() << "no parity fixtures (../shared absent and S2M_PARITY_FIXTURES unset)";
    for (const auto& f : files) check_fixture(f);
}

// Not parity (the outputs are our own): checks that the harness reads every size from config.* and
// handles T = 200, 3 layers, 8 heads, a 2-layer root and a sequence shorter than the window.
TEST(Parity, HarnessOnGeneratedFixtureOfAnotherSize) {
    torch::manual_seed(21);
    ModelConfig cfg;
    cfg.hidden_dim = 64;
    cfg.num_layers = 3;
    cfg.n_heads = 8;
    cfg.d_ff = 96;
    cfg.input_T = 12;
    cfg.diffusion_T = 200;
    cfg.root_layers = 2;
    Step2Motion model(cfg);
    {
        torch::NoGradGuard ng;
        for (auto& p : model->parameters()) p.uniform_(-0.2, 0.2);
    }
    model->eval();
    torch::NoGradGuard ng;
    const int64_t B = 2, S = 9;
    auto d = reference_dict(model);
    d["in.x_t"] = torch::randn({B, S, 63});
    d["in.c"] = torch::randn({B, S, 50});
    d["in.t"] = torch::tensor({1, 200}, torch::kLong);
    d["in.c_mask"] = torch::tensor({0.f, 1.f});
    auto cond = model->condition(d["in.c"], d["in.c_mask"]);
    d["out.pose_cond"] = model->denoise(d["in.x_t"], d["in.t"], &cond);
    d["out.pose_uncond"] = model->denoise(d["in.x_t"], d["in.t"], nullptr);
    d["out.displacement"] = model->displacement(d["in.c"]);
    DiffusionSchedule sched(cfg.diffusion_T);
    d["diff.sqrt_cum_alphas"] = sched.sqrt_cum_alphas;
    d["diff.sqrt_one_minus_cum_alphas"] = sched.sqrt_one_minus_cum_alphas;
    d["diff.posterior_coeff_1"] = sched.posterior_coeff_1;
    d["diff.posterior_coeff_2"] = sched.posterior_coeff_2;
    d["diff.posterior_std"] = sched.posterior_std;
    for (const char* k : {"diff.in.x0", "diff.in.eps", "diff.in.z"}) d[k] = torch::randn({B, S, 63});
    d["diff.out.q_sample"] = sched.q_sample(d["diff.in.x0"], d["in.t"], d["diff.in.eps"]);
    d["diff.out.posterior_sample"] = sched.posterior_sample(d["diff.in.x0"], d["in.x_t"], d["in.t"], d["diff.in.z"]);
    d["loss.in.pred"] = torch::randn({B, S, 3});
    d["loss.in.target"] = torch::randn({B, S, 3});
    d["loss.out.translation"] = translation_loss(d["loss.in.pred"], d["loss.in.target"]).reshape({1});
    d["pe.prior"] = model->prior->temporal_pe->positional_encoding.clone();
    auto dir = s2m::test::temp_dir("parity_generated");
    write_tensor_dict((dir / "generated_h64_l3_T200.pt").string(), d);
    check_fixture(dir / "generated_h64_l3_T200.pt");
    // And the fixture really carries the sizes it claims.
    auto back = read_tensor_dict((dir / "generated_h64_l3_T200.pt").string());
    EXPECT_EQ(config_difference(config_from_reference_dict(back, "gen"), cfg), "");
}

TEST(Parity, ParameterAndBufferNamesEqualFixtureKeys) {
    auto files = parity_fixtures();
    if (files.empty()) GTEST_SKIP() << "no parity fixtures";
    for (const auto& f : files) {
        std::cout << "[names] checking " << f.string() << std::endl;
        SCOPED_TRACE(f.string());
        auto d = read_tensor_dict(f.string());
        Step2Motion model(config_from_reference_dict(d, f.string()));
        for (const auto& [prefix, module] :
             std::vector<std::pair<std::string, torch::nn::Module*>>{
                 {"prior.", model->prior.get()}, {"control.", model->control.get()}, {"root.", model->root.get()}}) {
            std::vector<std::string> ours = state_names(*module), theirs;
            for (const auto& kv : d)
                if (kv.first.rfind(prefix, 0) == 0) theirs.push_back(kv.first.substr(prefix.size()));
            std::sort(ours.begin(), ours.end());
            std::sort(theirs.begin(), theirs.end());
            std::vector<std::string> only_ours, only_theirs;
            std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(only_ours));
            std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(), std::back_inserter(only_theirs));
            for (auto& n : only_ours) ADD_FAILURE() << prefix << n << " is ours only";
            for (auto& n : only_theirs) ADD_FAILURE() << prefix << n << " is in the fixture only";
            EXPECT_FALSE(ours.empty());
            // Shapes too: a name match with a different shape would not load.
            auto state = module_state(*module);
            for (const auto& n : ours)
                if (d.count(prefix + n)) {
                    EXPECT_EQ(state[n].sizes(), d[prefix + n].sizes()) << prefix << n;
                }
        }
    }
}

// bf16 parity: the same fixtures under CPU autocast (what `--precision bf16` runs), against the
// reference's fp32 outputs. bf16 keeps 8 mantissa bits (relative step 2^-8 = 0.4 %), and a pass
// chains ~10 products, so the tolerance is 3 % of each output's range; it must also differ from the
// fp32 result, or autocast did not run.
TEST(Parity, Bf16AutocastWithinItsTolerance) {
    auto files = parity_fixtures();
    if (files.empty()) GTEST_SKIP() << "no parity fixtures (../shared absent and S2M_PARITY_FIXTURES unset)";
    torch::NoGradGuard ng;
    for (const auto& f : files) {
        SCOPED_TRACE(f.string());
        auto d = read_tensor_dict(f.string());
        auto model = load_reference_weights(f.string());
        const auto& x_t = entry(d, "in.x_t");
        const auto& t = entry(d, "in.t");
        const auto& c = entry(d, "in.c");
        torch::Tensor cond_out, uncond_out, root_out;
        {
            Autocast ac;
            auto cond = model->condition(c, entry(d, "in.c_mask"));
            cond_out = model->denoise(x_t, t, &cond);
            uncond_out = model->denoise(x_t, t, nullptr);
            root_out = model->displacement(c);
        }
        EXPECT_EQ(cond_out.scalar_type(), torch::kBFloat16);
        const std::pair<const char*, const torch::Tensor*> outputs[] = {
            {"out.pose_cond", &cond_out}, {"out.pose_uncond", &uncond_out}, {"out.displacement", &root_out}};
        for (const auto& [key, ours] : outputs) {
            const auto& ref = entry(d, key);
            double range = (ref.max() - ref.min()).item<double>();
            double err = max_abs_diff(*ours, ref);
            std::cout << "[parity bf16]   " << key << " max |bf16 - reference| " << err << " (range " << range
                      << ", tolerance " << 0.03 * range << ")" << std::endl;
            EXPECT_LT(err, 0.03 * range) << key;
        }
        EXPECT_GT(max_abs_diff(cond_out, entry(d, "out.pose_cond")), kTol);
    }
}
