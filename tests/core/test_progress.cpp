#include <gtest/gtest.h>

#include <string>

#include "step2motion/core/progress.hpp"

using s2m::Progress;

namespace {

// The last line drawn (stderr is not a terminal under ctest: one plain line per draw).
std::string last_line(const std::string& out) {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

}  // namespace

TEST(Progress, AStoppedJobShowsTheCountReachedAndAFinishedOneTheTotal) {
    Progress::set_enabled(true);
    testing::internal::CaptureStderr();
    {
        Progress p("train", 100, "batches");
        p.advance(37);
        p.stop("interrupted");
    }
    std::string line = last_line(testing::internal::GetCapturedStderr());
    EXPECT_NE(line.find("37/100 batches"), std::string::npos) << line;
    EXPECT_NE(line.find("interrupted"), std::string::npos) << line;

    testing::internal::CaptureStderr();
    {
        Progress p("write", 10, "files");
        p.advance(9);
        p.finish();
    }
    line = last_line(testing::internal::GetCapturedStderr());
    EXPECT_NE(line.find("10/10 files"), std::string::npos) << line;

    // Destroyed unfinished (an exception unwinding): where it stood.
    testing::internal::CaptureStderr();
    { Progress p("read", 8, "clips"); p.advance(3); }
    line = last_line(testing::internal::GetCapturedStderr());
    EXPECT_NE(line.find("3/8 clips"), std::string::npos) << line;
}

TEST(Progress, DurationsReadAsClockTimes) {
    EXPECT_EQ(s2m::format_duration(59.4), "00:59");
    EXPECT_EQ(s2m::format_duration(3725), "1:02:05");
    EXPECT_EQ(s2m::format_duration(-1), "--:--");
}
