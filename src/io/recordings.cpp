#include "step2motion/io/recordings.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"

namespace s2m::io {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
    const char* ws = " \t\r\"";
    const size_t a = s.find_first_not_of(ws);
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    size_t s = 0;
    while (true) {
        const size_t c = line.find(sep, s);
        out.push_back(trim(line.substr(s, c == std::string::npos ? std::string::npos : c - s)));
        if (c == std::string::npos) break;
        s = c + 1;
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

double number_field(const std::string& v, const std::string& file, long line, const std::string& column) {
    double d = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), d);
    if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size())
        fail_input(file, line, "column '" + column + "': expected a number, got '" + v + "'");
    return d;
}

// "walking_2" -> "walking"; "Jump-03" -> "Jump".
std::string activity_from_sequence(const std::string& seq) {
    std::string a = seq;
    while (!a.empty() && (std::isdigit(static_cast<unsigned char>(a.back())) || a.back() == '_' || a.back() == '-' ||
                          a.back() == ' '))
        a.pop_back();
    return a.empty() ? seq : a;
}

// Byte offsets of the top-level entries of the JSON array at `start` (strings skipped).
std::vector<size_t> array_entry_offsets(const std::string& text, size_t start) {
    std::vector<size_t> out;
    int depth = 0;
    bool in_string = false, expect_entry = false;
    for (size_t i = start; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (expect_entry && !std::isspace(static_cast<unsigned char>(c))) {
            if (c != ']') out.push_back(i);
            expect_entry = false;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            ++depth;
            if (depth == 1 && c == '[') expect_entry = true;
        } else if (c == ']' || c == '}') {
            if (--depth == 0) break;
        } else if (c == ',' && depth == 1) {
            expect_entry = true;
        }
    }
    return out;
}

long line_of(const std::string& text, size_t offset) {
    return 1 + static_cast<long>(std::count(text.begin(), text.begin() + static_cast<long>(std::min(offset, text.size())), '\n'));
}

}  // namespace

std::map<std::string, Subject> read_subjects_csv(const std::string& path) {
    const std::string text = read_text_file(path);
    std::map<std::string, Subject> out;
    std::vector<std::string> header;
    int c_id = -1, c_gender = -1, c_age = -1, c_height = -1, c_weight = -1, c_size = -1;
    long line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        const std::string line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        const auto f = split(line, ',');
        if (header.empty()) {
            header = f;
            for (size_t i = 0; i < f.size(); ++i) {
                const std::string h = lower(f[i]);
                const int k = static_cast<int>(i);
                if (h == "id") c_id = k;
                else if (h == "gender") c_gender = k;
                else if (h == "age") c_age = k;
                else if (h == "height") c_height = k;
                else if (h == "weight") c_weight = k;
                else if (h == "insoles size" || h == "insole size") c_size = k;
            }
            if (c_id < 0 || c_weight < 0 || c_size < 0)
                fail_input(path, line_no, "expected a header with Id, Weight and Insoles Size columns");
            continue;
        }
        if (f.size() != header.size())
            fail_input(path, line_no, "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(f.size()));
        Subject s;
        s.id = f[static_cast<size_t>(c_id)];
        if (c_gender >= 0) s.gender = f[static_cast<size_t>(c_gender)];
        // Age and Height may be empty (unknown, e.g. synthetic subjects from `s2m synth`).
        if (c_age >= 0 && !f[static_cast<size_t>(c_age)].empty())
            s.age_y = number_field(f[static_cast<size_t>(c_age)], path, line_no, "Age");
        if (c_height >= 0 && !f[static_cast<size_t>(c_height)].empty())
            s.height_cm = number_field(f[static_cast<size_t>(c_height)], path, line_no, "Height");
        s.weight_kg = number_field(f[static_cast<size_t>(c_weight)], path, line_no, "Weight");
        const double size = number_field(f[static_cast<size_t>(c_size)], path, line_no, "Insoles Size");
        s.insole_size = static_cast<int>(size);
        if (s.insole_size != size || s.insole_size <= 0)
            fail_input(path, line_no, "column 'Insoles Size': expected a positive whole size");
        if (!(s.weight_kg > 0)) fail_input(path, line_no, "column 'Weight': expected a positive weight in kg");
        out[s.id] = s;
    }
    if (header.empty()) fail_input(path, 1, "empty file, expected subjects.csv with a header line");
    return out;
}

std::vector<RecordingSource> scan_underpressure(const std::string& dir) {
    const fs::path root(dir);
    if (!fs::is_directory(root)) fail_input(dir, 0, "not a folder");
    std::map<std::string, Subject> subjects;
    if (fs::exists(root / "subjects.csv")) subjects = read_subjects_csv((root / "subjects.csv").string());
    std::vector<fs::path> subject_dirs;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && fs::exists(e.path() / "moticon.txt")) subject_dirs.push_back(e.path());
    std::sort(subject_dirs.begin(), subject_dirs.end());
    if (subject_dirs.empty())
        fail_input(dir, 0, "no recordings: expected S<k>/moticon.txt/<seq>.txt folders or a .json manifest");
    std::vector<RecordingSource> out;
    for (const fs::path& sdir : subject_dirs) {
        const std::string subject = sdir.filename().string();
        // Mocap files anywhere under the subject folder, by sequence name.
        std::map<std::string, fs::path> mocap;
        for (const auto& e : fs::recursive_directory_iterator(sdir)) {
            if (!e.is_regular_file()) continue;
            std::string ext = lower(e.path().extension().string());
            if (ext != ".mvnx" && ext != ".bvh") continue;
            const std::string seq = e.path().stem().string();
            auto it = mocap.find(seq);
            // Prefer BVH over MVNX when both exist (faster to read; same motion).
            if (it == mocap.end() || ext == ".bvh") mocap[seq] = e.path();
        }
        std::vector<fs::path> insoles;
        for (const auto& e : fs::directory_iterator(sdir / "moticon.txt"))
            if (e.is_regular_file() && lower(e.path().extension().string()) == ".txt") insoles.push_back(e.path());
        std::sort(insoles.begin(), insoles.end());
        for (const fs::path& ins : insoles) {
            RecordingSource r;
            const std::string seq = ins.stem().string();
            r.name = subject + "/" + seq;
            r.insoles = ins.string();
            const fs::path sync = sdir / "sync.csv" / (seq + ".csv");
            if (!fs::exists(sync))
                fail_input(ins.string(), 0, "missing partner file " + sync.string() + " (the sync CSV of this sequence)");
            r.sync = sync.string();
            auto m = mocap.find(seq);
            if (m == mocap.end())
                fail_input(ins.string(), 0, "missing partner file: no mocap " + seq + ".mvnx or " + seq + ".bvh under " +
                                                sdir.string());
            r.mocap = m->second.string();
            r.subject = subject;
            r.activity = activity_from_sequence(seq);
            auto s = subjects.find(subject);
            if (s != subjects.end()) {
                r.weight_kg = s->second.weight_kg;
                r.insole_size = s->second.insole_size;
            }
            r.listed_in = dir;
            out.push_back(r);
        }
    }
    return out;
}

std::vector<RecordingSource> read_manifest(const std::string& path) {
    const std::string text = read_text_file(path);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        std::string what = e.what();
        const size_t colon = what.find("]: ");  // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 3, column 5: "
        fail_input(path, line_of(text, e.byte > 0 ? e.byte - 1 : 0),
                   "invalid JSON" + (colon != std::string::npos ? ": " + what.substr(colon + 3) : ""));
    } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond double's range
        fail_input(path, 0, std::string("invalid JSON: ") + e.what());
    }
    size_t array_start = text.find('[');
    if (j.is_object() && j.contains("recordings")) {
        const size_t key = text.find("\"recordings\"");
        array_start = text.find('[', key);
        j = j["recordings"];
    }
    if (!j.is_array() || j.empty())
        fail_input(path, 1, "expected a non-empty list of recordings [{\"insoles\": ..., \"mocap\": ...}, ...]");
    const std::vector<size_t> offsets = array_entry_offsets(text, array_start);
    const fs::path base = fs::path(path).parent_path();
    auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() ? p : (base / p).string(); };
    std::vector<RecordingSource> out;
    for (size_t i = 0; i < j.size(); ++i) {
        const long line = i < offsets.size() ? line_of(text, offsets[i]) : 1;
        const auto& e = j[i];
        if (!e.is_object()) fail_input(path, line, "recording " + std::to_string(i + 1) + ": expected an object");
        RecordingSource r;
        r.listed_in = path;
        r.line = line;
        auto str = [&](const char* key, bool required) {
            if (!e.contains(key)) {
                if (required) fail_input(path, line, std::string("recording ") + std::to_string(i + 1) + ": missing \"" + key + "\"");
                return std::string();
            }
            if (!e[key].is_string())
                fail_input(path, line, std::string("recording ") + std::to_string(i + 1) + ": \"" + key + "\" must be a string");
            return e[key].get<std::string>();
        };
        for (const auto& item : e.items()) {
            static const char* known[] = {"insoles", "sync", "mocap", "map", "subject", "weight_kg", "insole_size",
                                          "activity", "name"};
            const std::string key = item.key();  // not a structured binding: C++17 lambdas cannot capture those
            if (std::find_if(std::begin(known), std::end(known), [&](const char* k) { return key == k; }) == std::end(known))
                fail_input(path, line, "recording " + std::to_string(i + 1) + ": unknown key \"" + key + "\"");
        }
        r.insoles = resolve(str("insoles", true));
        r.mocap = resolve(str("mocap", true));
        const std::string sync = str("sync", false);
        if (!sync.empty()) r.sync = resolve(sync);
        const std::string map = str("map", false);
        if (!map.empty()) {
            const bool is_file = map.size() > 5 && map.substr(map.size() - 5) == ".json";
            r.map = is_file ? resolve(map) : map;
        }
        r.subject = str("subject", true);
        r.activity = str("activity", false);
        r.name = str("name", false);
        if (r.name.empty()) r.name = r.subject + "/" + fs::path(r.insoles).stem().string();
        if (r.activity.empty()) r.activity = activity_from_sequence(fs::path(r.insoles).stem().string());
        if (e.contains("weight_kg")) {
            if (!e["weight_kg"].is_number() || !(e["weight_kg"].get<double>() > 0))
                fail_input(path, line, "recording " + std::to_string(i + 1) + ": \"weight_kg\" must be a positive number");
            r.weight_kg = e["weight_kg"].get<double>();
        }
        if (e.contains("insole_size")) {
            if (!e["insole_size"].is_number_integer() || e["insole_size"].get<int>() <= 0)
                fail_input(path, line, "recording " + std::to_string(i + 1) + ": \"insole_size\" must be a positive integer");
            r.insole_size = e["insole_size"].get<int>();
        }
        for (const std::string* f : {&r.insoles, &r.mocap, &r.sync})
            if (!f->empty() && !fs::exists(*f))
                fail_input(path, line, "recording " + std::to_string(i + 1) + ": missing partner file " + *f);
        for (const auto& o : out)
            if (o.name == r.name)
                fail_input(path, line, "recording " + std::to_string(i + 1) + ": name '" + r.name + "' used twice");
        out.push_back(r);
    }
    return out;
}

std::vector<RecordingSource> find_recordings(const std::string& p) {
    if (fs::is_directory(p)) return scan_underpressure(p);
    if (!fs::exists(p)) fail_input(p, 0, "no such file or folder");
    if (lower(fs::path(p).extension().string()) == ".json") return read_manifest(p);
    fail_input(p, 0, "expected a folder in the UnderPressure layout or a .json manifest");
}

}  // namespace s2m::io
