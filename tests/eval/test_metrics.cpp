#include <gtest/gtest.h>

#include <cmath>

#include "step2motion/eval/metrics.hpp"

using namespace s2m::eval;

namespace {
// A walker moving along +X at 1 m/s with a static pose, toes on the floor.
std::vector<float> walker(int frames, double fps, float offset_y) {
    std::vector<float> x(static_cast<size_t>(frames) * 66, 0.f);
    for (int f = 0; f < frames; ++f) {
        float* row = x.data() + static_cast<size_t>(f) * 66;
        row[0] = f == 0 ? 0.f : static_cast<float>(1.0 / fps);
        for (int j = 0; j < kBodyJoints; ++j) row[3 + 3 * j + 1] = -0.9f + 0.1f * j + offset_y;
    }
    return x;
}
}  // namespace

TEST(Metrics, KnownOffsetsGiveKnownErrors) {
    const int F = 60;
    const auto truth = walker(F, 30, 0.f);
    const auto pred = walker(F, 30, 0.02f);  // every joint 2 cm too high
    MetricSet m;
    accumulate_metrics(from_pose_frames(pred.data(), F, 30), from_pose_frames(truth.data(), F, 30), m);
    EXPECT_NEAR(m["MPJPE_cm"].mean(), 2.0, 1e-4);
    EXPECT_NEAR(m["MPJPE_cm"].std(), 0.0, 1e-3);
    EXPECT_NEAR(m["MPJPE_Legs_cm"].mean(), 2.0, 1e-4);
    EXPECT_NEAR(m["toe_error_cm"].mean(), 2.0, 1e-4);
    EXPECT_NEAR(m["MPJVE_Legs_cm_s"].mean(), 0.0, 1e-4);
    EXPECT_NEAR(m["MRPE_m"].mean(), 0.0, 1e-6);
    EXPECT_NEAR(m["drift_percent"].mean(), 0.0, 1e-6);
    // Toes slide at 1 m/s while on the floor: every contact frame skates.
    EXPECT_NEAR(m["foot_skating_ratio"].mean(), 1.0, 1e-9);
    EXPECT_NEAR(m["jitter_m_s3"].mean(), 0.0, 1e-6);
}

TEST(Metrics, RootDriftAndVelocityErrors) {
    const int F = 31;
    auto truth = walker(F, 30, 0.f);
    auto pred = truth;
    for (int f = 1; f < F; ++f) pred[static_cast<size_t>(f) * 66] *= 1.1f;  // 10 % too fast
    // Oscillate one leg joint in the prediction: velocity error, jitter.
    for (int f = 0; f < F; ++f) pred[static_cast<size_t>(f) * 66 + 3 + 1 * 3] += (f % 2) ? 0.01f : -0.01f;
    MetricSet m;
    accumulate_metrics(from_pose_frames(pred.data(), F, 30), from_pose_frames(truth.data(), F, 30), m);
    EXPECT_NEAR(m["drift_percent"].mean(), 10.0, 1e-3);
    EXPECT_NEAR(m["MRPE_m"].mean(), 0.1 * 0.5, 2e-3);  // error grows linearly to 0.1 m
    // One of 8 leg joints moves 2 cm per frame at 30 fps: 60 cm/s on 1/8 of the samples.
    EXPECT_NEAR(m["MPJVE_Legs_cm_s"].mean(), 60.0 / 8, 1e-2);
    EXPECT_GT(m["jitter_m_s3"].mean(), 100.0);
    EXPECT_NEAR(m["jitter_gt_m_s3"].mean(), 0.0, 1e-6);
}

// The body facing 30 degrees off about the vertical: heading error 30, whichever way and across +-180.
TEST(Metrics, HeadingErrorFromTheHipsAxis) {
    const int F = 10;
    auto truth = walker(F, 30, 0.f);
    for (int f = 0; f < F; ++f) {
        float* row = truth.data() + static_cast<size_t>(f) * 66;
        row[3 + 0] = 0.1f, row[3 + 2] = 0.f;    // left hip on +X
        row[3 + 12] = -0.1f, row[3 + 14] = 0.f;  // right hip on -X
    }
    for (double deg : {30.0, -30.0, 170.0}) {
        auto pred = truth;
        const double a = deg * M_PI / 180;
        for (int f = 0; f < F; ++f)
            for (int j = 0; j < kBodyJoints; ++j) {
                float* p = pred.data() + static_cast<size_t>(f) * 66 + 3 + 3 * j;
                const double x = p[0], z = p[2];
                p[0] = static_cast<float>(std::cos(a) * x + std::sin(a) * z);
                p[2] = static_cast<float>(-std::sin(a) * x + std::cos(a) * z);
            }
        MetricSet m;
        accumulate_metrics(from_pose_frames(pred.data(), F, 30), from_pose_frames(truth.data(), F, 30), m);
        EXPECT_NEAR(m["heading_error_deg"].mean(), std::abs(deg), 1e-3) << deg;
    }
    MetricSet same;
    accumulate_metrics(from_pose_frames(truth.data(), F, 30), from_pose_frames(truth.data(), F, 30), same);
    EXPECT_NEAR(same["heading_error_deg"].mean(), 0.0, 1e-9);
}

TEST(Metrics, StatsMerge) {
    RunningStat a, b;
    for (double v : {1.0, 2.0}) a.add(v);
    for (double v : {3.0, 4.0}) b.add(v);
    a.merge(b);
    EXPECT_DOUBLE_EQ(a.mean(), 2.5);
    EXPECT_NEAR(a.std(), std::sqrt(1.25), 1e-12);
}
