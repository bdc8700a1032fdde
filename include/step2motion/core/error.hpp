#pragma once
// Errors the user can fix (bad files, bad options). The CLI prints what() as one line and exits 2.
#include <stdexcept>
#include <string>

namespace s2m {

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "<file>:<line>: <what>" (line omitted when <= 0).
[[noreturn]] void fail_input(const std::string& file, long line, const std::string& what);
[[noreturn]] void fail_input(const std::string& what);

}  // namespace s2m
