// Atomic outputs, whole-record appends and the folder lock (core/files.hpp).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace s2m;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

// A killed writer leaves its temporary; the next writer of the same file removes it, and leaves alone
// the temporary of a process that is still running.
TEST(AtomicFile, NextWriterRemovesTemporariesOfKilledWriters) {
    const fs::path dir = test::temp_dir("stale_temps");
    const pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    const fs::path stale = dir / (".out.bvh.tmp-" + std::to_string(dead));
    std::ofstream(stale) << "half a file";
    const fs::path live = dir / (".out.bvh.tmp-" + std::to_string(::getppid()));
    std::ofstream(live) << "being written";
    const fs::path other = dir / (".other.bvh.tmp-" + std::to_string(dead));  // another file's: not ours to remove
    std::ofstream(other) << "x";
    write_file_atomic((dir / "out.bvh").string(), "complete\n");
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(live));
    EXPECT_TRUE(fs::exists(other));
    EXPECT_EQ(slurp(dir / "out.bvh"), "complete\n");
}

TEST(AppendRecord, AppendsWholeLines) {
    const fs::path dir = test::temp_dir("append_record");
    const std::string log = (dir / "log.jsonl").string();
    append_record(log, "{\"epoch\": 1}\n");
    append_record(log, "{\"epoch\": 2}\n");
    EXPECT_EQ(slurp(log), "{\"epoch\": 1}\n{\"epoch\": 2}\n");
    try {
        append_record((dir / "no-such-dir" / "log.jsonl").string(), "x\n");
        ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-dir"), std::string::npos) << e.what();
    }
}

// flock locks belong to an open file: a second lock on the same folder is refused even in-process,
// with the holder's pid; released with the first.
TEST(DirLock, SecondHolderIsRefusedUntilTheFirstEnds) {
    const fs::path dir = test::temp_dir("dir_lock");
    {
        DirLock first(dir.string(), "s2m train");
        try {
            DirLock second(dir.string(), "s2m train");
            ADD_FAILURE() << "second lock granted";
        } catch (const InputError& e) {
            const std::string msg = e.what();
            EXPECT_EQ(msg.rfind(dir.string() + ":", 0), 0u) << msg;
            EXPECT_NE(msg.find("in use by another s2m train (process " + std::to_string(::getpid()) + ")"), std::string::npos)
                << msg;
        }
    }
    EXPECT_NO_THROW(DirLock again(dir.string(), "s2m train"));
}
