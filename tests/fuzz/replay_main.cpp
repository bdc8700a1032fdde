// fuzz_replay TARGET PATH...: runs one fuzz target over files and folders of inputs (the seed corpus
// and the regression inputs), as ctest does on every build. Exit 0 when every input was read or
// refused with an InputError; anything else (another exception, a crash) fails the test.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "fuzz_target.hpp"

namespace s2m::fuzz {

static std::map<std::string, TargetFn>& table() {
    static std::map<std::string, TargetFn> t;
    return t;
}
bool register_target(const char* name, TargetFn fn) {
    table()[name] = fn;
    return true;
}
TargetFn find_target(const std::string& name) {
    auto it = table().find(name);
    return it == table().end() ? nullptr : it->second;
}

}  // namespace s2m::fuzz

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    if (argc < 3) {
        std::fprintf(stderr, "usage: fuzz_replay TARGET FILE|DIR...\n");
        return 2;
    }
    const auto fn = s2m::fuzz::find_target(argv[1]);
    if (!fn) {
        std::fprintf(stderr, "fuzz_replay: unknown target '%s'\n", argv[1]);
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        if (fs::is_directory(argv[i])) {
            for (const auto& e : fs::recursive_directory_iterator(argv[i]))
                if (e.is_regular_file()) files.push_back(e.path());
        } else if (fs::exists(argv[i])) {
            files.emplace_back(argv[i]);
        } else {
            std::fprintf(stderr, "fuzz_replay: %s does not exist\n", argv[i]);
            return 2;
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "fuzz_replay: no inputs\n");
        return 2;
    }
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string data = ss.str();
        std::fprintf(stderr, "%s (%zu bytes)\n", f.string().c_str(), data.size());
        try {
            fn(data);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "FAILED: %s: escaped exception: %s\n", f.string().c_str(), e.what());
            return 1;
        }
    }
    std::printf("fuzz_replay %s: %zu inputs, all read or refused cleanly\n", argv[1], files.size());
    return 0;
}
