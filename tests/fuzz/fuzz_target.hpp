#pragma once
// One fuzz target per reader of outside data. The same source builds two ways:
//  - with clang and -fsanitize=fuzzer (S2M_LIBFUZZER defined): a libFuzzer binary fuzz_<name>;
//  - with any compiler: registered in the table that fuzz_replay (tests/fuzz/replay_main.cpp) runs over the
//    seed corpus and the regression inputs in ctest, so every crash found stays fixed without clang.
// The contract a target checks: a reader either returns or throws s2m::InputError (one line naming the
// file). Any other exception escapes and is reported as a crash; memory errors and UB are the
// sanitizers' to report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace s2m::fuzz {

using TargetFn = void (*)(std::string_view input);
bool register_target(const char* name, TargetFn fn);
TargetFn find_target(const std::string& name);

}  // namespace s2m::fuzz

#ifdef S2M_LIBFUZZER
#define S2M_FUZZ_REGISTER(name, fn)                                                     \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
        fn(std::string_view(reinterpret_cast<const char*>(data), size));               \
        return 0;                                                                       \
    }
#else
#define S2M_FUZZ_REGISTER(name, fn) \
    static const bool s2m_fuzz_registered_##name = ::s2m::fuzz::register_target(#name, fn);
#endif

// S2M_FUZZ_TARGET(bvh) { ... uses `input` ... }
#define S2M_FUZZ_TARGET(name)                                   \
    static void s2m_fuzz_one_##name(std::string_view input);    \
    S2M_FUZZ_REGISTER(name, s2m_fuzz_one_##name)                \
    static void s2m_fuzz_one_##name(std::string_view input)
