#include "step2motion/io/bvh.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <strings.h>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::io {

const char* channel_name(Channel c) {
    static const char* names[] = {"Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"};
    return names[static_cast<int>(c)];
}

int Bvh::find(std::string_view name) const {
    for (size_t i = 0; i < joints.size(); ++i)
        if (joints[i].name == name) return static_cast<int>(i);
    return -1;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Tokenizer over the hierarchy part; tracks the line for error messages.
class Lexer {
public:
    Lexer(std::string_view text, const std::string& source) : text_(text), source_(source) {}

    std::string_view next() {
        skip_space();
        size_t start = pos_;
        while (pos_ < text_.size() && !is_space(text_[pos_])) ++pos_;
        return text_.substr(start, pos_ - start);
    }
    std::string_view peek() {
        size_t p = pos_;
        long l = line_;
        auto t = next();
        pos_ = p;
        line_ = l;
        return t;
    }
    // The rest of the current line, trimmed (joint names may contain spaces in some exporters).
    std::string_view rest_of_line() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
        size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        size_t end = pos_;
        while (end > start && is_space(text_[end - 1])) --end;
        return text_.substr(start, end - start);
    }
    void expect(std::string_view word, const char* context) {
        auto t = next();
        if (t != word) fail("expected '" + std::string(word) + "' " + context + ", found " + describe(t));
    }
    double number(const char* what) {
        auto t = next();
        double v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v))
            fail(std::string("expected a number for ") + what + ", found " + describe(t));
        return v;
    }
    long integer(const char* what) {
        auto t = next();
        long v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc() || p != t.data() + t.size())
            fail(std::string("expected an integer for ") + what + ", found " + describe(t));
        return v;
    }
    [[noreturn]] void fail(const std::string& what) const { fail_input(source_, line_, what); }
    static std::string describe(std::string_view t) {
        if (t.empty()) return "end of file";
        std::string s(t.substr(0, 40));
        return "'" + s + (t.size() > 40 ? "...'" : "'");
    }
    long line() const { return line_; }
    size_t pos() const { return pos_; }
    void skip_space() {
        while (pos_ < text_.size() && is_space(text_[pos_])) {
            if (text_[pos_] == '\n') ++line_;
            ++pos_;
        }
    }

private:
    std::string_view text_;
    const std::string& source_;
    size_t pos_ = 0;
    long line_ = 1;
};

bool parse_channel(std::string_view t, Channel& c) {
    static const char* names[] = {"Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation"};
    // Case-insensitive: some exporters write XPOSITION.
    for (int i = 0; i < 6; ++i)
        if (t.size() == std::strlen(names[i]) && strncasecmp(t.data(), names[i], t.size()) == 0) {
            c = static_cast<Channel>(i);
            return true;
        }
    return false;
}

void parse_joint(Lexer& lex, Bvh& bvh, int parent, int depth) {
    if (depth > 256) lex.fail("hierarchy nested deeper than 256 joints");
    BvhJoint joint;
    joint.name = std::string(lex.rest_of_line());
    if (joint.name.empty()) lex.fail("expected a joint name");
    if (bvh.find(joint.name) >= 0) lex.fail("duplicate joint name '" + joint.name + "'");
    joint.parent = parent;
    lex.expect("{", ("after joint " + joint.name).c_str());
    lex.expect("OFFSET", ("in joint " + joint.name).c_str());
    for (int a = 0; a < 3; ++a) joint.offset[a] = lex.number("OFFSET");
    int index = static_cast<int>(bvh.joints.size());
    if (lex.peek() == "CHANNELS") {
        lex.next();
        long n = lex.integer("the channel count");
        if (n < 0 || n > 6) lex.fail("expected a channel count of 0 to 6, found " + std::to_string(n));
        for (long i = 0; i < n; ++i) {
            auto t = lex.next();
            Channel c;
            if (!parse_channel(t, c)) {
                if (t == "}" || t == "JOINT" || t == "End" || t == "OFFSET")
                    lex.fail("CHANNELS " + std::to_string(n) + " lists only " + std::to_string(i) + " channels");
                lex.fail("unknown channel " + Lexer::describe(t) +
                         ", expected Xposition, Yposition, Zposition, Xrotation, Yrotation or Zrotation");
            }
            for (Channel prev : joint.channels)
                if (prev == c) lex.fail(std::string("channel ") + channel_name(c) + " listed twice");
            joint.channels.push_back(c);
        }
    } else if (parent < 0) {
        lex.fail("expected CHANNELS on the root joint");
    }
    joint.first_channel = bvh.num_channels;
    bvh.num_channels += static_cast<int>(joint.channels.size());
    bvh.joints.push_back(std::move(joint));
    while (true) {
        auto t = lex.next();
        if (t == "}") return;
        if (t == "JOINT") {
            parse_joint(lex, bvh, index, depth + 1);
        } else if (t == "End") {
            lex.expect("Site", "after End");
            lex.expect("{", "after End Site");
            lex.expect("OFFSET", "in End Site");
            Eigen::Vector3d e;
            for (int a = 0; a < 3; ++a) e[a] = lex.number("End Site OFFSET");
            lex.expect("}", "closing End Site");
            if (bvh.joints[index].end_site) lex.fail("second End Site in joint " + bvh.joints[index].name);
            bvh.joints[index].end_site = e;
        } else if (t.empty()) {
            lex.fail("unexpected end of file inside joint " + bvh.joints[index].name + " (unbalanced braces?)");
        } else {
            lex.fail("expected JOINT, End Site or '}' in joint " + bvh.joints[index].name + ", found " +
                     Lexer::describe(t));
        }
    }
}

}  // namespace

Bvh parse_bvh(std::string_view text, const std::string& source) {
    if (text.empty()) fail_input(source, 0, "empty file, expected a BVH file starting with HIERARCHY");
    if (std::memchr(text.data(), '\0', std::min<size_t>(text.size(), 4096)) != nullptr)
        fail_input(source, 1, "binary data, expected a BVH text file starting with HIERARCHY");
    if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF) text.remove_prefix(3);  // UTF-8 BOM

    Bvh bvh;
    Lexer lex(text, source);
    lex.expect("HIERARCHY", "at the start of a BVH file");
    lex.expect("ROOT", "after HIERARCHY");
    parse_joint(lex, bvh, -1, 0);
    auto t = lex.next();
    if (t == "ROOT") lex.fail("a second ROOT: only one hierarchy per file is supported");
    if (t == "}") lex.fail("unbalanced braces: '}' after the root joint closed");
    if (t != "MOTION") lex.fail("expected MOTION after the hierarchy, found " + Lexer::describe(t));
    lex.expect("Frames:", "after MOTION");
    long frames = lex.integer("Frames:");
    const long frames_line = lex.line();
    if (frames < 0) lex.fail("expected a non-negative frame count, found " + std::to_string(frames));
    lex.expect("Frame", "after the frame count");
    lex.expect("Time:", "after Frame");
    double ft = lex.number("Frame Time:");
    if (!(ft > 0)) lex.fail("expected a positive Frame Time, found " + std::to_string(ft));
    bvh.frame_time_s = ft;

    // Frame rows: one line each; the fast path of the reader.
    const int nc = bvh.num_channels;
    size_t pos = lex.pos();
    long line = lex.line();
    if (frames > std::numeric_limits<int>::max())
        fail_input(source, frames_line, "Frames: " + std::to_string(frames) + " is more frames than a BVH file can hold");
    // The count is not trusted for the allocation: a row of nc values takes at least 2 * nc bytes
    // ("0 0 ... 0\n"), so memory is reserved for no more rows than the rest of the file can hold, and a
    // short file ends in "expected N frames, found M" below.
    const size_t rest = text.size() - pos;
    const long most = nc > 0 ? static_cast<long>((rest + 1) / (2 * static_cast<size_t>(nc))) : 0;
    bvh.num_frames = static_cast<int>(frames);
    bvh.values.reserve(static_cast<size_t>(std::min(frames, most)) * static_cast<size_t>(nc));
    // Move to the end of the "Frame Time" line.
    while (pos < text.size() && text[pos] != '\n') {
        if (!is_space(text[pos])) fail_input(source, line, "unexpected text after Frame Time");
        ++pos;
    }
    const char* p = text.data() + pos;
    const char* end = text.data() + text.size();
    for (long f = 0; f < frames; ++f) {
        // Next non-empty line.
        while (p < end && is_space(*p)) {
            if (*p == '\n') ++line;
            ++p;
        }
        if (p >= end)
            fail_input(source, line, "expected " + std::to_string(frames) + " frames (Frames:), found " +
                                         std::to_string(f));
        for (int c = 0; c < nc; ++c) {
            while (p < end && (*p == ' ' || *p == '\t')) ++p;
            if (p >= end || *p == '\n' || *p == '\r')
                fail_input(source, line, "frame " + std::to_string(f) + " has " + std::to_string(c) +
                                             " values, expected " + std::to_string(nc));
            const char* q = p;
            if (*q == '+') ++q;  // from_chars rejects a leading '+'
            double v;
            auto [ptr, ec] = std::from_chars(q, end, v);
            bool bad = ec != std::errc() || (ptr < end && !is_space(*ptr)) || !std::isfinite(v);
            if (bad) {
                const char* e = p;
                while (e < end && !is_space(*e)) ++e;
                fail_input(source, line, "expected a number in frame " + std::to_string(f) + ", value " +
                                             std::to_string(c + 1) + ", found " +
                                             Lexer::describe(std::string_view(p, static_cast<size_t>(e - p))));
            }
            bvh.values.push_back(v);
            p = ptr;
        }
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
        if (p < end && *p != '\n')
            fail_input(source, line, "frame " + std::to_string(f) + " has more than the expected " +
                                         std::to_string(nc) + " values");
    }
    while (p < end && is_space(*p)) {
        if (*p == '\n') ++line;
        ++p;
    }
    if (p < end)
        fail_input(source, line, "more frame data than the " + std::to_string(frames) + " frames declared in Frames:");
    return bvh;
}

Bvh read_bvh(const std::string& path) { return parse_bvh(read_text_file(path), path); }

Bvh with_zero_root_offset(const Bvh& in) {
    if (in.joints.empty() || in.joints[0].offset.isZero(0)) return in;
    const BvhJoint& root = in.joints[0];
    std::vector<Channel> added;
    for (int a = 0; a < 3; ++a) {
        bool has = false;
        for (Channel c : root.channels) has |= is_position(c) && channel_axis(c) == a;
        if (!has) added.push_back(static_cast<Channel>(a));
    }
    Bvh out = in;
    const int extra = static_cast<int>(added.size());
    BvhJoint& r = out.joints[0];
    r.channels.insert(r.channels.begin(), added.begin(), added.end());
    for (size_t j = 1; j < out.joints.size(); ++j) out.joints[j].first_channel += extra;
    out.num_channels = in.num_channels + extra;
    out.values.assign(static_cast<size_t>(out.num_frames) * out.num_channels, 0.0);
    // Existing root position channels are absolute (as Blender and most tools read them) and stay
    // as they are; an axis without a channel gets one holding the offset.
    for (int f = 0; f < in.num_frames; ++f) {
        for (int c = 0; c < in.num_channels; ++c) out.value(f, c + extra) = in.value(f, c);
        for (int k = 0; k < extra; ++k) out.value(f, k) = root.offset[channel_axis(added[static_cast<size_t>(k)])];
    }
    r.offset.setZero();
    return out;
}

namespace {

void append_number(std::string& s, double v, int decimals) {
    char buf[64];
    if (v == 0) v = 0;  // no "-0"
    std::to_chars_result r = decimals < 0 ? std::to_chars(buf, buf + sizeof buf, v)
                                          : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    std::string_view sv(buf, static_cast<size_t>(r.ptr - buf));
    if (decimals >= 0 && sv.size() > 1 && sv[0] == '-') {
        // "-0.000000" after rounding: write it without the sign.
        bool all_zero = true;
        for (char c : sv.substr(1)) all_zero &= (c == '0' || c == '.');
        if (all_zero) sv.remove_prefix(1);
    }
    s.append(sv);
}

void write_joint(std::string& s, const Bvh& bvh, int j, int depth, const std::vector<std::vector<int>>& kids,
                 int decimals) {
    const BvhJoint& joint = bvh.joints[j];
    std::string indent(static_cast<size_t>(depth), '\t');
    s += indent + (joint.parent < 0 ? "ROOT " : "JOINT ") + joint.name + "\n" + indent + "{\n";
    s += indent + "\tOFFSET ";
    for (int a = 0; a < 3; ++a) {
        append_number(s, joint.offset[a], decimals);
        s += a < 2 ? " " : "\n";
    }
    if (!joint.channels.empty() || joint.parent < 0) {
        s += indent + "\tCHANNELS " + std::to_string(joint.channels.size());
        for (Channel c : joint.channels) s += std::string(" ") + channel_name(c);
        s += "\n";
    }
    for (int k : kids[j]) write_joint(s, bvh, k, depth + 1, kids, decimals);
    if (joint.end_site) {
        s += indent + "\tEnd Site\n" + indent + "\t{\n" + indent + "\t\tOFFSET ";
        for (int a = 0; a < 3; ++a) {
            append_number(s, (*joint.end_site)[a], decimals);
            s += a < 2 ? " " : "\n";
        }
        s += indent + "\t}\n";
    }
    s += indent + "}\n";
}

}  // namespace

std::string format_bvh(const Bvh& input, const BvhWriteOptions& options) {
    if (input.joints.empty()) fail_input("cannot write a BVH without joints");
    const Bvh& bvh = input.joints[0].offset.isZero(0) ? input : with_zero_root_offset(input);
    std::vector<std::vector<int>> kids(bvh.joints.size());
    for (size_t j = 1; j < bvh.joints.size(); ++j) kids[static_cast<size_t>(bvh.joints[j].parent)].push_back(static_cast<int>(j));
    std::string s;
    s.reserve(1024 + bvh.values.size() * 12);
    s += "HIERARCHY\n";
    write_joint(s, bvh, 0, 0, kids, options.decimals);
    s += "MOTION\nFrames: " + std::to_string(bvh.num_frames) + "\nFrame Time: ";
    append_number(s, bvh.frame_time_s, -1);
    s += "\n";
    for (int f = 0; f < bvh.num_frames; ++f) {
        for (int c = 0; c < bvh.num_channels; ++c) {
            if (c) s += ' ';
            append_number(s, bvh.value(f, c), options.decimals);
        }
        s += '\n';
    }
    return s;
}

void write_bvh(const std::string& path, const Bvh& bvh, const BvhWriteOptions& options) {
    write_file_atomic(path, format_bvh(bvh, options));
}

}  // namespace s2m::io
