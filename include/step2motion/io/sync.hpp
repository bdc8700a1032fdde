#pragma once
// UnderPressure synchronisation CSV: a header line, then `name,start,end` rows for left_insole,
// right_insole and mocap, each a [start, end) pair of frame indices in that stream's own rate;
// the three spans cover the same real time.
#include <string>
#include <string_view>

namespace s2m::io {

struct SyncSpan {
    long start = 0, end = 0;  // [start, end), frames of the stream
    long line = 0;            // line in the sync file, for error messages (0 = not from a file)
    long frames() const { return end - start; }
};

struct SyncInfo {
    std::string source;
    SyncSpan left_insole, right_insole, mocap;
};

// Throws InputError "<source>:<line>: <what>" on malformed input (missing rows, non-integers,
// empty or negative spans, duplicates).
SyncInfo parse_sync_csv(std::string_view text, const std::string& source);
SyncInfo read_sync_csv(const std::string& path);
std::string format_sync_csv(const SyncInfo& sync);

// Throws InputError naming the sync file and the row when `span` reaches beyond a stream of
// `stream_frames` frames.
void check_span_within(const SyncInfo& sync, const SyncSpan& span, const char* stream_name, long stream_frames,
                       const std::string& stream_file);

}  // namespace s2m::io
