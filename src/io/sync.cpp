#include "step2motion/io/sync.hpp"

#include <charconv>
#include <vector>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::io {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '"'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) s.remove_suffix(1);
    return s;
}

bool parse_index(std::string_view s, long& out) {
    s = trim(s);
    if (s.empty()) return false;
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
    // "120.0" is accepted when it is integral.
    double d = 0;
    auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
    // Range first: converting a double outside long's range is undefined behaviour.
    if (rd.ec != std::errc() || rd.ptr != s.data() + s.size() || !(d >= -9.0e18 && d <= 9.0e18) ||
        d != static_cast<double>(static_cast<long>(d)))
        return false;
    out = static_cast<long>(d);
    return true;
}

}  // namespace

SyncInfo parse_sync_csv(std::string_view text, const std::string& source) {
    SyncInfo sync;
    sync.source = source;
    bool seen[3] = {false, false, false};
    long line_no = 0;
    size_t pos = 0;
    bool any = false;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        const std::string_view line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        const bool first = !any;
        any = true;
        std::vector<std::string_view> f;
        size_t s = 0;
        while (true) {
            const size_t c = line.find(',', s);
            f.push_back(trim(line.substr(s, c == std::string_view::npos ? std::string_view::npos : c - s)));
            if (c == std::string_view::npos) break;
            s = c + 1;
        }
        long a = 0, b = 0;
        const bool numeric = f.size() >= 3 && parse_index(f[1], a) && parse_index(f[2], b);
        if (!numeric) {
            if (first && f.size() >= 3 && !parse_index(f[1], a)) continue;  // the header line
            fail_input(source, line_no, "expected 'name,start,end' with integer frame indices, got '" +
                                            std::string(line.substr(0, 60)) + "'");
        }
        int which = -1;
        if (f[0] == "left_insole") which = 0;
        else if (f[0] == "right_insole") which = 1;
        else if (f[0] == "mocap") which = 2;
        else
            fail_input(source, line_no, "unknown stream '" + std::string(f[0]) +
                                            "', expected left_insole, right_insole or mocap");
        if (seen[which]) fail_input(source, line_no, "stream '" + std::string(f[0]) + "' listed twice");
        if (a < 0 || b <= a)
            fail_input(source, line_no, "span [" + std::to_string(a) + ", " + std::to_string(b) +
                                            ") is empty or negative, expected 0 <= start < end");
        seen[which] = true;
        SyncSpan& span = which == 0 ? sync.left_insole : which == 1 ? sync.right_insole : sync.mocap;
        span = {a, b, line_no};
    }
    if (!any) fail_input(source, 1, "empty file, expected a sync CSV (name,start,end rows)");
    const char* names[3] = {"left_insole", "right_insole", "mocap"};
    for (int k = 0; k < 3; ++k)
        if (!seen[k]) fail_input(source, line_no, std::string("no row for '") + names[k] + "'");
    return sync;
}

SyncInfo read_sync_csv(const std::string& path) { return parse_sync_csv(read_text_file(path), path); }

std::string format_sync_csv(const SyncInfo& s) {
    auto row = [](const char* name, const SyncSpan& sp) {
        return std::string(name) + "," + std::to_string(sp.start) + "," + std::to_string(sp.end) + "\n";
    };
    return "name,start,end\n" + row("left_insole", s.left_insole) + row("right_insole", s.right_insole) +
           row("mocap", s.mocap);
}

void check_span_within(const SyncInfo& sync, const SyncSpan& span, const char* stream_name, long stream_frames,
                       const std::string& stream_file) {
    if (span.end > stream_frames)
        fail_input(sync.source, span.line, std::string(stream_name) + " span [" + std::to_string(span.start) + ", " +
                                               std::to_string(span.end) + ") goes beyond the " +
                                               std::to_string(stream_frames) + " frames of " + stream_file);
}

}  // namespace s2m::io
