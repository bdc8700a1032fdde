#pragma once
// Where a dataset's recordings are: the UnderPressure folder layout, or a JSON manifest for a user's
// own captures.
#include <map>
#include <string>
#include <vector>

namespace s2m::io {

struct Subject {
    std::string id, gender;
    double age_y = 0, height_cm = 0, weight_kg = 0;
    int insole_size = 0;
};
// UnderPressure's subjects.csv: `Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size`
// (columns found by name; Id, Weight and Insoles Size required).
std::map<std::string, Subject> read_subjects_csv(const std::string& path);

struct RecordingSource {
    std::string name;                 // "S1/walking_1"; unique within a dataset
    std::string insoles, sync, mocap; // paths; sync empty = streams start together
    std::string map = "auto";         // joint map preset or file; "auto" = xsens for .mvnx, detected for .bvh
    std::string subject, activity;
    double weight_kg = 0;
    int insole_size = 0;              // 0 = from the insole file's header
    std::string listed_in;            // manifest or folder, with the line, for error messages
    long line = 0;
};

// `S<k>/moticon.txt/<seq>.txt` + `S<k>/sync.csv/<seq>.csv` + `<seq>.mvnx|.bvh` anywhere under S<k>/,
// subjects.csv (optional) at the top. A sequence without its partner files is an InputError.
std::vector<RecordingSource> scan_underpressure(const std::string& dir);

// JSON: a list of {"insoles", "sync" (optional), "mocap", "map", "subject", "weight_kg",
// "insole_size", "activity", "name" (optional)}, or {"recordings": [...]}. Relative paths are
// relative to the manifest. Errors name the manifest's line of the offending entry.
std::vector<RecordingSource> read_manifest(const std::string& path);

// A folder (UnderPressure layout) or a .json manifest.
std::vector<RecordingSource> find_recordings(const std::string& folder_or_manifest);

}  // namespace s2m::io
