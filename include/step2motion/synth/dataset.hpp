#pragma once
// Writing synthetic recordings into a dataset folder in the UnderPressure layout
// (reference/formats.md): <subject>/moticon.txt/<seq>.txt, <subject>/sync.csv/<seq>.csv,
// <subject>/mocap/<seq>.bvh and subjects.csv. Every file is written atomically; subjects.csv is
// merged, so later runs add to the same dataset.
#include <optional>
#include <string>
#include <vector>

#include "step2motion/io/moticon.hpp"
#include "step2motion/io/motion.hpp"

namespace s2m::synth {

struct SubjectRow {
    std::string id;                 // "S1"
    std::string gender, age;        // unknown for synthetic subjects: written empty
    double height_cm = 0, shoe_length_cm = 0, arm_length_cm = 0, weight_kg = 0;
    int insole_size = 0;
};

// subjects.csv: Id,Gender,Age,Height,Shoe Length,Arm Length,Weight,Insoles Size.
std::vector<SubjectRow> parse_subjects_csv(const std::string& text, const std::string& source);
std::string format_subjects_csv(const std::vector<SubjectRow>& rows);

// Adds `row` to DATASET/subjects.csv (creating it). A subject already listed keeps its row when weight
// and insole size agree; InputError when they differ (a subject cannot change weight between runs).
void merge_subject(const std::string& dataset_dir, const SubjectRow& row);

// The sync file of a sequence whose insole and mocap streams cover the same span from their first frame.
std::string format_sync_csv(int insole_frames, int mocap_frames);

// Height (rest pose), arm span (hand to hand through the shoulders) and foot length of a canonical skeleton.
SubjectRow describe_subject(const io::Skeleton& canonical, const std::string& id, double weight_kg, int insole_size,
                            double foot_length_m);

struct SequencePaths {
    std::string insoles, sync, mocap;
};
SequencePaths sequence_paths(const std::string& dataset_dir, const std::string& subject, const std::string& seq);

// Writes the three files of one sequence (folders created as needed).
SequencePaths write_sequence(const std::string& dataset_dir, const std::string& subject, const std::string& seq,
                             const io::MoticonRecording& insoles, const io::Motion& canonical);

}  // namespace s2m::synth
