#include "step2motion/io/sensor_layout.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::io {

namespace {
constexpr double kAreaGrowthPerSize = 1.0932;  // stated in the layout file's conventions
}

std::array<double, kLayoutCells> SensorLayout::areas_cm2(int insole_size) const {
    if (area_cm2_by_size.empty()) fail_input(source, 0, "no sensor areas");
    auto it = area_cm2_by_size.find(insole_size);
    if (it != area_cm2_by_size.end()) return it->second;
    auto nearest = area_cm2_by_size.begin();
    for (auto jt = area_cm2_by_size.begin(); jt != area_cm2_by_size.end(); ++jt)
        if (std::abs(jt->first - insole_size) < std::abs(nearest->first - insole_size)) nearest = jt;
    const double factor = std::pow(kAreaGrowthPerSize, insole_size - nearest->first);
    std::array<double, kLayoutCells> a = nearest->second;
    for (double& v : a) v *= factor;
    return a;
}

SensorLayout parse_sensor_layout(const std::string& json_text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        fail_input(source, 0, std::string("invalid JSON: ") + e.what());
    }
    SensorLayout layout;
    layout.source = source;
    if (!j.contains("sensors") || !j["sensors"].is_array() || j["sensors"].size() != kLayoutCells)
        fail_input(source, 0, "expected \"sensors\": an array of 16 entries");
    std::array<bool, kLayoutCells> seen{};
    try {
        for (const auto& s : j["sensors"]) {
            const int k = s.at("sensor").get<int>();
            if (k < 1 || k > kLayoutCells || seen[k - 1]) fail_input(source, 0, "sensor numbers must be 1..16, once each");
            seen[k - 1] = true;
            layout.x_anterior[k - 1] = s.at("x_anterior").get<double>();
            layout.y_medial[k - 1] = s.at("y_medial").get<double>();
            for (const auto& [key, value] : s.at("area_cm2").items()) {
                if (key.rfind("size", 0) != 0) fail_input(source, 0, "area key '" + key + "': expected size<N>");
                const int size = std::stoi(key.substr(4));
                layout.area_cm2_by_size[size][k - 1] = value.get<double>();
            }
        }
    } catch (const nlohmann::json::exception& e) {
        fail_input(source, 0, std::string("sensor entry: ") + e.what());
    }
    for (const auto& [size, areas] : layout.area_cm2_by_size)
        for (double a : areas)
            if (!(a > 0)) fail_input(source, 0, "size " + std::to_string(size) + ": every sensor needs a positive area");
    return layout;
}

SensorLayout load_sensor_layout(const std::string& path) { return parse_sensor_layout(read_text_file(path), path); }

std::string default_sensor_layout_path() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("S2M_DATA_DIR"); env && *env) {
        const fs::path p = fs::path(env) / "moticon" / "sensor-layout.json";
        if (fs::exists(p)) return p.string();
    }
    return (fs::path(S2M_SOURCE_DIR) / "data" / "moticon" / "sensor-layout.json").string();
}

const SensorLayout& default_sensor_layout() {
    static std::once_flag once;
    static SensorLayout layout;
    std::call_once(once, [] { layout = load_sensor_layout(default_sensor_layout_path()); });
    return layout;
}

ForceCop force_and_cop(const float* p, const std::array<double, kLayoutCells>& areas, const SensorLayout& layout,
                       double cop_min_force_n) {
    ForceCop r;
    double sx = 0, sy = 0;
    for (int k = 0; k < kLayoutCells; ++k) {
        const double f = static_cast<double>(p[k]) * areas[static_cast<size_t>(k)];
        r.force_n += f;
        sx += f * layout.x_anterior[static_cast<size_t>(k)];
        sy += f * layout.y_medial[static_cast<size_t>(k)];
    }
    if (r.force_n > std::max(cop_min_force_n, 1e-9)) {
        r.cop_x = sx / r.force_n;
        r.cop_y = sy / r.force_n;
    }
    return r;
}

}  // namespace s2m::io
