#include "step2motion/core/files.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
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

// Temporaries of `path` left by writers that were killed (their process no longer exists).
void remove_stale_temps(const std::string& path) {
    const fs::path p(path);
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    const std::string prefix = "." + p.filename().string() + ".tmp-";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string digits = name.substr(prefix.size());
        if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(digits));
        if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
    }
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
    remove_stale_temps(path_);
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

std::string write_failure(const std::string& path) {
    const fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    const fs::space_info sp = fs::space(parent.empty() ? fs::path(".") : parent, ec);
    if (!ec && sp.available < (1u << 20))
        return "write failed (disk full: " + std::to_string(sp.available) + " bytes left)";
    return "write failed";
}

void AtomicFile::commit() {
    out_.flush();
    bool ok = static_cast<bool>(out_);
    out_.close();
    ok = ok && static_cast<bool>(out_);  // close() flushes what was still buffered
    if (!ok) fail_input(path_, 0, write_failure(path_));
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
    remove_stale_temps(path_);
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

void append_record(const std::string& path, const std::string& record) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail_input(path, 0, std::string("cannot open for appending: ") + std::strerror(errno));
    struct stat st {};
    const off_t before = ::fstat(fd, &st) == 0 ? st.st_size : -1;
    const ssize_t n = ::write(fd, record.data(), record.size());
    const int err = errno;
    if (n != static_cast<ssize_t>(record.size())) {
        if (n > 0 && before >= 0) (void)!::ftruncate(fd, before);  // no partial record left behind
        ::close(fd);
        fail_input(path, 0, write_failure(path) + ": " + (n < 0 ? std::strerror(err) : "short write"));
    }
    ::close(fd);
}

DirLock::DirLock(const std::string& dir, const std::string& what) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string path = (fs::path(dir) / ".lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_input(dir, 0, std::string("cannot create the lock file .lock: ") + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char holder[32] = {0};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK) {
            std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : std::string();
            while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
            fail_input(dir, 0, "in use by another " + what + (pid.empty() ? "" : " (process " + pid + ")") +
                                   "; wait for it to end or use another folder");
        }
        fail_input(dir, 0, std::string("cannot lock .lock: ") + std::strerror(err));
    }
    const std::string me = std::to_string(::getpid()) + "\n";
    // The holder's pid, for the message another run prints (the lock itself is the flock).
    if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, me.data(), me.size(), 0);
}

DirLock::~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

void install_interrupt_handlers() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

bool interrupted() { return g_interrupted.load(); }

}  // namespace s2m
