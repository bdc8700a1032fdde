#pragma once
// Whole-file reads and atomic writes: outputs appear complete under their final name or not at all.
#include <filesystem>
#include <fstream>
#include <string>

namespace s2m {

// Reads a file into memory; InputError naming the file when it is missing or unreadable.
std::string read_text_file(const std::string& path);

// Writes to "<dir>/.<name>.tmp-<pid>" and renames over `path` on commit(); the destructor removes an
// uncommitted temporary, and the temporaries of interrupted runs are removed at SIGINT/SIGTERM. A
// process killed outright (SIGKILL, power) leaves its temporary: the next writer of the same path
// removes those whose process is gone.
class AtomicFile {
public:
    explicit AtomicFile(std::string path, std::ios::openmode mode = std::ios::out | std::ios::binary);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    std::ofstream& stream() { return out_; }
    const std::string& temp_path() const { return temp_; }
    void commit();

private:
    std::string path_, temp_;
    std::ofstream out_;
    int slot_ = -1;  // entry in the signal handler's table of temporaries
    bool committed_ = false;
};

// A temporary path beside `path` for writers that open files themselves (HDF5); same clean-up rules.
class AtomicPath {
public:
    explicit AtomicPath(std::string path);
    ~AtomicPath();
    AtomicPath(const AtomicPath&) = delete;
    AtomicPath& operator=(const AtomicPath&) = delete;
    const std::string& temp_path() const { return temp_; }
    void commit();

private:
    std::string path_, temp_;
    int slot_ = -1;
    bool committed_ = false;
};

void write_file_atomic(const std::string& path, const std::string& content);

// "write failed (disk full: N bytes left)" when the file system holding `path` has less than 1 MiB
// free, else "write failed": the start of the one line a failed write reports.
std::string write_failure(const std::string& path);

// Appends one record (a line) with a single write(2), so that a killed process leaves whole records
// only; InputError naming the file when the disk is full (the partial record is cut off again).
void append_record(const std::string& path, const std::string& record);

// An exclusive lock on "<dir>/.lock" for as long as the object lives (flock: released by the kernel
// when the process ends, however it ends). InputError naming the folder when another process holds it.
class DirLock {
public:
    DirLock(const std::string& dir, const std::string& what);
    ~DirLock();
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_ = -1;
};

// Installs SIGINT/SIGTERM handlers that delete registered temporaries and set interrupted().
void install_interrupt_handlers();
bool interrupted();

}  // namespace s2m
