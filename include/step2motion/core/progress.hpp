#pragma once
// A progress bar with rate and ETA on stderr, redrawn at most 5 times a second; silent when quiet.
#include <chrono>
#include <cstdint>
#include <string>

namespace s2m {

class Progress {
public:
    Progress(std::string label, std::int64_t total, std::string unit = "");
    ~Progress();
    void advance(std::int64_t n = 1, const std::string& note = "");
    void set(std::int64_t done, const std::string& note = "");
    // Continues a job of which `done` units were finished earlier (rate and ETA count only this run's).
    void resume_at(std::int64_t done);
    // A completed job: the bar is drawn full.
    void finish(const std::string& note = "");
    // A job that ends early (interrupted, failed): the bar stays at the count reached.
    void stop(const std::string& note = "");
    static void set_enabled(bool enabled);

private:
    void draw(bool force);
    std::string label_, unit_, note_;
    std::int64_t total_, done_ = 0, resumed_at_ = 0;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool finished_ = false;
};

std::string format_duration(double seconds);

}  // namespace s2m
