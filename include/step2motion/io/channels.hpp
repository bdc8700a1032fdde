#pragma once
// The two frame layouts every area shares (reference §2-3), defined once: the insole frame (what the
// networks read) and the pose frame (what they write and the dataset stores).

namespace s2m::io {

// Insole frame, per foot: 16 pressure cells (0-7 heel, 8-15 toes), acceleration x y z, angular rate
// x y z, total force, centre of pressure x y; the left foot's 25 channels, then the right foot's.
constexpr int kPressureCells = 16;
constexpr int kHeelOffset = 0, kToesOffset = 8, kCellsPerRegion = 8;
constexpr int kAccOffset = 16, kGyroOffset = 19, kForceOffset = 22, kCopOffset = 23;
constexpr int kFootChannels = 25;
constexpr int kRightFootOffset = kFootChannels;
constexpr int kInsoleChannels = 2 * kFootChannels;
constexpr int kImuChannels = 12;        // acceleration + angular rate, both feet
constexpr int kInsoleComponents = 8;    // toes, heel, IMU, force + CoP, per foot: one attention head each

// Pose frame: the root's displacement from the previous frame (x y z, metres), then the 21 non-root
// joints relative to the root (63): left leg 12, right leg 12, body 39.
constexpr int kDatasetJoints = 22;      // the canonical skeleton, root included
constexpr int kRootValues = 3;
constexpr int kJointValues = 63;
constexpr int kLegValues = 12;
constexpr int kBodyValues = 39;
constexpr int kRootAndJointValues = kRootValues + kJointValues;  // 66: one dataset row

}  // namespace s2m::io
