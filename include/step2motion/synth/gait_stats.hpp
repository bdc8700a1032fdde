#pragma once
// Gait figures of an insole recording (real or synthetic) computed the same way for both, so that
// synthetic data can be compared side by side with real exports.
#include <vector>

#include "step2motion/io/moticon.hpp"

namespace s2m::synth {

struct Stance {
    int begin = 0, end = 0;           // samples [begin, end)
    double peak_force_n = 0;
    double cop_x_start = 0, cop_x_end = 0;  // mean normalised COP x over the first / last 15 % of the stance
    bool complete = false;            // starts with a heel strike and ends with a toe-off inside the file
};

struct FootGaitStats {
    std::vector<Stance> stances;
    double stance_fraction = 0;       // median over strides of stance time / stride time
    double peak_force_bw = 0;         // median peak of complete stances / body weight
    double cop_x_p5 = 0, cop_x_p95 = 0;  // during stance
    double heel_to_toe_fraction = 0;  // complete stances whose COP moves forward by > 0.15
    double acc_range_g[3] = {0, 0, 0};       // 1st..99th percentile spread per axis, during strides
    double gyro_range_deg_s[3] = {0, 0, 0};
    double gyro_y_p1 = 0, gyro_y_p99 = 0;    // pitch rate extremes (sign conventions)
};

struct GaitStats {
    double body_weight_n = 0;
    double span_begin_s = 0, span_end_s = 0;  // first toe-off .. last heel strike (locomotion only)
    // Strides run from a heel strike to the next of the same foot (at most 2.5 s, so pauses and turns
    // on the spot are left out); the figures below are taken over the frames inside strides (over the
    // span when there is no stride).
    double cadence_steps_min = 0;     // 120 / median stride time
    double double_support_fraction = 0, flight_fraction = 0;
    double mean_total_force_bw = 0;
    FootGaitStats feet[2];
};

// Stance = total force above 8 % of body weight (hysteresis down to 4 %), at least 0.1 s long.
// Missing samples (NaN) keep the previous state.
GaitStats gait_statistics(const io::MoticonRecording& rec, double body_weight_n);

// Body weight (N): mean total force of both feet over the steadiest 0.8 s with both feet loaded
// (coefficient of variation < 0.1; drop-outs skipped); 0 when the recording has no such stretch.
double quiet_standing_weight(const io::MoticonRecording& rec);

}  // namespace s2m::synth
