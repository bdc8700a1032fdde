// Unit tests of the networks, checkpoints, sampler and baselines (no shared data needed).
#include "step2motion/core/error.hpp"
#include "step2motion/model/baselines.hpp"
#include "step2motion/model/checkpoint.hpp"
#include "step2motion/model/profile.hpp"
#include "step2motion/model/sampler.hpp"
#include "test_support.hpp"
#include "torch_support.hpp"

#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <iostream>

using namespace s2m::model;
using s2m::test::max_abs_diff;
using s2m::test::randomize;

namespace {

ModelConfig small_config() {
    ModelConfig c;
    c.hidden_dim = 32;
    c.num_layers = 2;
    c.n_heads = 4;
    c.d_ff = 48;
    c.input_T = 12;
    c.diffusion_T = 20;
    return c;
}

// A config unlike the shared fixtures: other width, depth, heads, window, T and a 2-layer root.
ModelConfig other_config() {
    ModelConfig c;
    c.hidden_dim = 64;
    c.num_layers = 3;
    c.n_heads = 8;
    c.d_ff = 96;
    c.input_T = 10;
    c.diffusion_T = 30;
    c.root_layers = 2;
    return c;
}


NormalizationStats some_stats() {
    NormalizationStats s;
    s.pose_mean = torch::randn({66});
    s.pose_std = torch::rand({66}) + 0.5;
    s.insole_mean = torch::randn({50});
    s.insole_std = torch::rand({50}) + 0.5;
    return s;
}

template <class F>
std::string input_error_of(F&& f) {
    try {
        f();
    } catch (const s2m::InputError& e) {
        return e.what();
    }
    return "(no InputError)";
}

}  // namespace

TEST(ModelConfig, JsonRoundTripAndErrors) {
    auto c = other_config();
    c.cross_attention = CrossAttentionKind::Standard;
    c.condition_inputs = ConditionInputs::ImuOnly;
    c.cross_attention_locality = true;
    c.zero_terminal_snr = true;
    auto back = config_from_json(config_to_json(c), "x.json");
    EXPECT_EQ(config_difference(c, back), "");
    EXPECT_TRUE(back.cross_attention_locality);
    EXPECT_TRUE(back.zero_terminal_snr);
    // Files written before the locality option existed load with it off.
    auto j = nlohmann::json::parse(config_to_json(other_config()));
    j.erase("cross_attention_locality");
    j.erase("zero_terminal_snr");
    EXPECT_FALSE(config_from_json(j.dump(), "old.json").cross_attention_locality);
    EXPECT_FALSE(config_from_json(j.dump(), "old.json").zero_terminal_snr);
    auto local = other_config();
    local.cross_attention_locality = true;
    EXPECT_EQ(config_difference(other_config(), local), "cross_attention_locality: false vs true");
    EXPECT_NE(input_error_of([] { config_from_json("{\"hidden_dim\": 32}", "m.json"); }).find("m.json"),
              std::string::npos);
    c.hidden_dim = 36;  // not divisible by 8 heads
    EXPECT_NE(c.check().find("divisible"), std::string::npos);
    EXPECT_EQ(config_difference(small_config(), other_config()), "hidden_dim: 32 vs 64");
}

TEST(Networks, OwnFixtureOfAnotherSizeRoundTrips) {
    torch::manual_seed(1);
    Step2Motion model(other_config());
    randomize(*model);
    model->eval();
    auto dir = s2m::test::temp_dir("model_fixture");
    auto path = (dir / "other_size.pt").string();
    write_tensor_dict(path, reference_dict(model));

    auto loaded = load_reference_weights(path);
    EXPECT_EQ(config_difference(loaded->config, other_config()), "");
    torch::NoGradGuard ng;
    auto x = torch::randn({2, 7, 63}), c = torch::randn({2, 7, 50});
    auto t = torch::tensor({3, 30}, torch::kLong);
    auto cond_a = model->condition(c), cond_b = loaded->condition(c);
    EXPECT_EQ(max_abs_diff(model->denoise(x, t, &cond_a), loaded->denoise(x, t, &cond_b)), 0.0);
    EXPECT_EQ(max_abs_diff(model->denoise(x, t, nullptr), loaded->denoise(x, t, nullptr)), 0.0);
    EXPECT_EQ(max_abs_diff(model->displacement(c), loaded->displacement(c)), 0.0);
    // The 2-layer root encoder is recognised from the keys.
    EXPECT_EQ(loaded->root->encoder->layers->size(), 2u);
}

TEST(Networks, StrictLoadingNamesTheProblem) {
    Step2Motion model(small_config());
    auto dict = reference_dict(model);
    auto missing = dict;
    missing.erase("prior.body_emb.weight");
    Step2Motion target(small_config());
    EXPECT_NE(input_error_of([&] { load_networks(target, missing, "w.pt"); }).find("missing weight 'prior.body_emb.weight'"),
              std::string::npos);
    auto extra = dict;
    extra["control.decoder_layers.5.norm.weight"] = torch::ones({32});
    EXPECT_NE(input_error_of([&] { load_networks(target, extra, "w.pt"); }).find("unexpected weight"), std::string::npos);
    auto wrong = dict;
    wrong["root.linear.weight"] = torch::ones({3, 16});
    auto msg = input_error_of([&] { load_networks(target, wrong, "w.pt"); });
    EXPECT_NE(msg.find("w.pt: 'root.linear.weight' has shape [3, 16]"), std::string::npos) << msg;
}

TEST(Checkpoint, RoundTripAndMismatchErrors) {
    torch::manual_seed(2);
    Step2Motion model(small_config());
    randomize(*model);
    model->eval();
    auto stats = some_stats();
    auto dir = s2m::test::temp_dir("model_checkpoint");
    auto path = (dir / "model.pt").string();
    save_checkpoint(path, model, stats);

    auto ck = load_checkpoint(path);
    EXPECT_EQ(ck.format_version, kCheckpointFormatVersion);
    EXPECT_EQ(config_difference(ck.config, small_config()), "");
    EXPECT_TRUE(torch::equal(ck.stats.pose_std, stats.pose_std));
    EXPECT_TRUE(torch::equal(ck.stats.insole_mean, stats.insole_mean));
    {
        torch::NoGradGuard ng;
        auto x = torch::randn({1, 12, 63}), c = torch::randn({1, 12, 50});
        auto t = torch::tensor({5}, torch::kLong);
        auto ca = model->condition(c), cb = ck.model->condition(c);
        EXPECT_EQ(max_abs_diff(model->denoise(x, t, &ca), ck.model->denoise(x, t, &cb)), 0.0);
    }
    // A checkpoint is also a valid reference-style weight file.
    EXPECT_NO_THROW(load_reference_weights(path));

    // Config mismatch against what the caller expects.
    auto other = small_config();
    other.d_ff = 64;
    auto msg = input_error_of([&] { load_checkpoint(path, &other); });
    EXPECT_NE(msg.find("d_ff: 48 vs 64"), std::string::npos) << msg;

    // Tampered files: rewrite the container with one entry changed.
    auto tamper = [&](const std::string& key, c10::IValue value) {
        std::ifstream in(path, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto g = torch::pickle_load(bytes).toGenericDict();
        g.insert_or_assign(key, value);
        auto out_bytes = torch::pickle_save(c10::IValue(g));
        auto out_path = (dir / ("tampered_" + std::to_string(std::hash<std::string>()(key)) + ".pt")).string();
        std::ofstream(out_path, std::ios::binary).write(out_bytes.data(), std::streamsize(out_bytes.size()));
        return out_path;
    };
    msg = input_error_of([&] { load_checkpoint(tamper("s2m.format_version", torch::scalar_tensor(int64_t(7), torch::kLong))); });
    EXPECT_NE(msg.find("format version 7"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("prior.linear_weight_typo", torch::ones({2}))); });
    EXPECT_NE(msg.find("unexpected weight 'prior.linear_weight_typo'"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("prior.body_emb.weight", torch::ones({32, 40}))); });
    EXPECT_NE(msg.find("'prior.body_emb.weight' has shape [32, 40]"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("stats.insole_std", torch::ones({49}))); });
    EXPECT_NE(msg.find("insole_std has shape [49]"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("stats.pose_std", torch::zeros({66}))); });
    EXPECT_NE(msg.find("pose_std has values <= 0"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("config.hidden_dim", torch::scalar_tensor(int64_t(64), torch::kLong))); });
    EXPECT_NE(msg.find("disagree"), std::string::npos) << msg;
    auto json = config_to_json(small_config());
    json.replace(json.find("\"hidden_dim\":32"), 15, "\"hidden_dim\":64");
    msg = input_error_of([&] { load_checkpoint(tamper("s2m.config", json)); });
    EXPECT_NE(msg.find("disagree with the stored configuration (hidden_dim: 64 vs 32)"), std::string::npos) << msg;
    msg = input_error_of([&] { load_checkpoint(tamper("s2m.config", std::string("{not json"))); });
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
    // A plain reference dict is not our checkpoint; a missing file is a one-line error.
    write_tensor_dict((dir / "plain.pt").string(), reference_dict(model));
    EXPECT_NE(input_error_of([&] { load_checkpoint((dir / "plain.pt").string()); }).find("not a step2motion checkpoint"),
              std::string::npos);
    EXPECT_NE(input_error_of([&] { load_checkpoint((dir / "nope.pt").string()); }).find("cannot open"), std::string::npos);
    // Refuses to write invalid statistics; nothing is left behind.
    auto bad = stats;
    bad.insole_std = torch::zeros({50});
    EXPECT_THROW(save_checkpoint((dir / "bad.pt").string(), model, bad), s2m::InputError);
    EXPECT_FALSE(std::filesystem::exists(dir / "bad.pt"));
}

TEST(Networks, InsoleAttentionWeightsAndComponentRouting) {
    torch::manual_seed(3);
    Step2Motion model(small_config());
    randomize(*model);
    model->eval();
    torch::NoGradGuard ng;
    const int64_t B = 2, S = 9;
    auto x = torch::randn({B, S, 63}), c = torch::randn({B, S, 50});
    auto t = torch::tensor({4, 17}, torch::kLong);
    auto cond = model->condition(c);
    std::vector<torch::Tensor> attn;
    auto out = model->denoise(x, t, &cond, &attn);
    ASSERT_EQ(attn.size(), 2u);
    EXPECT_EQ(attn[0].sizes(), torch::IntArrayRef({B, 8, 3 * S, S}));
    EXPECT_LT(max_abs_diff(attn[1].sum(-1), torch::ones({B, 8, 3 * S})), 1e-5);
    // Head i reads only component i: the keys of head 2 (left IMU) change with the left gyro channel
    // and no other head's keys do.
    auto c2 = c.clone();
    c2.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), 20}, 5.0);
    auto cond2 = model->condition(c2);
    for (int h = 0; h < 8; ++h) {
        double d = max_abs_diff(cond.keys[0].select(1, h), cond2.keys[0].select(1, h));
        if (h == 2) EXPECT_GT(d, 1e-3);
        else EXPECT_EQ(d, 0.0) << "head " << h;
    }
    // Dropped condition: the insoles no longer matter.
    auto drop = torch::zeros({B});
    auto ca = model->condition(c, drop), cb = model->condition(c2 * 3.0, drop);
    EXPECT_EQ(max_abs_diff(model->denoise(x, t, &ca), model->denoise(x, t, &cb)), 0.0);
    EXPECT_GT(max_abs_diff(model->denoise(x, t, &ca), out), 1e-4);
}

// Cross-attention locality (not in the reference): the penalty on frame distance is a parameter of
// each block; a steep one makes every pose token (each body part) read its own frame, and with it
// off the model has exactly the reference's parameters.
TEST(Networks, CrossAttentionLocalityReadsTheTokensOwnFrame) {
    torch::manual_seed(5);
    auto cfg = small_config();
    cfg.cross_attention_locality = true;
    Step2Motion model(cfg);
    randomize(*model);
    model->eval();
    torch::NoGradGuard ng;
    const int64_t B = 2, S = 9;
    auto x = torch::randn({B, S, 63}), c = torch::randn({B, S, 50});
    auto t = torch::tensor({4, 17}, torch::kLong);
    auto cond = model->condition(c);
    std::vector<torch::Tensor> loose, steep;
    model->denoise(x, t, &cond, &loose);
    auto named = model->named_parameters();
    ASSERT_TRUE(named.contains("control.decoder_layers.0.cross_attn.locality"));
    for (auto& p : named)
        if (p.key().find("locality") != std::string::npos) p.value().fill_(30.0);
    model->denoise(x, t, &cond, &steep);
    // Weight on the token's own frame, for every head and pose token (3 body parts x S frames).
    auto own = torch::eye(S).repeat({3, 1});  // [3S, S]
    auto on_own = (steep[0] * own).sum(-1);
    EXPECT_GT(on_own.min().item<double>(), 0.999);
    EXPECT_LT((loose[0] * own).sum(-1).mean().item<double>(), 0.9);
    Step2Motion reference(small_config());
    for (auto& p : reference->named_parameters()) EXPECT_EQ(p.key().find("locality"), std::string::npos) << p.key();
    EXPECT_EQ(reference->parameters().size() + 2, model->parameters().size());
}

TEST(Networks, InsoleEncoderGivesTokensTheirComponentsContextOnly) {
    torch::manual_seed(6);
    auto cfg = small_config();
    cfg.insole_encoder_layers = 1;
    Step2Motion model(cfg);
    randomize(*model);
    model->eval();
    torch::NoGradGuard ng;
    ASSERT_TRUE(model->named_parameters().contains("control.insole_encoder.layers.0.self_attn.in_proj_weight"));
    const int64_t S = 9;
    auto c = torch::randn({1, S, 50});
    auto changed = c.clone();
    changed.index_put_({0, 2, 17}, 3.0);  // left IMU (offsets 16..21), frame 2
    auto a = model->condition(c).tokens, b = model->condition(changed).tokens;  // [1, 8, S, d]
    const auto& comps = insole_components();
    for (size_t i = 0; i < comps.size(); ++i) {
        const double diff = (a[0][int64_t(i)] - b[0][int64_t(i)]).abs().max().item<double>();
        if (std::string(comps[i].name) == "limu") {
            // Every frame of the component hears of frame 2, not only frame 2 itself.
            EXPECT_GT((a[0][int64_t(i)][7] - b[0][int64_t(i)][7]).abs().max().item<double>(), 1e-4);
        } else {
            EXPECT_EQ(diff, 0.0) << comps[i].name;  // components never mix
        }
    }
    // Without the encoder a token holds its own frame only.
    Step2Motion plain(small_config());
    randomize(*plain);
    plain->eval();
    auto pa = plain->condition(c).tokens, pb = plain->condition(changed).tokens;
    EXPECT_EQ((pa.select(2, 7) - pb.select(2, 7)).abs().max().item<double>(), 0.0);
    auto cfg2 = config_from_json(config_to_json(cfg), "test");
    EXPECT_EQ(cfg2.insole_encoder_layers, 1);
    EXPECT_EQ(config_from_json(config_to_json(small_config()), "test").insole_encoder_layers, 0);
}

TEST(Networks, StandardCrossAttentionAndInputAblations) {
    torch::manual_seed(4);
    torch::NoGradGuard ng;
    auto cfg = small_config();
    cfg.cross_attention = CrossAttentionKind::Standard;
    Step2Motion std_model(cfg);
    std_model->eval();
    const int64_t B = 1, S = 6;
    auto x = torch::randn({B, S, 63}), c = torch::randn({B, S, 50});
    auto t = torch::tensor({7}, torch::kLong);
    auto cond = std_model->condition(c);
    std::vector<torch::Tensor> attn;
    std_model->denoise(x, t, &cond, &attn);
    EXPECT_EQ(attn[0].sizes(), torch::IntArrayRef({B, 8, 3 * S, 8 * S}));  // every head sees all tokens

    auto pressure_changed = c.clone(), imu_changed = c.clone();
    pressure_changed.narrow(2, 0, 16).add_(1.0);
    imu_changed.narrow(2, 16, 6).add_(1.0);
    for (auto inputs : {ConditionInputs::PressureOnly, ConditionInputs::ImuOnly, ConditionInputs::All}) {
        auto ac = small_config();
        ac.condition_inputs = inputs;
        Step2Motion m(ac);
        m->eval();
        auto base_c = m->condition(c);
        auto base = m->denoise(x, t, &base_c);
        auto pc = m->condition(pressure_changed), ic = m->condition(imu_changed);
        double dp = max_abs_diff(m->denoise(x, t, &pc), base), di = max_abs_diff(m->denoise(x, t, &ic), base);
        SCOPED_TRACE(to_string(inputs));
        if (inputs == ConditionInputs::PressureOnly) { EXPECT_GT(dp, 1e-5); EXPECT_EQ(di, 0.0); }
        if (inputs == ConditionInputs::ImuOnly) { EXPECT_EQ(dp, 0.0); EXPECT_GT(di, 1e-5); }
        if (inputs == ConditionInputs::All) { EXPECT_GT(dp, 1e-5); EXPECT_GT(di, 1e-5); }
        // The root network reads the IMU channels only, whatever the conditioning.
        EXPECT_EQ(max_abs_diff(m->displacement(pressure_changed), m->displacement(c)), 0.0);
        EXPECT_GT(max_abs_diff(m->displacement(imu_changed), m->displacement(c)), 1e-5);
    }
}

TEST(Networks, BatchedWindowsEqualOneByOne) {
    torch::manual_seed(5);
    Step2Motion model(small_config());
    randomize(*model);
    model->eval();
    torch::NoGradGuard ng;
    auto x = torch::randn({4, 12, 63}), c = torch::randn({4, 12, 50});
    auto t = torch::tensor({1, 5, 12, 20}, torch::kLong);
    auto cond = model->condition(c);
    auto batched = model->denoise(x, t, &cond);
    for (int64_t b = 0; b < 4; ++b) {
        auto cb = model->condition(c.narrow(0, b, 1));
        auto one = model->denoise(x.narrow(0, b, 1), t.narrow(0, b, 1), &cb);
        EXPECT_LT(max_abs_diff(one, batched.narrow(0, b, 1)), 1e-5);
    }
}

TEST(Diffusion, StridedLevelsAndTranslationLoss) {
    DiffusionSchedule s(200);
    auto lv = s.strided_steps(10);
    ASSERT_EQ(lv.size(), 10u);
    EXPECT_EQ(lv.front(), 200);
    for (size_t i = 1; i < lv.size(); ++i) EXPECT_LT(lv[i], lv[i - 1]);
    EXPECT_EQ(lv.back(), 1);
    EXPECT_EQ(s.strided_steps(1), std::vector<int64_t>{200});
    EXPECT_EQ(s.strided_steps(500).size(), 200u);
    EXPECT_EQ(sampler_levels(s, 0).size(), 200u);
    // Loss by hand: pred - target = 1 on frame 0 only → MSE 1/(S·3)·3... per element.
    auto pred = torch::zeros({1, 4, 3}), target = torch::zeros({1, 4, 3});
    pred.index_put_({0, 0}, torch::ones({3}));
    // MSE = 3/12; cumsum differs by 1 on all 4 frames → 12/12 = 1; total 0.25 + 0.001.
    EXPECT_NEAR(translation_loss(pred, target).item<double>(), 0.251, 1e-7);
    // q_sample at t = 0 is the clean sample.
    auto x0 = torch::randn({2, 3, 63});
    EXPECT_LT(max_abs_diff(s.q_sample(x0, torch::zeros({2}, torch::kLong), torch::randn_like(x0)), x0), 1e-7);
}

// With several threads the sampler gives each thread its own windows (single-threaded kernels);
// the samples must be those of the one-thread batched run, locality and guidance included.
TEST(Sampler, WindowsSharedOutAcrossThreadsGiveTheSameSamples) {
    torch::manual_seed(7);
    auto cfg = small_config();
    cfg.cross_attention_locality = true;
    Step2Motion model(cfg);
    randomize(*model);
    DiffusionSchedule sched(cfg.diffusion_T);
    auto c = torch::randn({5, 12, 50});
    const int threads_before = at::get_num_threads();
    for (double w : {1.0, 2.0}) {
        SamplerOptions o;
        o.guidance = w;
        at::set_num_threads(1);
        torch::manual_seed(11);
        auto one = sample_poses(model, sched, c, o);
        at::set_num_threads(3);  // 5 windows over 3 threads: uneven shares
        torch::manual_seed(11);
        auto three = sample_poses(model, sched, c, o);
        EXPECT_LT(max_abs_diff(one, three), 1e-4) << "guidance " << w;
        EXPECT_TRUE(torch::isfinite(three).all().item<bool>());
    }
    at::set_num_threads(threads_before);
}

// Zero terminal SNR (not in the reference): x_T is pure noise, the schedule's first level is kept,
// ᾱ still decreases, and both samplers run (no division by zero at t = T).
TEST(Diffusion, ZeroTerminalSnrSchedule) {
    DiffusionSchedule ref(200), zero(200, 1e-4, 0.02, true);
    EXPECT_NEAR(ref.sqrt_cum_alphas[200].item<double>(), 0.3636, 1e-3);  // the leak this removes
    EXPECT_EQ(zero.sqrt_cum_alphas[200].item<double>(), 0.0);
    EXPECT_NEAR(zero.sqrt_cum_alphas[1].item<double>(), ref.sqrt_cum_alphas[1].item<double>(), 1e-7);
    EXPECT_NEAR(zero.betas[200].item<double>(), 1.0, 1e-6);
    auto ca = zero.cum_alphas.narrow(0, 1, 200);
    EXPECT_TRUE((ca.narrow(0, 1, 199) < ca.narrow(0, 0, 199)).all().item<bool>());
    auto cfg = small_config();
    cfg.zero_terminal_snr = true;
    DiffusionSchedule from_config(cfg);
    EXPECT_EQ(from_config.sqrt_cum_alphas[cfg.diffusion_T].item<double>(), 0.0);
    torch::manual_seed(8);
    Step2Motion model(cfg);
    randomize(*model);
    auto c = torch::randn({2, 12, 50});
    for (int steps : {0, 4}) {
        SamplerOptions o;
        o.steps = steps;
        EXPECT_TRUE(torch::isfinite(sample_poses(model, from_config, c, o)).all().item<bool>()) << steps;
    }
    // A training target at t = T carries nothing of x0.
    auto x0 = torch::randn({2, 3, 63}), eps = torch::randn({2, 3, 63});
    EXPECT_LT(max_abs_diff(zero.q_sample(x0, torch::full({2}, 200, torch::kLong), eps), eps), 1e-6);
}

TEST(Diffusion, TrainingStepsDrawnWithAPower) {
    DiffusionSchedule sched(200);
    torch::manual_seed(3);
    auto uniform = sched.training_steps(20000);
    torch::manual_seed(3);
    EXPECT_TRUE(torch::equal(uniform, torch::randint(0, 201, {20000}, torch::kLong)));  // the reference's draw
    auto noisy = sched.training_steps(20000, 0.5);
    EXPECT_EQ(noisy.min().item<int64_t>(), 0);
    EXPECT_EQ(noisy.max().item<int64_t>(), 200);
    // E[u^p] = 1/(1+p): mean level ≈ 201·2/3 − ½ for p = ½ against 100 for the uniform draw.
    EXPECT_NEAR(noisy.to(torch::kDouble).mean().item<double>(), 201.0 * 2 / 3 - 0.5, 2.0);
    EXPECT_NEAR(uniform.to(torch::kDouble).mean().item<double>(), 100.0, 2.0);
    EXPECT_THROW(sched.training_steps(4, 0.0), s2m::InputError);
}

TEST(Sampler, CachedConditioningGivesIdenticalSamples) {
    torch::manual_seed(6);
    Step2Motion model(small_config());
    randomize(*model);
    DiffusionSchedule sched(small_config().diffusion_T);
    auto c = torch::randn({3, 12, 50});
    for (int steps : {0, 5}) {
        for (double w : {1.0, 2.5}) {
            SamplerOptions a, b;
            a.steps = b.steps = steps;
            a.guidance = b.guidance = w;
            b.cache_condition = false;
            torch::manual_seed(42);
            auto xa = sample_poses(model, sched, c, a);
            torch::manual_seed(42);
            auto xb = sample_poses(model, sched, c, b);
            EXPECT_TRUE(torch::equal(xa, xb)) << "steps " << steps << " w " << w;
            EXPECT_TRUE(torch::isfinite(xa).all().item<bool>());
        }
    }
    // Guidance actually changes the result.
    SamplerOptions g1, g3;
    g3.guidance = 3.0;
    torch::manual_seed(9);
    auto x1 = sample_poses(model, sched, c, g1);
    torch::manual_seed(9);
    auto x3 = sample_poses(model, sched, c, g3);
    EXPECT_GT(max_abs_diff(x1, x3), 1e-4);
}

TEST(Sampler, InpaintingAndStepHookInLockstep) {
    torch::manual_seed(7);
    Step2Motion model(small_config());
    randomize(*model);
    DiffusionSchedule sched(small_config().diffusion_T);
    const int64_t B = 3, S = 12, H = 6;
    auto c = torch::randn({B, S, 50});
    // Known first half of window 0; windows 1.. copy the previous window's last H frames at every step.
    SamplerOptions opt;
    opt.steps = 8;
    auto mask = torch::zeros({B, S, 1});
    mask.index_put_({0, torch::indexing::Slice(0, H)}, 1.0);
    opt.inpaint.mask = mask;
    opt.inpaint.values = torch::randn({B, S, 63});
    std::vector<int64_t> seen;
    opt.on_step = [&](int64_t t, torch::Tensor& x) {
        seen.push_back(t);
        for (int64_t b = 1; b < B; ++b) x[b].narrow(0, 0, H).copy_(x[b - 1].narrow(0, S - H, H));
    };
    auto out = sample_poses(model, sched, c, opt);
    auto expect_levels = sampler_levels(sched, 8);
    expect_levels.push_back(0);
    EXPECT_EQ(seen, expect_levels);
    EXPECT_TRUE(torch::equal(out[0].narrow(0, 0, H), opt.inpaint.values[0].narrow(0, 0, H)));
    for (int64_t b = 1; b < B; ++b)
        EXPECT_TRUE(torch::equal(out[b].narrow(0, 0, H), out[b - 1].narrow(0, S - H, H)));
}

TEST(Sampler, Bf16AutocastStaysCloseToFp32) {
    torch::manual_seed(8);
    auto cfg = small_config();
    Step2Motion model(cfg);
    model->eval();
    DiffusionSchedule sched(cfg.diffusion_T);
    torch::NoGradGuard ng;
    auto x = torch::randn({2, 12, 63}), c = torch::randn({2, 12, 50});
    auto t = torch::tensor({3, 15}, torch::kLong);
    auto cond = model->condition(c);
    auto ref = model->denoise(x, t, &cond);
    torch::Tensor low;
    {
        Autocast ac;
        auto cb = model->condition(c);
        low = model->denoise(x, t, &cb);
    }
    EXPECT_EQ(low.scalar_type(), torch::kBFloat16);  // autocast really ran the products in bf16
    double d = max_abs_diff(low, ref), scale = ref.abs().max().item<double>();
    std::cout << "[bf16] one denoiser pass: max |bf16 - fp32| = " << d << " (output max " << scale << ")\n";
    EXPECT_GT(d, 0.0);
    EXPECT_LT(d, 0.05 * scale);
    EXPECT_FALSE(at::autocast::is_cpu_enabled());  // the guard restored the state
}

TEST(Baselines, RegressorsShapesAndGradients) {
    torch::manual_seed(10);
    RegressorConfig rc;
    rc.input_T = 10;
    rc.hidden_dim = 32;
    rc.d_ff = 48;
    MlpRegressor mlp_r(rc);
    TransformerRegressor tr(rc);
    auto c = torch::randn({2, 10, 50});
    auto y1 = mlp_r(c), y2 = tr(c);
    EXPECT_EQ(y1.sizes(), torch::IntArrayRef({2, 10, 63}));
    EXPECT_EQ(y2.sizes(), torch::IntArrayRef({2, 10, 63}));
    (y1.square().mean() + y2.square().mean()).backward();
    for (auto& p : mlp_r->parameters()) EXPECT_TRUE(p.grad().defined());
    for (auto& p : tr->parameters()) EXPECT_TRUE(p.grad().defined());
    EXPECT_EQ(mlp_r(c.narrow(1, 0, 7)).sizes(), torch::IntArrayRef({2, 7, 63}));
    EXPECT_THROW(tr(torch::randn({1, 11, 50})), s2m::InputError);
}

TEST(Baselines, DoubleIntegrationOfConstantAcceleration) {
    const int64_t n = 30;
    const double hz = 30.0;
    auto ins = torch::zeros({n, 50});
    ins.narrow(1, 16, 1).fill_(0.1);        // left foot 0.1 g forward (x)
    ins.narrow(1, 25 + 16, 1).fill_(0.3);   // right foot 0.3 g → mean 0.2 g
    auto d = double_integration_displacement(ins, hz);
    ASSERT_EQ(d.sizes(), torch::IntArrayRef({n, 3}));
    const double a = 0.2 * 9.80665, dt = 1.0 / hz;
    // Semi-implicit Euler from rest: position after n frames = a·dt²·n(n+1)/2.
    EXPECT_NEAR(d.select(1, 0).sum().item<double>(), a * dt * dt * n * (n + 1) / 2.0, 1e-4);
    EXPECT_EQ(d.select(1, 1).abs().max().item<double>(), 0.0);
}

TEST(Training, OneNetworkStepReducesTheLossOnAFixedBatch) {
    torch::manual_seed(11);
    auto cfg = small_config();
    cfg.dropout = 0.0;
    Step2Motion model(cfg);
    model->train();
    DiffusionSchedule sched(cfg.diffusion_T);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
    auto x0 = torch::randn({8, 12, 63}), c = torch::randn({8, 12, 50});
    auto t = torch::randint(0, cfg.diffusion_T + 1, {8}, torch::kLong);
    auto eps = torch::randn_like(x0);
    auto x_t = sched.q_sample(x0, t, eps);
    double first = 0, last = 0;
    for (int i = 0; i < 40; ++i) {
        opt.zero_grad();
        auto cond = model->condition(c);
        auto loss = pose_loss(model->denoise(x_t, t, &cond), x0) +
                    translation_loss(model->displacement(c), x0.narrow(2, 0, 3));
        loss.backward();
        opt.step();
        (i == 0 ? first : last) = loss.item<double>();
    }
    EXPECT_LT(last, 0.8 * first);
    for (auto& p : model->control->parameters()) EXPECT_TRUE(p.grad().defined());
}

// Every tensor the sampler and a training step create takes its options from the input: run in
// float64, every output must stay float64 (a factory without options makes float32 and fails this,
// as it would put a tensor on the CPU next to CUDA inputs).
TEST(Device, Float64SamplerAndTrainingStepKeepTheInputDtype) {
    torch::manual_seed(21);
    auto cfg = small_config();
    cfg.cross_attention_locality = true;
    Step2Motion model(cfg);
    model->to(torch::kDouble);
    DiffusionSchedule sched(cfg);
    const int64_t B = 3, S = cfg.input_T;
    const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
    auto insoles = torch::randn({B, S, s2m::io::kInsoleChannels}, f64);
    for (int steps : {0, 4}) {  // ancestral over all levels, and DDIM striding
        SCOPED_TRACE("steps " + std::to_string(steps));
        SamplerOptions opt;
        opt.steps = steps;
        opt.guidance = 2.0;
        opt.inpaint.mask = torch::zeros({B, S, 1}, f64);
        opt.inpaint.mask.narrow(1, 0, 2).fill_(1.0);
        opt.inpaint.values = torch::randn({B, S, s2m::io::kJointValues}, f64);
        opt.on_step = [](int64_t, torch::Tensor& x) { EXPECT_EQ(x.scalar_type(), torch::kDouble); };
        std::vector<torch::Tensor> attention;
        const auto x = sample_poses(model, sched, insoles, opt, &attention);
        EXPECT_EQ(x.scalar_type(), torch::kDouble);
        ASSERT_FALSE(attention.empty());
        for (const auto& a : attention) EXPECT_EQ(a.scalar_type(), torch::kDouble);
        EXPECT_TRUE(torch::equal(x.narrow(1, 0, 2), opt.inpaint.values.narrow(1, 0, 2)));
    }

    // One training step of each network, as the trainer runs it.
    model->train();
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    auto x0 = torch::randn({B, S, s2m::io::kJointValues}, f64);
    auto t = sched.training_steps(B);
    auto x_t = sched.q_sample(x0, t, torch::randn_like(x0));
    EXPECT_EQ(x_t.scalar_type(), torch::kDouble);
    auto c_mask = (torch::rand({B}) >= 0.2).to(x0.options());
    auto cond = model->condition(insoles, c_mask);
    auto pred = model->denoise(x_t, t, &cond);
    EXPECT_EQ(pred.scalar_type(), torch::kDouble);
    auto root = model->displacement(insoles);
    EXPECT_EQ(root.scalar_type(), torch::kDouble);
    auto loss = pose_loss(pred, x0) + translation_loss(root, torch::randn({B, S, s2m::io::kRootValues}, f64));
    EXPECT_EQ(loss.scalar_type(), torch::kDouble);
    adam.zero_grad();
    loss.backward();
    adam.step();
    for (const auto& p : model->parameters()) {
        EXPECT_EQ(p.scalar_type(), torch::kDouble);
        if (p.grad().defined()) {
            EXPECT_EQ(p.grad().scalar_type(), torch::kDouble);
        }
    }
    EXPECT_EQ(sched.posterior_sample(x0, x_t, t.clamp_min(1), torch::randn_like(x0)).scalar_type(), torch::kDouble);
}

// The profiler's count of matrix-product work: 2·M·N·K per product, an autocast re-dispatch of
// bmm to itself counted once, element-wise work left out of matmul_gflop.
TEST(Profile, CountsMatrixProductWorkOnce) {
    const auto a = torch::randn({30, 16}), b = torch::randn({16, 8});
    const auto qa = torch::randn({4, 30, 16}), qb = torch::randn({4, 16, 12});
    const double want = (2.0 * 30 * 16 * 8 + 2.0 * 4 * 30 * 16 * 12) / 1e9;
    for (bool bf16 : {false, true}) {
        SCOPED_TRACE(bf16 ? "bf16 autocast" : "fp32");
        Autocast ac(bf16);
        const auto prof = profile_ops([&] {
            auto c = torch::mm(a, b) + 1.0;
            auto d = torch::bmm(qa, qb);
        });
        EXPECT_NEAR(prof.matmul_gflop, want, 1e-15);
        for (const auto& op : prof.ops)
            if (op.name == "aten::bmm") {
                EXPECT_EQ(op.calls, 1);
            }
    }
}

// Under autocast the layer computes in bf16 with its bias cast too; at inference its cast weights
// are kept across calls (one cast per call: the input's) and rebuilt when the weights change.
TEST(Layers, LinearUnderAutocastKeepsCastWeightsUntilTheyChange) {
    torch::manual_seed(5);
    Linear lin(16, 8);
    const auto x = torch::randn({4, 10, 16});
    auto expect_close_to_fp32 = [&](const torch::Tensor& y) {
        const auto want = torch::nn::functional::linear(x, lin->weight, lin->bias).detach();
        EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
        EXPECT_LT(max_abs_diff(y.to(torch::kFloat), want), 0.02 * want.abs().max().item<double>());
    };
    {
        Autocast ac(true);
        expect_close_to_fp32(lin(x));  // training mode
    }
    lin->eval();
    auto infer = [&] {
        c10::InferenceMode inference;
        Autocast ac(true);
        torch::Tensor y;
        const auto prof = profile_ops([&] { y = lin(x); });
        long casts = 0;
        for (const auto& op : prof.ops)
            if (op.name == "aten::_to_copy") casts += op.calls;
        return std::make_pair(y, casts);
    };
    infer();
    const auto [y, casts] = infer();
    expect_close_to_fp32(y);
    EXPECT_EQ(casts, 1) << "the weights were cast again";
    {
        torch::NoGradGuard no_grad;
        lin->weight.mul_(-2);
    }
    expect_close_to_fp32(infer().first);
}

// A training step (forward + backward) under bf16 autocast, for every conditioning variant: the
// loss is near fp32's and every parameter gets a finite gradient near fp32's. The batched keys and
// values of all layers equal each layer's own projection.
TEST(Training, Bf16StepForEveryConditioningVariant) {
    struct Variant {
        const char* name;
        int encoder_layers;
        CrossAttentionKind kind;
        bool locality;
    };
    for (const Variant& v : {Variant{"per-component", 0, CrossAttentionKind::PerComponent, false},
                             Variant{"insole encoder + locality", 1, CrossAttentionKind::PerComponent, true},
                             Variant{"standard attention", 0, CrossAttentionKind::Standard, false}}) {
        SCOPED_TRACE(v.name);
        torch::manual_seed(3);
        auto cfg = small_config();
        cfg.insole_encoder_layers = v.encoder_layers;
        cfg.cross_attention = v.kind;
        cfg.cross_attention_locality = v.locality;
        cfg.dropout = 0;
        Step2Motion model(cfg);
        model->train();
        DiffusionSchedule sched(cfg.diffusion_T);
        // Six windows: with three, one window's rounding decided the largest gradient difference
        // (over 6 seeds x 3 variants at batch 8 the largest uses 0.74 of the tolerance below).
        auto x0 = torch::randn({6, 12, 63}), c = torch::randn({6, 12, 50});
        auto t = torch::tensor({0, 7, 20, 3, 12, 16}, torch::kLong);
        auto x_t = sched.q_sample(x0, t, torch::randn_like(x0));
        auto keep = torch::tensor({1.f, 0.f, 1.f, 1.f, 0.f, 1.f});
        auto step = [&](bool bf16, std::vector<torch::Tensor>* grads) {
            model->zero_grad();
            torch::Tensor loss;
            {
                Autocast ac(bf16);
                auto cond = model->condition(c, keep);
                if (!bf16) {
                    for (int l = 0; l < cfg.num_layers; ++l) {
                        const auto kv = model->control->decoder_layers[l]->as<ConditionLayerImpl>()->cross_attn->keys_values(cond.tokens);
                        EXPECT_LT(max_abs_diff(kv.first, cond.keys[size_t(l)]), 1e-5);
                        EXPECT_LT(max_abs_diff(kv.second, cond.values[size_t(l)]), 1e-5);
                    }
                }
                loss = pose_loss(model->denoise(x_t, t, &cond).to(torch::kFloat), x0);
            }
            loss.backward();
            for (const auto& p : model->parameters()) grads->push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
            return loss.item<double>();
        };
        std::vector<torch::Tensor> g32, g16;
        const double l32 = step(false, &g32), l16 = step(true, &g16);
        const auto names = model->named_parameters().keys();
        EXPECT_NEAR(l16, l32, 0.02 * l32);
        ASSERT_EQ(g32.size(), g16.size());
        for (size_t i = 0; i < g32.size(); ++i) {
            if (!g32[i].defined()) continue;  // the root network's: not part of the pose loss
            ASSERT_TRUE(g16[i].defined()) << "parameter " << i << " has no gradient in bf16";
            EXPECT_TRUE(torch::isfinite(g16[i]).all().item<bool>());
            const double scale = g32[i].abs().max().item<double>();
            EXPECT_LT(max_abs_diff(g16[i].to(torch::kFloat), g32[i]), 0.1 * scale + 1e-4) << names[i];
        }
    }
}
