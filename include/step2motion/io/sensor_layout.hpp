#pragma once
// Positions and effective areas of the 16 pressure cells of a Moticon OpenGo insole
// (data/moticon/sensor-layout.json), and the force / centre of pressure they imply.
#include <array>
#include <map>
#include <string>

namespace s2m::io {

constexpr int kLayoutCells = 16;

struct SensorLayout {
    std::string source;
    // Moticon's normalised insole frame, the same for both feet: x + towards the toes,
    // y + towards the medial side; about -0.5..0.5.
    std::array<double, kLayoutCells> x_anterior{}, y_medial{};
    std::map<int, std::array<double, kLayoutCells>> area_cm2_by_size;  // sizes listed in the file

    // Areas for an insole size: the file's figures where listed, otherwise scaled from the nearest
    // listed size with the growth factor the file states (1.0932 per size step).
    std::array<double, kLayoutCells> areas_cm2(int insole_size) const;
};

SensorLayout parse_sensor_layout(const std::string& json_text, const std::string& source);
SensorLayout load_sensor_layout(const std::string& path);
// The project's copy: $S2M_DATA_DIR/moticon/sensor-layout.json, else <source tree>/data/moticon/.
const SensorLayout& default_sensor_layout();
std::string default_sensor_layout_path();

// Total force [N] = sum p_k A_k; centre of pressure = area-weighted pressure centroid. The exporter
// writes COP (0, 0) whenever the total force is at or below about 50 N (true of every row of the four
// real files: COP = 0 up to 50.0 N, non-zero from 50.0 N), so that is the default here too.
constexpr double kCopMinForce_n = 50.0;
struct ForceCop {
    double force_n = 0, cop_x = 0, cop_y = 0;
};
ForceCop force_and_cop(const float* pressure_n_cm2, const std::array<double, kLayoutCells>& areas_cm2,
                       const SensorLayout& layout, double cop_min_force_n = kCopMinForce_n);

}  // namespace s2m::io
