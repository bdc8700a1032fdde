#include "step2motion/core/progress.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace s2m {

namespace {
bool g_enabled = true;
}

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "--:--";
    long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
    return buf;
}

Progress::Progress(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
    start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
    if (!finished_ && done_ > 0) stop();
}

void Progress::advance(std::int64_t n, const std::string& note) { set(done_ + n, note); }

void Progress::set(std::int64_t done, const std::string& note) {
    done_ = done;
    if (!note.empty()) note_ = note;
    draw(false);
}

void Progress::resume_at(std::int64_t done) {
    done_ = resumed_at_ = done;
    start_ = std::chrono::steady_clock::now();
}

void Progress::finish(const std::string& note) {
    if (total_ > 0) done_ = std::max(done_, total_);
    stop(note);
}

void Progress::stop(const std::string& note) {
    if (!note.empty()) note_ = note;
    draw(true);
    if (g_enabled) std::fputc('\n', stderr);
    finished_ = true;
}

void Progress::draw(bool force) {
    if (!g_enabled) return;
    auto now = std::chrono::steady_clock::now();
    bool tty = ::isatty(STDERR_FILENO);
    // Logs (not a terminal) get a line every 10 s instead of a redrawn bar.
    auto interval = tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
    if (!force && now - last_draw_ < interval) return;
    last_draw_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double rate = elapsed > 0 ? static_cast<double>(done_ - resumed_at_) / elapsed : 0;
    double eta = (rate > 0 && total_ > 0) ? (total_ - done_) / rate : NAN;
    const int width = 24;
    std::string bar;
    if (total_ > 0) {
        int fill = static_cast<int>(width * std::min<double>(1.0, double(done_) / total_));
        bar = "[" + std::string(fill, '#') + std::string(width - fill, '.') + "] ";
    }
    std::fprintf(stderr, "%s%s %s%lld/%lld%s%s %.1f/s ETA %s elapsed %s %s%s", tty ? "\r\033[K" : "",
                 label_.c_str(), bar.c_str(), static_cast<long long>(done_),
                 static_cast<long long>(total_), unit_.empty() ? "" : " ", unit_.c_str(), rate,
                 format_duration(eta).c_str(), format_duration(elapsed).c_str(), note_.c_str(),
                 tty ? "" : "\n");
    std::fflush(stderr);
}

}  // namespace s2m
