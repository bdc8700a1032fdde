#pragma once
// Helpers shared by the tests: where the bundled and the shared data live, temporary folders,
// running the s2m binary.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace s2m::test {

// The project's own data/ folder.
std::filesystem::path project_data();
// ../shared/data (or S2M_SHARED_DIR/data); empty when not present, as in a user's clone.
std::filesystem::path shared_dir();
// A fresh empty folder under the build tree, removed at the start of the next run.
std::filesystem::path temp_dir(const std::string& name);
// Runs build/bin/s2m with arguments; returns the exit code, and stdout+stderr in `output`.
int run_s2m(const std::string& args, std::string* output = nullptr);
// configs/tiny.json with `overrides` applied, written to `path`; returns `path`.
std::filesystem::path tiny_config_with(const nlohmann::json& overrides, const std::filesystem::path& path);
// Whether build/bin/s2m exists (not in the torch-free sanitizer build).
bool have_cli();

}  // namespace s2m::test

#define S2M_REQUIRE_SHARED()                                                   \
    do {                                                                       \
        if (::s2m::test::shared_dir().empty()) GTEST_SKIP() << "../shared not present"; \
    } while (0)
