// s2m: the step2motion command line. Subcommands are in tools/cmd_*.cpp.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "command.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/core/files.hpp"
#include "step2motion/core/progress.hpp"
#include "step2motion/core/system.hpp"
#include "step2motion/model/memory.hpp"
#include "step2motion/model/threads.hpp"

namespace s2m::cli {

namespace {
GlobalOptions g_options;
}
const GlobalOptions& globals() { return g_options; }

std::vector<Command>& registry() {
    static std::vector<Command> commands;
    return commands;
}

Registration::Registration(const char* name, const char* description, Setup setup) {
    registry().push_back({name, description, std::move(setup)});
}

}  // namespace s2m::cli

namespace {
// Subcommands (or flags) whose cost is matrix products, and so want OpenBLAS's fast kernel.
bool uses_linear_algebra(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "train" || a == "reconstruct" || a == "evaluate" || a == "bench" || a == "--system") return true;
    }
    return false;
}
}  // namespace

int main(int argc, char** argv) {
    s2m::ensure_fast_blas(argc, argv, uses_linear_algebra(argc, argv));
    s2m::install_interrupt_handlers();

    auto logger = spdlog::stderr_color_mt("s2m");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%^%l%$: %v");

    CLI::App app{"step2motion: full-body motion from pressure-sensing insoles"};
    app.set_version_flag("--version", std::string("s2m ") + S2M_VERSION);
    app.require_subcommand(1);
    auto& g = s2m::cli::g_options;
    app.add_option("--threads", g.threads, "compute threads (default: available cores)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("-v,--verbose", g.verbose, "more log output");
    app.add_flag("-q,--quiet", g.quiet, "errors only, no progress bars");

    std::function<int()> run;
    std::vector<std::pair<CLI::App*, std::function<int()>>> subs;
    for (auto& cmd : s2m::cli::registry()) {
        CLI::App* sub = app.add_subcommand(cmd.name, cmd.description);
        sub->fallthrough();
        subs.emplace_back(sub, cmd.setup(*sub));
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (g.quiet) spdlog::set_level(spdlog::level::err);
    else if (g.verbose) spdlog::set_level(spdlog::level::debug);
    s2m::Progress::set_enabled(!g.quiet);
    // Before the first parallel operation: threads inherit the flush-to-zero mode.
    s2m::model::set_flush_denormal(true);
    s2m::model::install_cpu_cache();  // large tensor buffers reused instead of page-faulted afresh
    s2m::model::set_compute_threads(g.threads > 0 ? g.threads : s2m::available_cores());

    for (auto& [sub, fn] : subs) {
        if (!sub->parsed()) continue;
        try {
            return fn();
        } catch (const s2m::InputError& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return 1;
        }
    }
    return 2;
}
