// Moticon OpenGo exports: the four real files, gap filling, header styles, column order, round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/io/moticon.hpp"
#include "step2motion/io/sensor_layout.hpp"
#include "test_support.hpp"

using namespace s2m;

namespace {

struct RealFile {
    const char* name;
    int frames, size;
    int left_empty_rows;  // rows whose left side is empty in the file (counted with awk)
};
// 230927_102114 has 1750 rows but one is missing from the time grid (16.43 -> 16.45 s): 1751 frames.
const RealFile kReal[] = {{"230927_102114.txt", 1751, 7, 64},
                          {"230927_102137.txt", 2275, 7, 75},
                          {"230927_102231.txt", 1007, 7, 68},
                          {"walk_data_with_events_text_export.txt", 499, 3, 0}};

void expect_same(const io::MoticonRecording& a, const io::MoticonRecording& b) {
    ASSERT_EQ(a.frames(), b.frames());
    EXPECT_EQ(a.insole_size, b.insole_size);
    EXPECT_EQ(a.rate_hz, b.rate_hz);
    for (int i = 0; i < a.frames(); ++i) ASSERT_NEAR(a.time_s[i], b.time_s[i], 1e-9) << i;
    for (int f = 0; f < 2; ++f) {
        EXPECT_EQ(a.feet[f].valid, b.feet[f].valid);
        EXPECT_TRUE(a.feet[f].pressure_n_cm2 == b.feet[f].pressure_n_cm2);
        EXPECT_TRUE(a.feet[f].acceleration_g == b.feet[f].acceleration_g);
        EXPECT_TRUE(a.feet[f].angular_rate_deg_s == b.feet[f].angular_rate_deg_s);
        EXPECT_TRUE(a.feet[f].total_force_n == b.feet[f].total_force_n);
        EXPECT_TRUE(a.feet[f].center_of_pressure == b.feet[f].center_of_pressure);
    }
    ASSERT_EQ(a.extra.size(), b.extra.size());
    for (size_t x = 0; x < a.extra.size(); ++x) {
        EXPECT_EQ(a.extra[x].name, b.extra[x].name);
        for (size_t i = 0; i < a.extra[x].values.size(); ++i) {
            const double u = a.extra[x].values[i], v = b.extra[x].values[i];
            ASSERT_TRUE((std::isnan(u) && std::isnan(v)) || u == v) << a.extra[x].name << " row " << i;
        }
        EXPECT_EQ(a.extra[x].text.empty(), b.extra[x].text.empty());
    }
}

// The real exports are bundled in data/moticon (the same files as ../shared/data/moticon).
std::string real_path(const char* name) { return (test::project_data() / "moticon" / name).string(); }

// A small recording with a bit of everything, built in memory.
io::MoticonRecording small_recording(int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-2, 2);
    io::MoticonRecording rec;
    rec.source = "memory";
    rec.insole_size = 5;
    rec.rate_hz = 100;
    rec.header["Start time"] = "01.01.2026 00:00:00.000";
    rec.header["Tag"] = "test";
    Eigen::MatrixXf ch(n, io::kInsoleChannels);
    for (int i = 0; i < n; ++i) {
        rec.time_s.push_back(i * 0.01);
        for (int c = 0; c < io::kInsoleChannels; ++c) ch(i, c) = u(rng);
    }
    io::set_insole_channels(rec, ch);
    return rec;
}

}  // namespace

TEST(Moticon, RealExportsParse) {
    for (const auto& f : kReal) {
        SCOPED_TRACE(f.name);
        const io::MoticonRecording rec = io::read_moticon(real_path(f.name));
        EXPECT_EQ(rec.rate_hz, 100);
        EXPECT_EQ(rec.frames(), f.frames);
        EXPECT_EQ(rec.insole_size, f.size);
        EXPECT_EQ(rec.header_style, "current");
        EXPECT_NEAR(rec.feet[0].missing_fraction(), static_cast<double>(f.left_empty_rows) / f.frames, 1e-12);
        if (f.size == 7) {
            ASSERT_NE(rec.find_extra("right steps"), nullptr) << "step counters kept";
        }
        for (int foot = 0; foot < 2; ++foot) {
            EXPECT_TRUE(rec.feet[foot].pressure_n_cm2.allFinite());
            EXPECT_TRUE(rec.feet[foot].acceleration_g.allFinite());
        }
    }
}

TEST(Moticon, EventColumnsKeptAsText) {
    const io::MoticonRecording rec = io::read_moticon(real_path("walk_data_with_events_text_export.txt"));
    const io::MoticonColumn* label = rec.find_extra("Right Events label");
    ASSERT_NE(label, nullptr);
    ASSERT_EQ(label->text.size(), static_cast<size_t>(rec.frames()));
    int events = 0;
    for (const auto& t : label->text) events += t == "Event";
    EXPECT_GT(events, 2);
    const io::MoticonColumn* cop_velocity = rec.find_extra("right COP velocity");
    ASSERT_NE(cop_velocity, nullptr);
    EXPECT_TRUE(cop_velocity->text.empty());
    EXPECT_NEAR(cop_velocity->values[1], 2.160409, 1e-9);
}

// Total force = sum p_k A_k and COP = area-weighted centroid, with the layout the project carries.
TEST(Moticon, ForceAndCopMatchSensorLayout) {
    const io::SensorLayout& layout = io::default_sensor_layout();
    for (const auto& f : kReal) {
        SCOPED_TRACE(f.name);
        const io::MoticonRecording rec = io::read_moticon(real_path(f.name));
        const auto areas = layout.areas_cm2(rec.insole_size);
        for (int foot = 0; foot < 2; ++foot) {
            const io::MoticonFoot& ft = rec.feet[foot];
            double se_force = 0, se_cop = 0, se_loaded = 0;
            long count = 0, loaded = 0;
            for (int i = 0; i < rec.frames(); ++i) {
                if (!ft.valid[static_cast<size_t>(i)]) continue;
                Eigen::Matrix<float, 1, 16> row = ft.pressure_n_cm2.row(i);
                const io::ForceCop fc = io::force_and_cop(row.data(), areas, layout);
                se_force += std::pow(fc.force_n - ft.total_force_n(i), 2);
                se_cop += std::pow(fc.cop_x - ft.center_of_pressure(i, 0), 2) +
                          std::pow(fc.cop_y - ft.center_of_pressure(i, 1), 2);
                ++count;
                if (ft.total_force_n(i) > io::kCopMinForce_n + 2) {
                    // Loaded rows alone, without the exporter's (0, 0) rule, must match as well.
                    const io::ForceCop raw = io::force_and_cop(row.data(), areas, layout, 0.0);
                    se_loaded += std::pow(raw.cop_x - ft.center_of_pressure(i, 0), 2) +
                                 std::pow(raw.cop_y - ft.center_of_pressure(i, 1), 2);
                    ++loaded;
                }
            }
            ASSERT_GT(count, 100);
            EXPECT_LT(std::sqrt(se_force / count), 1.0) << "foot " << foot;
            EXPECT_LT(std::sqrt(se_cop / (2 * count)), 0.005) << "foot " << foot;
            ASSERT_GT(loaded, 100);
            EXPECT_LT(std::sqrt(se_loaded / (2 * loaded)), 0.005) << "foot " << foot;
        }
    }
}

TEST(Moticon, ProjectCarriesLayout) {
    const io::SensorLayout layout = io::load_sensor_layout((test::project_data() / "moticon" / "sensor-layout.json").string());
    EXPECT_EQ(layout.area_cm2_by_size.count(7), 1u);
    EXPECT_EQ(layout.area_cm2_by_size.count(3), 1u);
    // Unlisted sizes follow the stated growth law from the nearest listed size.
    EXPECT_NEAR(layout.areas_cm2(5)[0], layout.areas_cm2(4)[0] * 1.0932, 1e-9);
    EXPECT_GT(layout.areas_cm2(8)[15], layout.areas_cm2(7)[15]);
}

TEST(Moticon, RealRoundTripIsExact) {
    for (const auto& f : kReal) {
        SCOPED_TRACE(f.name);
        const io::MoticonRecording a = io::read_moticon(real_path(f.name));
        const std::string text = io::format_moticon(a);
        const io::MoticonRecording b = io::parse_moticon(text, "rewritten");
        expect_same(a, b);
        EXPECT_EQ(io::format_moticon(b), text);
    }
}

TEST(Moticon, WriteReadRoundTripFile) {
    const auto dir = test::temp_dir("moticon_roundtrip");
    io::MoticonRecording rec = small_recording(300, 1);
    rec.feet[0].valid[10] = 0;  // written empty, comes back interpolated and flagged
    rec.extra.push_back({"right steps", "", std::vector<double>(300, 0.0), {}});
    rec.extra.back().values[150] = 1;
    const std::string path = (dir / "rec.txt").string();
    io::write_moticon(path, rec, {true});
    const io::MoticonRecording back = io::read_moticon(path);
    EXPECT_EQ(back.feet[0].valid[10], 0);
    EXPECT_NEAR(back.feet[0].missing_fraction(), 1.0 / 300, 1e-12);
    // Exact everywhere except the one sample that was dropped and refilled.
    for (int c = 0; c < 16; ++c) {
        EXPECT_NEAR(back.feet[0].pressure_n_cm2(10, c),
                    0.5f * (rec.feet[0].pressure_n_cm2(9, c) + rec.feet[0].pressure_n_cm2(11, c)), 1e-6);
        rec.feet[0].pressure_n_cm2(10, c) = back.feet[0].pressure_n_cm2(10, c);
    }
    rec.feet[0].acceleration_g.row(10) = back.feet[0].acceleration_g.row(10);
    rec.feet[0].angular_rate_deg_s.row(10) = back.feet[0].angular_rate_deg_s.row(10);
    rec.feet[0].total_force_n(10) = back.feet[0].total_force_n(10);
    rec.feet[0].center_of_pressure.row(10) = back.feet[0].center_of_pressure.row(10);
    expect_same(rec, back);
    EXPECT_EQ(back.header.at("Tag"), "test");
    EXPECT_EQ(back.insole_size, 5);
}

TEST(Moticon, ExporterDecimalsAreStableAfterOneRoundTrip) {
    const io::MoticonRecording rec = small_recording(50, 2);
    const std::string once = io::format_moticon(rec);
    EXPECT_EQ(io::format_moticon(io::parse_moticon(once, "once")), once);
}

TEST(Moticon, ColumnsFoundByNameInAnyOrder) {
    const io::MoticonRecording rec = small_recording(40, 3);
    const std::string text = io::format_moticon(rec, {true});
    // Reverse the column order of every tab-separated line (header included, keeping "# time" first).
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line)) {
        if (line.rfind("# ", 0) == 0 && line.rfind("# time", 0) != 0) {
            out += line + "\n";
            continue;
        }
        const bool header = line.rfind("# time", 0) == 0;
        std::vector<std::string> fields;
        std::stringstream ss(header ? line.substr(2) : line);
        std::string f;
        while (std::getline(ss, f, '\t')) fields.push_back(f);
        std::string row = (header ? "# " : "") + fields[0];
        for (size_t i = fields.size() - 1; i >= 1; --i) row += "\t" + fields[i];
        out += row + "\n";
    }
    expect_same(rec, io::parse_moticon(out, "reversed"));
}

TEST(Moticon, LegacyHeaderAndComputedForce) {
    // UnderPressure's older exporter: one '# Measurement ...' line; here also without force/COP columns,
    // which are then computed from the layout.
    std::string text =
        "# Measurement Wed, 12 Jan 2022 - 10:11:12.123456 (01:02.03), Insole size 6, Left 1, Right 2\n# time";
    for (int ch = 0; ch < io::kInsoleChannels; ++ch) {
        const int w = ch % io::kFootChannels;
        if (w >= io::kForceOffset) continue;
        const char* unit = w < 16 ? "N/cm²" : (w < 19 ? "g" : "dps");
        text += "\t" + io::moticon_channel_name(ch) + "[" + unit + "]";
    }
    text += "\n";
    for (int i = 0; i < 5; ++i) {
        text += std::to_string(i * 0.04);
        for (int ch = 0; ch < 44; ++ch) text += ch % 22 == 0 ? "\t10.0" : "\t0.0";
        text += "\n";
    }
    const io::MoticonRecording rec = io::parse_moticon(text, "legacy.txt");
    EXPECT_EQ(rec.header_style, "legacy");
    EXPECT_EQ(rec.insole_size, 6);
    EXPECT_EQ(rec.rate_hz, 25);
    const auto& layout = io::default_sensor_layout();
    EXPECT_NEAR(rec.feet[1].total_force_n(2), 10.0 * layout.areas_cm2(6)[0], 1e-3);
    EXPECT_NEAR(rec.feet[1].center_of_pressure(2, 0), layout.x_anterior[0], 1e-6);
}

TEST(Moticon, GapsShortRowsAndMissingRows) {
    io::MoticonRecording rec = small_recording(20, 4);
    std::string text = io::format_moticon(rec, {true});
    // Drop row 5 entirely (time jump), cut row 8 after the left foot, empty one field of row 12.
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
    size_t first_data = 0;
    while (lines[first_data][0] == '#') ++first_data;
    auto cut_after_fields = [](const std::string& s, int keep) {
        size_t p = 0;
        for (int k = 0; k < keep; ++k) p = s.find('\t', p) + 1;
        return s.substr(0, p - 1);
    };
    lines[first_data + 8] = cut_after_fields(lines[first_data + 8], 1 + 25);
    {
        std::string& r = lines[first_data + 12];
        size_t p = 0;
        for (int k = 0; k < 3; ++k) p = r.find('\t', p) + 1;  // field 3 = left pressure 3
        r.erase(p, r.find('\t', p) - p);
    }
    lines.erase(lines.begin() + static_cast<long>(first_data + 5));
    std::string edited;
    for (const auto& s : lines) edited += s + "\n";
    const io::MoticonRecording back = io::parse_moticon(edited, "gaps.txt");
    ASSERT_EQ(back.frames(), 20);
    EXPECT_NEAR(back.time_s[5], 0.05, 1e-12);
    EXPECT_EQ(back.feet[0].valid[5], 0);
    EXPECT_EQ(back.feet[1].valid[5], 0);
    EXPECT_EQ(back.feet[0].valid[8], 1);
    EXPECT_EQ(back.feet[1].valid[8], 0);
    EXPECT_EQ(back.feet[0].valid[12], 0);
    EXPECT_NEAR(back.feet[1].acceleration_g(8, 2),
                0.5f * (rec.feet[1].acceleration_g(7, 2) + rec.feet[1].acceleration_g(9, 2)), 1e-6);
    EXPECT_NEAR(back.feet[0].pressure_n_cm2(12, 2),
                0.5f * (rec.feet[0].pressure_n_cm2(11, 2) + rec.feet[0].pressure_n_cm2(13, 2)), 1e-6);
    EXPECT_FLOAT_EQ(back.feet[0].pressure_n_cm2(12, 3), rec.feet[0].pressure_n_cm2(12, 3));
    EXPECT_NEAR(back.feet[0].missing_fraction(), 2.0 / 20, 1e-12);
}

TEST(Moticon, MalformedInputNamesFileAndLine) {
    const io::MoticonRecording rec = small_recording(10, 5);
    const std::string good = io::format_moticon(rec);
    auto expect_error = [](const std::string& text, const std::string& fragment) {
        try {
            io::parse_moticon(text, "bad.txt");
            ADD_FAILURE() << "no error for: " << fragment;
        } catch (const InputError& e) {
            const std::string what = e.what();
            EXPECT_EQ(what.rfind("bad.txt:", 0), 0u) << what;
            EXPECT_NE(what.find(fragment), std::string::npos) << what;
            EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        }
    };
    expect_error("", "empty file");
    expect_error("0.00\t1\t2\n", "no header");
    const size_t data = good.find("\n0.00") + 1;
    expect_error(good.substr(0, data), "header only");
    // Issue 18: the header without its final newline and no samples crashed `s2m info` (a count of
    // newlines began one past the end of the text).
    expect_error(good.substr(0, data - 1), "header only");
    expect_error(good.substr(0, data - 1) + "\r", "header only");
    std::string bad_number = good;
    bad_number.replace(bad_number.find("\t", data), 1, "\tabc");
    expect_error(bad_number, "expected a number");
    std::string no_p3 = good;
    no_p3.replace(no_p3.find("left pressure 3["), 15, "left pressure X");
    expect_error(no_p3, "missing column 'left pressure 3");
    std::string bad_unit = good;
    bad_unit.replace(bad_unit.find("total force[N]"), 14, "total force[kg]");
    expect_error(bad_unit, "unit 'kg'");
    std::string no_size = good;
    no_size.erase(no_size.find("# Size: 5\n"), 10);
    expect_error(no_size, "insole size");
}
