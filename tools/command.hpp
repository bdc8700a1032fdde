#pragma once
// Each subcommand lives in its own tools/cmd_<name>.cpp and registers itself here.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace s2m::cli {

struct GlobalOptions {
    int threads = 0;  // 0 = available cores
    bool verbose = false, quiet = false;
};
const GlobalOptions& globals();

// `setup` adds the subcommand's options to `app` and returns the function that runs it (exit code).
using Setup = std::function<std::function<int()>(CLI::App& app)>;
struct Registration {
    Registration(const char* name, const char* description, Setup setup);
};
struct Command {
    std::string name, description;
    Setup setup;
};
std::vector<Command>& registry();

}  // namespace s2m::cli

#define S2M_COMMAND(name, description, setup_fn) \
    static ::s2m::cli::Registration s2m_registration_##setup_fn(name, description, setup_fn)
