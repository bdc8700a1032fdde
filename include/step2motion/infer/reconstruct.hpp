#pragma once
// Insole sequences → motion with a trained model: overlapping-window inpainting for long sequences
// (reference §8), all windows of all sequences denoised in lockstep, the root from the IMU network.
#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <memory>

#include <string>
#include <vector>

#include "step2motion/infer/inputs.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::model {
struct ModelBundle;
}

namespace s2m::infer {

struct ReconstructOptions {
    int steps = 0;            // 0 = every step of the schedule (ddpm); with sampler "fast", default 20
    std::string sampler = "ddpm";  // ddpm (ancestral, all steps) or fast (DDIM striding)
    double guidance = 1.0;
    uint64_t seed = 0;
    // Diffusion samples per sequence, averaged: an estimate of the mean motion given the insoles
    // (lower position error than one sample, at `samples` times the compute).
    int samples = 1;
    bool bf16 = false;
    std::string device = "cpu";  // cpu, cuda or auto (model::resolve_device); the bundle is moved there
    bool details = false;     // collect attention weights
    // network (the IMU root network), zupt (horizontal path from the feet, imu/zupt.hpp; vertical from
    // the network), fused (the feet's path plus the network's within-step motion), or
    // double_integration (Table 2's baseline).
    std::string root = "network";
    // Hold each foot still while its insole is loaded (infer/contacts.hpp), after the root is chosen.
    // with_model_defaults turns it on for heading-frame models unless the user chose.
    bool foot_contacts = false;
    // Draw each body at its wearer's size where the input knows it (InsoleSequence::wearer_leg_length_m,
    // infer/wearer.hpp), before the feet are held. with_model_defaults turns it on for heading-frame
    // models unless the user chose.
    bool wearer_size = false;
    bool progress = true;
    // Rows (windows x samples, x2 with guidance) denoised together: bounds memory whatever the input
    // length (a chunk of consecutive windows at a time, see Reconstructor).
    int max_batch_rows = 64;
};

struct Reconstruction {
    Eigen::MatrixXf poses;    // F x 66, metres: root displacement + 21 root-relative joints
    // With details: per frame, per body part (left leg, right leg, body), per insole component in the
    // model's head order (attention_components(): left toes, left heel, left IMU, left force+CoP, then
    // right), the attention weight on the same frame of that component, averaged over layers (and
    // samples). Empty for regressors.
    std::vector<float> attention;  // F x 3 x 8
};

// Names of the 8 insole components in the order of Reconstruction::attention (the model's attention
// heads, model::insole_components()): left_toes (pressure cells 9-16), left_heel (cells 1-8), left_imu,
// left_force_cop, then the same for the right foot.
const std::vector<std::string>& attention_components();

// Which of sampler, steps, samples, foot contacts and wearer size the user set; the others come from
// the model's stored settings (model::SamplingDefaults) when it has them, and foot contacts and the
// wearer's size are on for the heading-frame models (off for world-frame ones: the reference's weights
// and protocol).
struct SamplerChoice {
    bool sampler = false, steps = false, samples = false, foot_contacts = false, wearer_size = false;
};
ReconstructOptions with_model_defaults(ReconstructOptions options, const model::ModelBundle& model, const SamplerChoice& given);

// The denoising steps the options ask for: 0 = every level of the schedule (ddpm), else N (fast:
// --steps, default 20).
int sampler_steps(const ReconstructOptions& options);

// Insole sequences → poses (66 values per frame). Windows of all inputs share batches; a window's
// sample depends only on the seed, its sequence's name, its index and the sample number (each has its
// own random generator), not on the batch it ran in nor on the thread count.
class Reconstructor {
public:
    Reconstructor(model::ModelBundle& model, const ReconstructOptions& options);
    ~Reconstructor();
    std::vector<Reconstruction> run(const std::vector<InsoleSequence>& inputs);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

std::vector<Reconstruction> reconstruct(model::ModelBundle& model, const std::vector<InsoleSequence>& inputs,
                                        const ReconstructOptions& options);

// Window layout of §8 for a sequence of `frames`: starts every W/2 frames; the first window keeps all
// its frames, later ones their last W/2; the last window may be shorter (the final partial window).
struct WindowPlan {
    int start = 0, length = 0, keep_from = 0;  // frames [start + keep_from, start + length) are output
};
std::vector<WindowPlan> plan_sequence_windows(int frames, int window);

// Root displacement (F x 3, metres) by double integration of the feet's world accelerations.
Eigen::MatrixXf double_integration_root(const InsoleSequence& input);

// The root modes ReconstructOptions::root accepts.
const std::vector<std::string>& root_modes();
// Replaces the root displacements (first 3 columns of F x 66 `poses`, which hold the network's) by
// those of `root` (zupt, fused or double_integration; network leaves them).
void apply_root(Eigen::MatrixXf& poses, const InsoleSequence& input, const std::string& root);

// Global joint positions and a canonical Motion on `skeleton` (IK) from 66-value frames.
struct MotionOut {
    std::vector<Eigen::Vector3d> root_m;      // F
    std::vector<Eigen::Vector3d> joints_m;    // F x 22 global
};
MotionOut positions_from_poses(const Eigen::MatrixXf& poses, const Eigen::Vector3d& root_start_m);
io::Motion motion_from_poses(const Eigen::MatrixXf& poses, const io::Skeleton& skeleton, double fps,
                              const Eigen::Vector3d& root_start_m);

// Foot contacts (left, right toes) per frame: toe within 5 cm of the sequence's floor and slower
// than 0.5 m/s horizontally.
std::vector<std::array<bool, 2>> foot_contacts(const MotionOut& m, double fps);
// Steps per foot (left, right): swings, i.e. the ankle rising more than `lift_m` above the other
// ankle for at least `min_frames` frames (a swing ends when it is back below lift_m / 2, and a new
// one needs the foot down for `min_frames` frames first: a brief dip is not a step). Heights
// relative to the other foot: the reconstructed root's vertical drift cancels out.
std::array<int, 2> count_steps(const MotionOut& m, double lift_m = 0.03, int min_frames = 3);

}  // namespace s2m::infer
