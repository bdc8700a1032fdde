#include "step2motion/core/files.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <unistd.h>

#include "step2motion/core/error.hpp"

namespace s2m {
namespace fs = std::filesystem;

namespace {
std::atomic<bool> g_interrupted{false};
std::mutex g_temps_mutex;
// Fixed-size table readable from a signal handler without locks.
constexpr int kMaxTemps = 64;
char g_temp_table[kMaxTemps][512];
std::atomic<bool> g_temp_used[kMaxTemps];

int register_temp(const std::string& path) {
    std::lock_guard<std::mutex> lock(g_temps_mutex);
    for (int i = 0; i < kMaxTemps; ++i) {
        if (!g_temp_used[i].load() && path.size() < sizeof(g_temp_table[i])) {
            std::memcpy(g_temp_table[i], path.c_str(), path.size() + 1);
            g_temp_used[i].store(true);
            return i;
        }
    }
    return -1;
}
void unregister_temp(int slot) {
    if (slot >= 0) g_temp_used[slot].store(false);
}

void on_signal(int sig) {
    g_interrupted.store(true);
    for (int i = 0; i < kMaxTemps; ++i)
        if (g_temp_used[i].load()) ::unlink(g_temp_table[i]);
    if (sig == SIGTERM) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
    // SIGINT: long jobs poll interrupted() and stop cleanly; a second Ctrl-C kills.
    std::signal(sig, SIG_DFL);
}

std::string temp_beside(const std::string& path) {
    fs::path p(path);
    fs::path dir = p.parent_path();
    std::string name = "." + p.filename().string() + ".tmp-" + std::to_string(::getpid());
    return (dir.empty() ? fs::path(name) : dir / name).string();
}

}  // namespace

std::string read_text_file(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) fail_input(path, 0, "is a directory, expected a file");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) fail_input(path, 0, std::string("cannot open: ") + std::strerror(errno));
    std::string data;
    std::fseek(f, 0, SEEK_END);
    long size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    if (size > 0) {
        data.resize(static_cast<size_t>(size));
        size_t got = std::fread(data.data(), 1, data.size(), f);
        data.resize(got);
    }
    std::fclose(f);
    return data;
}

AtomicFile::AtomicFile(std::string path, std::ios::openmode mode) : path_(std::move(path)) {
    temp_ = temp_beside(path_);
    std::error_code ec;
    fs::path parent = fs::path(path_).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    slot_ = register_temp(temp_);
    out_.open(temp_, mode);
    if (!out_) fail_input(path_, 0, "cannot create output file");
}

AtomicFile::~AtomicFile() {
    if (!committed_) {
        out_.close();
        std::remove(temp_.c_str());
    }
    unregister_temp(slot_);
}

void AtomicFile::commit() {
    out_.flush();
    bool ok = static_cast<bool>(out_);
    out_.close();
    if (!ok) fail_input(path_, 0, "write failed (disk full?)");
    std::error_code ec;
    fs::rename(temp_, path_, ec);
    if (ec) fail_input(path_, 0, "cannot rename temporary file: " + ec.message());
    committed_ = true;
}

AtomicPath::AtomicPath(std::string path) : path_(std::move(path)) {
    temp_ = temp_beside(path_);
    std::error_code ec;
    fs::path parent = fs::path(path_).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    slot_ = register_temp(temp_);
}

AtomicPath::~AtomicPath() {
    if (!committed_) std::remove(temp_.c_str());
    unregister_temp(slot_);
}

void AtomicPath::commit() {
    std::error_code ec;
    fs::rename(temp_, path_, ec);
    if (ec) fail_input(path_, 0, "cannot rename temporary file: " + ec.message());
    committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& content) {
    AtomicFile f(path);
    f.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
    f.commit();
}

void install_interrupt_handlers() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

bool interrupted() { return g_interrupted.load(); }

}  // namespace s2m
