#pragma once
// Where the time of a piece of LibTorch code goes: self CPU time per operator (time inside an
// operator minus the operators it called), from LibTorch's own profiler. No torch in this header.
#include <functional>
#include <string>
#include <vector>

namespace s2m::model {

struct OpTime {
    std::string name;    // e.g. "aten::mm"
    double self_ms = 0;  // summed over calls and threads
    long calls = 0;
    double gflop = 0;  // LibTorch's count for matrix products and element-wise arithmetic, else 0
};

struct OpProfile {
    std::vector<OpTime> ops;  // largest self time first
    double total_ms = 0;      // sum of all self times (CPU time, all threads)
    double matmul_gflop = 0;  // floating-point work of the matrix products (mm, addmm, bmm)
    // "aten::mm 41.2 %, aten::softmax 9.1 %, ..." for the first `top` operators.
    std::string summary(int top = 5) const;
};

// Runs fn once under the profiler.
OpProfile profile_ops(const std::function<void()>& fn);

}  // namespace s2m::model
