// Sync CSV, subjects.csv, the UnderPressure folder layout and JSON manifests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/io/recordings.hpp"
#include "step2motion/io/sync.hpp"
#include "test_support.hpp"

using namespace s2m;
namespace fs = std::filesystem;

namespace {
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}
void touch(const fs::path& p, const std::string& text = "x") {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}
}  // namespace

TEST(SyncCsv, ParsesAndRoundTrips) {
    const io::SyncInfo s = io::parse_sync_csv("name,start,end\r\nleft_insole,12,1012\nright_insole,10,1010\nmocap,0,2400\n", "a.csv");
    EXPECT_EQ(s.left_insole.start, 12);
    EXPECT_EQ(s.left_insole.end, 1012);
    EXPECT_EQ(s.right_insole.frames(), 1000);
    EXPECT_EQ(s.mocap.end, 2400);
    EXPECT_EQ(s.mocap.line, 4);
    const io::SyncInfo b = io::parse_sync_csv(io::format_sync_csv(s), "b.csv");
    EXPECT_EQ(b.left_insole.start, 12);
    EXPECT_EQ(b.mocap.frames(), 2400);
    // Rows in any order, no header.
    const io::SyncInfo c = io::parse_sync_csv("mocap,0,240\nright_insole,0,100\nleft_insole,1,101\n", "c.csv");
    EXPECT_EQ(c.left_insole.start, 1);
}

TEST(SyncCsv, MalformedNamesFileAndLine) {
    EXPECT_EQ(error_of([] { io::parse_sync_csv("", "s.csv"); }), "s.csv:1: empty file, expected a sync CSV (name,start,end rows)");
    EXPECT_EQ(error_of([] { io::parse_sync_csv("name,start,end\nleft_insole,0,10\nmocap,0,24\n", "s.csv"); }),
              "s.csv:3: no row for 'right_insole'");
    EXPECT_EQ(error_of([] { io::parse_sync_csv("name,start,end\nleft_insole,0,1x\n", "s.csv"); }),
              "s.csv:2: expected 'name,start,end' with integer frame indices, got 'left_insole,0,1x'");
    EXPECT_EQ(error_of([] { io::parse_sync_csv("left_insole,5,5\n", "s.csv"); }),
              "s.csv:1: span [5, 5) is empty or negative, expected 0 <= start < end");
    EXPECT_EQ(error_of([] { io::parse_sync_csv("h,a,b\nfoot,0,5\n", "s.csv"); }),
              "s.csv:2: unknown stream 'foot', expected left_insole, right_insole or mocap");
    const io::SyncInfo s = io::parse_sync_csv("left_insole,0,100\nright_insole,0,100\nmocap,0,240\n", "s.csv");
    EXPECT_EQ(error_of([&] { io::check_span_within(s, s.left_insole, "left_insole", 90, "x.txt"); }),
              "s.csv:1: left_insole span [0, 100) goes beyond the 90 frames of x.txt");
}

TEST(Recordings, SubjectsCsv) {
    const auto dir = test::temp_dir("subjects");
    touch(dir / "subjects.csv", "Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size\nS1,M,48,175,28,173,91,6\nS4,F,25,167,27,162,65,4\n");
    const auto s = io::read_subjects_csv((dir / "subjects.csv").string());
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s.at("S4").insole_size, 4);
    EXPECT_EQ(s.at("S1").weight_kg, 91);
    touch(dir / "bad.csv", "Id,Weight,Insoles Size\nS1,heavy,6\n");
    EXPECT_EQ(error_of([&] { io::read_subjects_csv((dir / "bad.csv").string()); }),
              (dir / "bad.csv").string() + ":2: column 'Weight': expected a number, got 'heavy'");
}

TEST(Recordings, UnderPressureLayout) {
    const auto dir = test::temp_dir("underpressure");
    touch(dir / "subjects.csv", "Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size\nS1,M,48,175,28,173,91,6\n");
    touch(dir / "S1" / "moticon.txt" / "walking_1.txt");
    touch(dir / "S1" / "sync.csv" / "walking_1.csv");
    touch(dir / "S1" / "mvnx" / "walking_1.mvnx");
    touch(dir / "S2" / "moticon.txt" / "jumping_02.txt");
    touch(dir / "S2" / "sync.csv" / "jumping_02.csv");
    touch(dir / "S2" / "jumping_02.bvh");
    const auto r = io::find_recordings(dir.string());
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].name, "S1/walking_1");
    EXPECT_EQ(r[0].activity, "walking");
    EXPECT_EQ(r[0].weight_kg, 91);
    EXPECT_EQ(r[0].insole_size, 6);
    EXPECT_EQ(fs::path(r[0].mocap).filename(), "walking_1.mvnx");
    EXPECT_EQ(r[1].subject, "S2");
    EXPECT_EQ(r[1].activity, "jumping");
    EXPECT_EQ(r[1].insole_size, 0) << "S2 is not in subjects.csv: size from the insole header";
    fs::remove(dir / "S2" / "sync.csv" / "jumping_02.csv");
    const std::string e = error_of([&] { io::find_recordings(dir.string()); });
    EXPECT_NE(e.find("missing partner file"), std::string::npos) << e;
    EXPECT_NE(e.find("jumping_02.csv"), std::string::npos) << e;
}

TEST(Recordings, Manifest) {
    const auto dir = test::temp_dir("manifest");
    touch(dir / "a.txt");
    touch(dir / "a.bvh");
    touch(dir / "a.csv");
    const std::string m = (dir / "m.json").string();
    touch(m, "[\n  {\"insoles\": \"a.txt\", \"sync\": \"a.csv\", \"mocap\": \"a.bvh\", \"map\": \"cmu\",\n"
             "   \"subject\": \"P1\", \"weight_kg\": 70, \"insole_size\": 5, \"activity\": \"walk\"},\n"
             "  {\"insoles\": \"a.txt\", \"mocap\": \"a.bvh\", \"subject\": \"P2\"}\n]\n");
    const auto r = io::find_recordings(m);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].insoles, (dir / "a.txt").string());
    EXPECT_EQ(r[0].map, "cmu");
    EXPECT_EQ(r[0].insole_size, 5);
    EXPECT_EQ(r[0].line, 2);
    EXPECT_EQ(r[1].sync, "");
    EXPECT_EQ(r[1].map, "auto");
    EXPECT_EQ(r[1].name, "P2/a");
    EXPECT_EQ(r[1].line, 4);

    touch(m, "[\n {\"insoles\": \"a.txt\", \"mocap\": \"a.bvh\", \"subject\": \"P1\"},\n {\"insoles\": \"b.txt\", \"mocap\": \"a.bvh\", \"subject\": \"P1\"}\n]");
    EXPECT_EQ(error_of([&] { io::read_manifest(m); }), m + ":3: recording 2: missing partner file " + (dir / "b.txt").string());
    touch(m, "[\n {\"insoles\": \"a.txt\", \"subject\": \"P1\"}\n]");
    EXPECT_EQ(error_of([&] { io::read_manifest(m); }), m + ":2: recording 1: missing \"mocap\"");
    touch(m, "[\n {\"insoles\": \"a.txt\", \"mocap\": \"a.bvh\", \"subject\": \"P1\",\n  \"weight\": 3}\n]");
    EXPECT_EQ(error_of([&] { io::read_manifest(m); }), m + ":2: recording 1: unknown key \"weight\"");
    touch(m, "[\n {\"insoles\": \"a.txt\",\n  \"mocap\" \"a.bvh\"}\n]");
    const std::string e = error_of([&] { io::read_manifest(m); });
    EXPECT_EQ(e.rfind(m + ":3: invalid JSON", 0), 0u) << e;
}
