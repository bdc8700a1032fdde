#include <gtest/gtest.h>

#include "step2motion/infer/reconstruct.hpp"
#include "step2motion/kinematics/canonical.hpp"

using namespace s2m::infer;

TEST(Windows, HalfOverlapCoversEveryFrameOnce) {
    for (int frames : {1, 37, 50, 99, 100, 101, 149, 150, 151, 237, 1000}) {
        const auto plan = plan_sequence_windows(frames, 100);
        std::vector<int> covered(static_cast<size_t>(frames), 0);
        for (size_t k = 0; k < plan.size(); ++k) {
            const auto& w = plan[k];
            EXPECT_EQ(w.start, static_cast<int>(k) * 50);
            EXPECT_EQ(w.keep_from, k == 0 ? 0 : 50);
            EXPECT_LE(w.start + w.length, frames);
            EXPECT_GT(w.length, w.keep_from) << frames;  // every window outputs something
            for (int f = w.start + w.keep_from; f < w.start + w.length; ++f) ++covered[static_cast<size_t>(f)];
        }
        for (int f = 0; f < frames; ++f) EXPECT_EQ(covered[static_cast<size_t>(f)], 1) << frames << " frame " << f;
        // Only the last window may be shorter than the window length.
        for (size_t k = 0; k + 1 < plan.size(); ++k) EXPECT_EQ(plan[k].length, 100);
    }
}

// Steps are swings of one ankle above the other; the root's vertical drift must not matter, nor
// a short twitch, nor a lift that never drops back below half the threshold in between.
TEST(Contacts, StepsAreSwingsOfOneAnkleAboveTheOther) {
    MotionOut m;
    auto add = [&](double left_lift_m, double right_lift_m, int frames) {
        for (int i = 0; i < frames; ++i) {
            const double drift = 0.002 * static_cast<double>(m.root_m.size());  // sinks 6 cm/s at 30 Hz
            m.root_m.push_back({0, 0.9 - drift, 0});
            for (int j = 0; j < 22; ++j) m.joints_m.push_back({0, 0.5 - drift, 0});
            m.joints_m[m.joints_m.size() - 22 + s2m::kin::LeftFoot].y() = 0.08 - drift + left_lift_m;
            m.joints_m[m.joints_m.size() - 22 + s2m::kin::RightFoot].y() = 0.08 - drift + right_lift_m;
        }
    };
    add(0, 0, 20);
    for (int stride = 0; stride < 3; ++stride) {  // 3 left and 3 right swings
        add(0.10, 0, 10);
        add(0, 0, 5);
        add(0, 0.08, 10);
        add(0, 0, 5);
    }
    add(0.05, 0, 2);   // a twitch: too short
    add(0, 0, 5);
    add(0.05, 0, 4);   // one long swing with a dip to 2 cm (above half the threshold) in the middle
    add(0.02, 0, 3);
    add(0.05, 0, 4);
    add(0, 0, 5);
    add(0, 0.06, 5);   // one swing that drops to the floor for 2 frames (a reconstruction wobble)
    add(0, 0, 2);
    add(0, 0.06, 5);
    add(0, 0, 3);      // and a real step after 3 frames down
    add(0, 0.06, 5);
    add(0, 0, 5);
    const auto steps = count_steps(m);
    EXPECT_EQ(steps[0], 4);
    EXPECT_EQ(steps[1], 5);
}
