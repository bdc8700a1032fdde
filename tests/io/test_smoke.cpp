#include <gtest/gtest.h>
#include "step2motion/io/bvh.hpp"
TEST(Smoke, Builds) { EXPECT_EQ(s2m::io::channel_name(s2m::io::Channel::Zrotation), std::string("Zrotation")); }
