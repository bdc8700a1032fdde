#include "step2motion/synth/dataset.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/io/bvh.hpp"
#include "step2motion/kinematics/canonical.hpp"
#include "step2motion/synth/synthesizer.hpp"

namespace s2m::synth {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSubjectsHeader = "Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size";

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : line) {
        if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else if (c != '\r') {
            cur += c;
        }
    }
    out.push_back(cur);
    for (auto& s : out) {
        const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
        s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    }
    return out;
}

double parse_number(const std::string& s, const std::string& source, long line, const char* what) {
    if (s.empty()) return 0;  // unknown
    try {
        size_t used = 0;
        const double v = std::stod(s, &used);
        if (used != s.size()) throw std::invalid_argument(s);
        return v;
    } catch (const std::exception&) {
        fail_input(source, line, std::string("expected a number for ") + what + ", got '" + s + "'");
    }
}

std::string number(double v, int decimals) {
    if (v == 0) return "";
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(decimals);
    os << v;
    std::string s = os.str();
    if (s.find('.') != std::string::npos) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s;
}

}  // namespace

std::vector<SubjectRow> parse_subjects_csv(const std::string& text, const std::string& source) {
    std::vector<SubjectRow> rows;
    std::istringstream in(text);
    std::string line;
    long lineno = 0;
    bool header = false;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const auto f = split_csv(line);
        if (!header) {
            if (f.size() < 8 || f[0] != "Id") fail_input(source, lineno, std::string("expected the header ") + kSubjectsHeader);
            header = true;
            continue;
        }
        if (f.size() < 8) fail_input(source, lineno, "expected 8 comma-separated fields (" + std::string(kSubjectsHeader) + ")");
        SubjectRow r;
        r.id = f[0];
        if (r.id.empty()) fail_input(source, lineno, "empty subject Id");
        r.gender = f[1];
        r.age = f[2];
        r.height_cm = parse_number(f[3], source, lineno, "Height");
        r.shoe_length_cm = parse_number(f[4], source, lineno, "Shoe Length");
        r.arm_length_cm = parse_number(f[5], source, lineno, "Arm Length");
        r.weight_kg = parse_number(f[6], source, lineno, "Weight");
        r.insole_size = static_cast<int>(parse_number(f[7], source, lineno, "Insoles Size"));
        rows.push_back(r);
    }
    if (!header) fail_input(source, 1, std::string("expected the header ") + kSubjectsHeader);
    return rows;
}

std::string format_subjects_csv(const std::vector<SubjectRow>& rows) {
    std::string out = std::string(kSubjectsHeader) + "\n";
    for (const auto& r : rows)
        out += r.id + "," + r.gender + "," + r.age + "," + number(r.height_cm, 0) + "," + number(r.shoe_length_cm, 0) + "," +
               number(r.arm_length_cm, 0) + "," + number(r.weight_kg, 1) + "," + std::to_string(r.insole_size) + "\n";
    return out;
}

void merge_subject(const std::string& dataset_dir, const SubjectRow& row) {
    const std::string path = (fs::path(dataset_dir) / "subjects.csv").string();
    std::vector<SubjectRow> rows;
    if (fs::exists(path)) rows = parse_subjects_csv(read_text_file(path), path);
    for (const auto& r : rows) {
        if (r.id != row.id) continue;
        if (std::abs(r.weight_kg - row.weight_kg) > 0.05 || r.insole_size != row.insole_size)
            fail_input(path, 0,
                       "subject " + row.id + " is already listed with weight " + number(r.weight_kg, 1) + " kg and insole size " +
                           std::to_string(r.insole_size) + "; pass the same --weight-kg/--insole-size or another --subject");
        return;
    }
    rows.push_back(row);
    fs::create_directories(dataset_dir);
    write_file_atomic(path, format_subjects_csv(rows));
}

std::string format_sync_csv(int insole_frames, int mocap_frames) {
    return "name,start,end\nleft_insole,0," + std::to_string(insole_frames) + "\nright_insole,0," +
           std::to_string(insole_frames) + "\nmocap,0," + std::to_string(mocap_frames) + "\n";
}

SubjectRow describe_subject(const io::Skeleton& s, const std::string& id, double weight_kg, int insole_size,
                            double foot_length_m) {
    using namespace kin;
    SubjectRow r;
    r.id = id;
    r.weight_kg = weight_kg;
    r.insole_size = insole_size;
    r.height_cm = std::round(standing_height_m(s) * 100);
    const auto rest = s.rest_positions();
    auto len = [&](int a, int b) { return (rest[static_cast<size_t>(a)] - rest[static_cast<size_t>(b)]).norm(); };
    auto hand = [&](int j) {
        const auto& e = s.end_sites_m[static_cast<size_t>(j)];
        return e ? e->norm() : 0.0;
    };
    // Arm span through the shoulders, as the dataset's "Arm Length" (173 cm for a 175 cm subject).
    const double span = hand(LeftHand) + len(LeftHand, LeftForeArm) + len(LeftForeArm, LeftArm) + len(LeftArm, LeftShoulder) +
                        len(LeftShoulder, RightShoulder) + len(RightShoulder, RightArm) + len(RightArm, RightForeArm) +
                        len(RightForeArm, RightHand) + hand(RightHand);
    r.arm_length_cm = std::round(span * 100);
    r.shoe_length_cm = std::round(foot_length_m * 100);
    return r;
}

SequencePaths sequence_paths(const std::string& dataset_dir, const std::string& subject, const std::string& seq) {
    const fs::path base = fs::path(dataset_dir) / subject;
    return {(base / "moticon.txt" / (seq + ".txt")).string(), (base / "sync.csv" / (seq + ".csv")).string(),
            (base / "mocap" / (seq + ".bvh")).string()};
}

SequencePaths write_sequence(const std::string& dataset_dir, const std::string& subject, const std::string& seq,
                             const io::MoticonRecording& insoles, const io::Motion& canonical) {
    const SequencePaths p = sequence_paths(dataset_dir, subject, seq);
    for (const auto& f : {p.insoles, p.sync, p.mocap}) fs::create_directories(fs::path(f).parent_path());
    // Mocap first, insoles last: a sequence is complete once its insole file exists.
    io::write_bvh(p.mocap, io::bvh_from_motion(canonical), {6});
    write_file_atomic(p.sync, format_sync_csv(insoles.frames(), canonical.frames));
    io::write_moticon(p.insoles, insoles);
    return p;
}

}  // namespace s2m::synth
