#include "test_support.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace s2m::test {

fs::path project_data() { return fs::path(S2M_SOURCE_DIR) / "data"; }

fs::path shared_dir() {
    if (const char* env = std::getenv("S2M_SHARED_DIR"); env && *env)
        return fs::exists(env) ? fs::path(env) : fs::path();
    fs::path p = fs::path(S2M_SOURCE_DIR).parent_path() / "shared";
    return fs::exists(p / "data") ? p : fs::path();
}

fs::path temp_dir(const std::string& name) {
    fs::path p = fs::path(S2M_BINARY_DIR) / "test-tmp" / name;
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

bool have_cli() { return fs::exists(fs::path(S2M_BINARY_DIR) / "bin" / "s2m"); }

int run_s2m(const std::string& args, std::string* output) {
    std::string cmd = std::string(S2M_BINARY_DIR) + "/bin/s2m " + args + " 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return -1;
    std::array<char, 4096> buf;
    std::string out;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
    int status = ::pclose(pipe);
    if (output) *output = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

fs::path tiny_config_with(const nlohmann::json& overrides, const fs::path& path) {
    std::ifstream tiny(fs::path(S2M_SOURCE_DIR) / "configs" / "tiny.json");
    auto c = nlohmann::json::parse(tiny);
    c.merge_patch(overrides);
    std::ofstream(path) << c.dump(1);
    return path;
}

}  // namespace s2m::test
