#include "step2motion/core/error.hpp"

namespace s2m {

void fail_input(const std::string& file, long line, const std::string& what) {
    if (line > 0) throw InputError(file + ":" + std::to_string(line) + ": " + what);
    throw InputError(file + ": " + what);
}

void fail_input(const std::string& what) { throw InputError(what); }

}  // namespace s2m
