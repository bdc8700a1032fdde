#pragma once
// Whole-file reads and atomic writes: outputs appear complete under their final name or not at all.
#include <filesystem>
#include <fstream>
#include <string>

namespace s2m {

// Reads a file into memory; InputError naming the file when it is missing or unreadable.
std::string read_text_file(const std::string& path);

// Writes to "<dir>/.<name>.tmp-<pid>" and renames over `path` on commit(); the destructor removes an
// uncommitted temporary, and the temporaries of interrupted runs are removed at SIGINT/SIGTERM.
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

// Installs SIGINT/SIGTERM handlers that delete registered temporaries and set interrupted().
void install_interrupt_handlers();
bool interrupted();

}  // namespace s2m
