#pragma once
// Moticon OpenGo text exports (reference/formats.md): reading with gap filling and validity masks,
// and writing in the current exporter's format (used by the synthesiser).
#include <Eigen/Core>

#include <map>
#include <string>
#include <vector>

#include "step2motion/io/channels.hpp"

namespace s2m::io {

// Sample rates the OpenGo app records at.
constexpr double kMoticonRates_hz[] = {10, 25, 50, 100};

struct MoticonFoot {
    // N frames each. Missing samples are filled by linear interpolation; `valid` marks real ones.
    Eigen::MatrixXf pressure_n_cm2;       // N x 16
    Eigen::MatrixXf acceleration_g;       // N x 3, insole frame
    Eigen::MatrixXf angular_rate_deg_s;   // N x 3, insole frame
    Eigen::VectorXf total_force_n;        // N
    Eigen::MatrixXf center_of_pressure;   // N x 2, normalised (x anterior, y medial)
    std::vector<unsigned char> valid;     // N, 1 = every channel of this foot present in the row
    double missing_fraction() const;
};

struct MoticonColumn {
    std::string name, unit;               // "right steps", ""
    std::vector<double> values;           // NaN where empty
    std::vector<std::string> text;        // raw text, for label columns (empty when all numeric)
};

struct MoticonRecording {
    std::string source;
    std::string header_style;             // "current" or "legacy"
    std::map<std::string, std::string> header;  // "Start time", "Size", "Tag", ...
    int insole_size = 0;
    double rate_hz = 0;
    std::vector<double> time_s;           // N
    MoticonFoot feet[2];                  // 0 = left, 1 = right
    std::vector<MoticonColumn> extra;     // columns the toolkit does not interpret, in file order
    int frames() const { return static_cast<int>(time_s.size()); }
    const MoticonColumn* find_extra(const std::string& name) const;
};

// Throws InputError "<source>:<line>: <what was expected>" on malformed input. Columns are found by
// name; a missing total-force / centre-of-pressure column is computed from the sensor layout.
// Rows missing from the time grid (time jumps) are inserted as missing samples.
MoticonRecording parse_moticon(std::string_view text, const std::string& source);
MoticonRecording read_moticon(const std::string& path);

struct MoticonWriteOptions {
    // false: the exporter's fixed decimals (pressure/force 2, IMU/COP 6), as real files look;
    // true: shortest text that reads back to the identical float (lossless for any values).
    bool exact = false;
};
// Current exporter's format; NaN values in pressure/IMU/force/COP and samples whose `valid` flag
// is 0 are written as empty fields, so write -> read reproduces values and masks.
std::string format_moticon(const MoticonRecording& rec, const MoticonWriteOptions& options = {});
void write_moticon(const std::string& path, const MoticonRecording& rec, const MoticonWriteOptions& options = {});

// N x 50 matrix of the insole channels in the reference's order (left 25, right 25).
Eigen::MatrixXf insole_channels(const MoticonRecording& rec);
// The inverse: fills both feet from an N x 50 matrix (all samples valid).
void set_insole_channels(MoticonRecording& rec, const Eigen::MatrixXf& channels);
// Column name of a channel in the export, e.g. "left pressure 3" (unit not included).
std::string moticon_channel_name(int channel);

}  // namespace s2m::io
