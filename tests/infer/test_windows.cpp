#include <gtest/gtest.h>

#include "step2motion/infer/reconstruct.hpp"

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

TEST(Contacts, StepsAreCountedFromContactOnsets) {
    std::vector<std::array<bool, 2>> c;
    // Left: contact 10, swing 5, contact 10, swing 5, contact 10 -> 2 steps after the first contact.
    for (int rep = 0; rep < 3; ++rep) {
        for (int i = 0; i < 10; ++i) c.push_back({true, false});
        if (rep < 2)
            for (int i = 0; i < 5; ++i) c.push_back({false, true});
    }
    // A one-frame blip does not count.
    c.push_back({false, true});
    c.push_back({true, true});
    c.push_back({false, true});
    const auto steps = count_steps(c, 3);
    EXPECT_EQ(steps[0], 2);
    // Right: contacts of 5, 5 and 3 frames with swings between: the first onset is not a step.
    EXPECT_EQ(steps[1], 2);
}
