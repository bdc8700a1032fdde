#include "step2motion/io/moticon.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/io/sensor_layout.hpp"

namespace s2m::io {

namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kSides[2] = {"left", "right"};

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Channel c (0..24 within a foot) -> column name without side, and the accepted units.
struct ChannelSpec {
    std::string name;                 // "pressure 3"
    std::vector<std::string> units;   // empty = any
};
ChannelSpec channel_spec(int c) {
    static const char* axes = "XYZ";
    if (c < kAccOffset) return {"pressure " + std::to_string(c + 1), {"n/cm²", "n/cm2", "n/cm^2"}};
    if (c < kGyroOffset) return {std::string("acceleration ") + axes[c - kAccOffset], {"g"}};
    if (c < kForceOffset) return {std::string("angular ") + axes[c - kGyroOffset], {"dps", "deg/s", "°/s"}};
    if (c == kForceOffset) return {"total force", {"n"}};
    return {std::string("center of pressure ") + axes[c - kCopOffset], {}};
}
const char* channel_unit_written(int c) {
    if (c < kAccOffset) return "N/cm²";
    if (c < kGyroOffset) return "g";
    if (c < kForceOffset) return "dps";
    if (c == kForceOffset) return "N";
    return "-0.5...+0.5";
}

// Decimal numbers as exports write them ("-0.189453", "12.00"): exact fast path when the digits fit
// a double's integer range (mantissa < 2^53 and one exact division by a power of ten gives the
// correctly rounded value); anything else goes to std::from_chars.
constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
bool parse_number(const char* b, const char* e, double& out) {
    const char* p = b;
    bool neg = false;
    if (p < e && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        ++p;
    }
    const char* digits_start = p;
    std::uint64_t mant = 0;
    int ndigits = 0, frac = 0;
    while (p < e && static_cast<unsigned>(*p - '0') < 10) {
        mant = mant * 10 + static_cast<unsigned>(*p - '0');
        ++ndigits;
        ++p;
    }
    if (p < e && *p == '.') {
        ++p;
        while (p < e && static_cast<unsigned>(*p - '0') < 10) {
            mant = mant * 10 + static_cast<unsigned>(*p - '0');
            ++ndigits;
            ++frac;
            ++p;
        }
    }
    if (p == e && ndigits > 0 && ndigits <= 15) {
        const double v = static_cast<double>(mant) / kPow10[frac];
        out = neg ? -v : v;
        return true;
    }
    // General form (exponents, long mantissas); "nan"/"inf" are not numbers here.
    if (digits_start == e || !(std::isdigit(static_cast<unsigned char>(*digits_start)) || *digits_start == '.'))
        return false;
    double v = 0;
    auto res = std::from_chars(digits_start, e, v);
    if (res.ec != std::errc() || res.ptr != e || !std::isfinite(v)) return false;
    out = neg ? -v : v;
    return true;
}

struct Line {
    std::string_view text;
    long number;
};

// Linear interpolation over NaN runs of one column; ends hold the nearest value; all-NaN -> 0.
void fill_gaps(float* col, long n, long stride) {
    long prev = -1;
    for (long i = 0; i < n; ++i) {
        if (std::isnan(col[i * stride])) continue;
        if (prev < 0) {
            for (long k = 0; k < i; ++k) col[k * stride] = col[i * stride];
        } else if (i - prev > 1) {
            const float a = col[prev * stride], b = col[i * stride];
            for (long k = prev + 1; k < i; ++k)
                col[k * stride] = a + (b - a) * static_cast<float>(k - prev) / static_cast<float>(i - prev);
        }
        prev = i;
    }
    if (prev < 0) {
        for (long k = 0; k < n; ++k) col[k * stride] = 0.f;
    } else {
        for (long k = prev + 1; k < n; ++k) col[k * stride] = col[prev * stride];
    }
}

}  // namespace

double MoticonFoot::missing_fraction() const {
    if (valid.empty()) return 0;
    size_t ok = 0;
    for (unsigned char v : valid) ok += v ? 1 : 0;
    return 1.0 - static_cast<double>(ok) / static_cast<double>(valid.size());
}

const MoticonColumn* MoticonRecording::find_extra(const std::string& name) const {
    const std::string key = lower(name);
    for (const auto& c : extra)
        if (lower(c.name) == key) return &c;
    return nullptr;
}

std::string moticon_channel_name(int channel) {
    return std::string(kSides[channel / kFootChannels]) + " " + channel_spec(channel % kFootChannels).name;
}

MoticonRecording parse_moticon(std::string_view text, const std::string& source) {
    MoticonRecording rec;
    rec.source = source;
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);  // BOM
    if (trim(text).empty() || text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        fail_input(source, 1, "empty file, expected a Moticon text export");

    // Header block: the leading '#' lines. The last one is the column header.
    size_t pos = 0;
    long line_no = 0;
    std::vector<Line> header_lines;
    auto next_line = [&](std::string_view& out) {
        if (pos >= text.size()) return false;
        const char* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
        const size_t end = nl ? static_cast<size_t>(nl - text.data()) : text.size();
        out = text.substr(pos, end - pos);
        if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
        pos = end + 1;
        ++line_no;
        return true;
    };
    std::string_view line;
    size_t data_start = 0;
    long data_line0 = 0;
    while (true) {
        const size_t before = pos;
        const long before_no = line_no;
        if (!next_line(line)) break;
        if (!line.empty() && line[0] == '#') {
            header_lines.push_back({line, line_no});
            continue;
        }
        pos = before;
        line_no = before_no;
        break;
    }
    // A file that ends with the column header and no newline leaves pos one past the end.
    data_start = std::min(pos, text.size());
    data_line0 = line_no;
    if (header_lines.empty())
        fail_input(source, 1, "no header: expected '# ' metadata lines and a '# time<TAB>...' column header");
    const Line& colhdr = header_lines.back();
    std::string_view cols_text = colhdr.text.substr(1);
    while (!cols_text.empty() && cols_text.front() == ' ') cols_text.remove_prefix(1);
    if (lower(cols_text.substr(0, 4)) != "time")
        fail_input(source, colhdr.number, "expected the column header '# time<TAB>left pressure 1[N/cm²]...' as the last '#' line");

    // Metadata.
    bool have_size = false;
    rec.header_style = "current";
    for (size_t i = 0; i + 1 < header_lines.size(); ++i) {
        std::string_view l = header_lines[i].text.substr(1);
        while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
        if (l.rfind("Measurement", 0) == 0 && (l.size() == 11 || l[11] != ':')) {
            rec.header_style = "legacy";
            rec.header["Measurement"] = std::string(trim(l.substr(11)));
            const std::string low = lower(l);
            const size_t k = low.find("insole size");
            if (k != std::string::npos) {
                const char* b = l.data() + k + 11;
                const char* e = l.data() + l.size();
                while (b < e && *b == ' ') ++b;
                int size = 0;
                auto r = std::from_chars(b, e, size);
                if (r.ec != std::errc() || size <= 0 || size > 20)
                    fail_input(source, header_lines[i].number, "'Insole size' must be followed by a size number");
                rec.insole_size = size;
                have_size = true;
            }
            continue;
        }
        const size_t colon = l.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string key(trim(l.substr(0, colon)));
        const std::string value(trim(l.substr(colon + 1)));
        rec.header[key] = value;
        if (key == "Size") {
            int size = 0;
            auto r = std::from_chars(value.data(), value.data() + value.size(), size);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size() || size <= 0 || size > 20)
                fail_input(source, header_lines[i].number, "'Size: " + value + "': expected an insole size number");
            rec.insole_size = size;
            have_size = true;
        }
    }
    if (!have_size)
        fail_input(source, colhdr.number > 1 ? 1 : colhdr.number,
                   "no insole size in the header (expected '# Size: N' or '..., Insole size N, ...')");

    // Columns: found by name; kind < 0: time (-1); 0..49 channel; >= 100: extra index + 100.
    std::vector<int> kind;
    std::array<int, kInsoleChannels> col_of{};
    col_of.fill(-1);
    {
        size_t start = 0;
        int c = 0;
        while (start <= cols_text.size()) {
            size_t tab = cols_text.find('\t', start);
            if (tab == std::string_view::npos) tab = cols_text.size();
            std::string_view field = trim(cols_text.substr(start, tab - start));
            std::string name(field), unit;
            const size_t br = field.find('[');
            if (br != std::string_view::npos) {
                name = std::string(trim(field.substr(0, br)));
                const size_t close = field.find(']', br);
                unit = std::string(field.substr(br + 1, (close == std::string_view::npos ? field.size() : close) - br - 1));
            }
            const std::string lname = lower(name);
            int k = -2;
            static const std::vector<std::string> known = [] {
                std::vector<std::string> v;
                for (int ch = 0; ch < kInsoleChannels; ++ch) v.push_back(lower(moticon_channel_name(ch)));
                return v;
            }();
            if (c == 0) {
                k = -1;
                if (!unit.empty() && lower(unit) != "s")
                    fail_input(source, colhdr.number, "column 'time' has unit '" + unit + "', expected seconds");
            } else {
                for (int ch = 0; ch < kInsoleChannels && k == -2; ++ch)
                    if (lname == known[static_cast<size_t>(ch)]) {
                        const ChannelSpec spec = channel_spec(ch % kFootChannels);
                        if (!spec.units.empty() &&
                            std::find(spec.units.begin(), spec.units.end(), lower(unit)) == spec.units.end())
                            fail_input(source, colhdr.number,
                                       "column '" + name + "' has unit '" + unit + "', expected " +
                                           channel_unit_written(ch % kFootChannels));
                        if (col_of[static_cast<size_t>(ch)] >= 0)
                            fail_input(source, colhdr.number, "column '" + name + "' appears twice");
                        col_of[static_cast<size_t>(ch)] = c;
                        k = ch;
                    }
                if (k == -2) {
                    if (name.empty() && tab == cols_text.size()) break;  // trailing tab
                    k = 100 + static_cast<int>(rec.extra.size());
                    rec.extra.push_back({name, unit, {}, {}});
                }
            }
            kind.push_back(k);
            ++c;
            if (tab == cols_text.size()) break;
            start = tab + 1;
        }
    }
    bool computed_force_cop[2] = {false, false};
    for (int ch = 0; ch < kInsoleChannels; ++ch) {
        if (col_of[static_cast<size_t>(ch)] >= 0) continue;
        const int within = ch % kFootChannels;
        if (within >= kForceOffset) {
            computed_force_cop[ch / kFootChannels] = true;
            continue;
        }
        fail_input(source, colhdr.number, "missing column '" + moticon_channel_name(ch) + "[" +
                                              channel_unit_written(within) + "]'");
    }
    const int ncols = static_cast<int>(kind.size());
    const size_t nextra = rec.extra.size();

    // Data rows into a row-major buffer of the 50 channels.
    const size_t approx_rows = static_cast<size_t>(std::count(text.begin() + static_cast<long>(data_start), text.end(), '\n')) + 1;
    std::vector<float> buf;
    buf.reserve(approx_rows * kInsoleChannels);
    std::vector<double> times;
    times.reserve(approx_rows);
    std::vector<long> row_lines;
    row_lines.reserve(approx_rows);
    std::vector<std::vector<double>> extra_values(nextra);
    std::vector<std::vector<std::string>> extra_text(nextra);
    std::vector<bool> extra_has_text(nextra, false);
    pos = data_start;
    line_no = data_line0;
    while (next_line(line)) {
        if (line.empty() || line.find_first_not_of(" \t") == std::string_view::npos) continue;
        if (line[0] == '#') continue;  // a stray comment line between data rows
        const size_t row = times.size();
        buf.resize(buf.size() + kInsoleChannels, kNaNf);
        float* out = buf.data() + row * kInsoleChannels;
        for (size_t x = 0; x < nextra; ++x) {
            extra_values[x].push_back(kNaN);
            extra_text[x].emplace_back();
        }
        double t = kNaN;
        const char* p = line.data();
        const char* end = p + line.size();
        int c = 0;
        while (true) {
            const char* tab = static_cast<const char*>(std::memchr(p, '\t', static_cast<size_t>(end - p)));
            const char* fe = tab ? tab : end;
            if (c >= ncols) {
                if (fe != p)
                    fail_input(source, line_no, "row has more fields than the header's " + std::to_string(ncols) + " columns");
            } else if (fe != p) {
                const int k = kind[static_cast<size_t>(c)];
                double v;
                const bool ok = parse_number(p, fe, v);
                if (k >= 100) {
                    const size_t x = static_cast<size_t>(k - 100);
                    if (ok) extra_values[x][row] = v;
                    else extra_has_text[x] = true;
                    extra_text[x][row].assign(p, fe);
                } else if (!ok) {
                    const std::string col = k == -1 ? std::string("time") : moticon_channel_name(k);
                    fail_input(source, line_no, "column '" + col + "': expected a number, got '" +
                                                    std::string(p, std::min<size_t>(static_cast<size_t>(fe - p), 40)) + "'");
                } else if (k == -1) {
                    t = v;
                } else {
                    out[k] = static_cast<float>(v);
                }
            }
            ++c;
            if (!tab) break;
            p = tab + 1;
        }
        if (std::isnan(t)) fail_input(source, line_no, "row without a time stamp");
        times.push_back(t);
        row_lines.push_back(line_no);
    }
    if (times.empty()) fail_input(source, colhdr.number + 1, "header only: no data rows after the column header");
    if (times.size() < 2) fail_input(source, row_lines[0], "a single data row: the sample rate cannot be determined");

    // Sample rate from the time stamps.
    std::vector<double> dts;
    for (size_t i = 1; i < times.size() && dts.size() < 4000; ++i) {
        const double dt = times[i] - times[i - 1];
        if (!(dt > 0))
            fail_input(source, row_lines[i], "time " + std::to_string(times[i]) + " does not increase (previous " +
                                                 std::to_string(times[i - 1]) + ")");
        dts.push_back(dt);
    }
    std::nth_element(dts.begin(), dts.begin() + static_cast<long>(dts.size() / 2), dts.end());
    const double measured_hz = 1.0 / dts[dts.size() / 2];
    for (double r : kMoticonRates_hz)
        if (std::abs(measured_hz - r) < 0.03 * r) rec.rate_hz = r;
    if (rec.rate_hz == 0)
        fail_input(source, row_lines[1], "unknown sample rate " + std::to_string(measured_hz) +
                                             " Hz from the time stamps, expected 10, 25, 50 or 100 Hz");

    // Onto the time grid; missing rows become missing samples.
    const double t0 = times[0];
    std::vector<long> idx(times.size());
    for (size_t i = 0; i < times.size(); ++i) {
        const double g = (times[i] - t0) * rec.rate_hz;
        idx[i] = std::lround(g);
        if (std::abs(g - static_cast<double>(idx[i])) > 0.3)
            fail_input(source, row_lines[i], "time " + std::to_string(times[i]) + " is off the " +
                                                 std::to_string(static_cast<int>(rec.rate_hz)) + " Hz grid");
        if (i > 0 && idx[i] <= idx[i - 1])
            fail_input(source, row_lines[i], "time " + std::to_string(times[i]) + " does not increase (previous " +
                                                 std::to_string(times[i - 1]) + ")");
    }
    const long n = idx.back() + 1;
    if (n > static_cast<long>(times.size()) * 4 + 1000)
        fail_input(source, row_lines.back(), "time stamps leave more gaps than data");
    const bool dense = n == static_cast<long>(times.size());
    std::vector<float> grid;
    if (!dense) {
        grid.assign(static_cast<size_t>(n) * kInsoleChannels, kNaNf);
        for (size_t i = 0; i < times.size(); ++i)
            std::copy_n(buf.data() + i * kInsoleChannels, kInsoleChannels, grid.data() + idx[i] * kInsoleChannels);
        buf.swap(grid);
        rec.time_s.resize(static_cast<size_t>(n));
        for (long i = 0; i < n; ++i) rec.time_s[static_cast<size_t>(i)] = t0 + static_cast<double>(i) / rec.rate_hz;
        for (size_t i = 0; i < times.size(); ++i) rec.time_s[static_cast<size_t>(idx[i])] = times[i];
    } else {
        rec.time_s = std::move(times);
    }

    // Extras on the grid.
    for (size_t x = 0; x < nextra; ++x) {
        MoticonColumn& col = rec.extra[x];
        if (dense) {
            col.values = std::move(extra_values[x]);
            if (extra_has_text[x]) col.text = std::move(extra_text[x]);
        } else {
            col.values.assign(static_cast<size_t>(n), kNaN);
            if (extra_has_text[x]) col.text.assign(static_cast<size_t>(n), std::string());
            for (size_t i = 0; i < idx.size(); ++i) {
                col.values[static_cast<size_t>(idx[i])] = extra_values[x][i];
                if (extra_has_text[x]) col.text[static_cast<size_t>(idx[i])] = std::move(extra_text[x][i]);
            }
        }
    }

    // Validity, gap filling, computed force / COP, and the per-foot matrices.
    const SensorLayout* layout = nullptr;
    std::array<double, kLayoutCells> areas{};
    if (computed_force_cop[0] || computed_force_cop[1]) {
        layout = &default_sensor_layout();
        areas = layout->areas_cm2(rec.insole_size);
    }
    for (int foot = 0; foot < 2; ++foot) {
        MoticonFoot& f = rec.feet[foot];
        const int base = foot * kFootChannels;
        const int checked = computed_force_cop[foot] ? kForceOffset : kFootChannels;
        f.valid.assign(static_cast<size_t>(n), 1);
        for (long i = 0; i < n; ++i) {
            const float* r = buf.data() + i * kInsoleChannels + base;
            for (int c = 0; c < checked; ++c)
                if (std::isnan(r[c])) {
                    f.valid[static_cast<size_t>(i)] = 0;
                    break;
                }
        }
        for (int c = 0; c < checked; ++c) fill_gaps(buf.data() + base + c, n, kInsoleChannels);
        if (computed_force_cop[foot]) {
            for (long i = 0; i < n; ++i) {
                float* r = buf.data() + i * kInsoleChannels + base;
                const ForceCop fc = force_and_cop(r, areas, *layout);
                r[kForceOffset] = static_cast<float>(fc.force_n);
                r[kCopOffset] = static_cast<float>(fc.cop_x);
                r[kCopOffset + 1] = static_cast<float>(fc.cop_y);
            }
        }
        f.pressure_n_cm2.resize(n, kPressureCells);
        f.acceleration_g.resize(n, 3);
        f.angular_rate_deg_s.resize(n, 3);
        f.total_force_n.resize(n);
        f.center_of_pressure.resize(n, 2);
        for (long i = 0; i < n; ++i) {
            const float* r = buf.data() + i * kInsoleChannels + base;
            for (int c = 0; c < kPressureCells; ++c) f.pressure_n_cm2(i, c) = r[c];
            for (int a = 0; a < 3; ++a) {
                f.acceleration_g(i, a) = r[kAccOffset + a];
                f.angular_rate_deg_s(i, a) = r[kGyroOffset + a];
            }
            f.total_force_n(i) = r[kForceOffset];
            f.center_of_pressure(i, 0) = r[kCopOffset];
            f.center_of_pressure(i, 1) = r[kCopOffset + 1];
        }
    }
    return rec;
}

MoticonRecording read_moticon(const std::string& path) { return parse_moticon(read_text_file(path), path); }

Eigen::MatrixXf insole_channels(const MoticonRecording& rec) {
    const long n = rec.frames();
    Eigen::MatrixXf m(n, kInsoleChannels);
    for (int foot = 0; foot < 2; ++foot) {
        const MoticonFoot& f = rec.feet[foot];
        const int b = foot * kFootChannels;
        m.middleCols(b, kPressureCells) = f.pressure_n_cm2;
        m.middleCols(b + kAccOffset, 3) = f.acceleration_g;
        m.middleCols(b + kGyroOffset, 3) = f.angular_rate_deg_s;
        m.col(b + kForceOffset) = f.total_force_n;
        m.middleCols(b + kCopOffset, 2) = f.center_of_pressure;
    }
    return m;
}

void set_insole_channels(MoticonRecording& rec, const Eigen::MatrixXf& m) {
    if (m.cols() != kInsoleChannels) fail_input("set_insole_channels: expected 50 columns");
    const long n = m.rows();
    for (int foot = 0; foot < 2; ++foot) {
        MoticonFoot& f = rec.feet[foot];
        const int b = foot * kFootChannels;
        f.pressure_n_cm2 = m.middleCols(b, kPressureCells);
        f.acceleration_g = m.middleCols(b + kAccOffset, 3);
        f.angular_rate_deg_s = m.middleCols(b + kGyroOffset, 3);
        f.total_force_n = m.col(b + kForceOffset);
        f.center_of_pressure = m.middleCols(b + kCopOffset, 2);
        f.valid.assign(static_cast<size_t>(n), 1);
    }
}

namespace {

void append_fixed(std::string& out, double v, int decimals) {
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v, std::chars_format::fixed, decimals);
    out.append(tmp, r.ptr);
}
void append_shortest(std::string& out, float v) {
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    out.append(tmp, r.ptr);
}
void append_shortest(std::string& out, double v) {
    char tmp[64];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    out.append(tmp, r.ptr);
}
int channel_decimals(int within) {
    if (within < kAccOffset || within == kForceOffset) return 2;
    return 6;
}

}  // namespace

std::string format_moticon(const MoticonRecording& rec, const MoticonWriteOptions& options) {
    const long n = rec.frames();
    for (int foot = 0; foot < 2; ++foot) {
        const MoticonFoot& f = rec.feet[foot];
        if (f.pressure_n_cm2.rows() != n || f.pressure_n_cm2.cols() != kPressureCells || f.acceleration_g.rows() != n ||
            f.angular_rate_deg_s.rows() != n || f.total_force_n.size() != n || f.center_of_pressure.rows() != n ||
            (!f.valid.empty() && static_cast<long>(f.valid.size()) != n))
            fail_input(rec.source, 0, "format_moticon: foot matrices do not match the frame count");
    }
    for (const auto& c : rec.extra)
        if (static_cast<long>(c.values.size()) != n || (!c.text.empty() && static_cast<long>(c.text.size()) != n))
            fail_input(rec.source, 0, "format_moticon: extra column '" + c.name + "' does not match the frame count");

    std::string out;
    out.reserve(static_cast<size_t>(n) * 400 + 4096);
    static const char* const order[] = {"Start timestamp", "Start time", "Duration", "Sensor insoles", "Size",
                                        "Recording type", "Name", "Notes", "Tag"};
    auto header_line = [&](const std::string& key, const std::string& value) {
        out += "# " + key + ": " + value + "\n";
    };
    for (const char* key : order) {
        if (std::string(key) == "Size") {
            header_line("Size", std::to_string(rec.insole_size));
            continue;
        }
        auto it = rec.header.find(key);
        if (it != rec.header.end()) header_line(it->first, it->second);
    }
    for (const auto& kv : rec.header)  // (not a structured binding: clang 14 cannot capture one)
        if (std::find_if(std::begin(order), std::end(order), [&](const char* k) { return kv.first == k; }) == std::end(order))
            header_line(kv.first, kv.second);
    out += "# time";
    for (int ch = 0; ch < kInsoleChannels; ++ch)
        out += "\t" + moticon_channel_name(ch) + "[" + channel_unit_written(ch % kFootChannels) + "]";
    for (const auto& c : rec.extra) out += "\t" + c.name + "[" + c.unit + "]";
    out += "\n";

    const Eigen::MatrixXf m = insole_channels(rec);
    const int time_decimals = rec.rate_hz > 100 ? 3 : 2;
    for (long i = 0; i < n; ++i) {
        if (options.exact) append_shortest(out, rec.time_s[static_cast<size_t>(i)]);
        else append_fixed(out, rec.time_s[static_cast<size_t>(i)], time_decimals);
        for (int ch = 0; ch < kInsoleChannels; ++ch) {
            out += '\t';
            const MoticonFoot& f = rec.feet[ch / kFootChannels];
            if (!f.valid.empty() && !f.valid[static_cast<size_t>(i)]) continue;
            const float v = m(i, ch);
            if (std::isnan(v)) continue;
            if (options.exact) append_shortest(out, v);
            else append_fixed(out, static_cast<double>(v), channel_decimals(ch % kFootChannels));
        }
        for (const auto& c : rec.extra) {
            out += '\t';
            if (!c.text.empty() && !c.text[static_cast<size_t>(i)].empty()) {
                out += c.text[static_cast<size_t>(i)];
            } else if (!std::isnan(c.values[static_cast<size_t>(i)])) {
                append_shortest(out, c.values[static_cast<size_t>(i)]);
            }
        }
        out += '\n';
    }
    return out;
}

void write_moticon(const std::string& path, const MoticonRecording& rec, const MoticonWriteOptions& options) {
    write_file_atomic(path, format_moticon(rec, options));
}

}  // namespace s2m::io
