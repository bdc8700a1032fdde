#include "step2motion/model/profile.hpp"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace s2m::model {

OpProfile profile_ops(const std::function<void()>& fn) {
    namespace prof = torch::autograd::profiler;
    prof::thread_event_lists lists;
    {
        // Input shapes are what LibTorch computes an operator's FLOPs from.
        const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/true,
                                                           /*profile_memory=*/false, /*with_stack=*/false, /*with_flops=*/true);
        prof::TLSLegacyProfilerGuard guard(config, [&](const prof::thread_event_lists& l) { lists = l; });
        fn();
    }
    // Per thread, push/pop ranges nest: self time = own span minus the spans of direct children.
    std::map<std::string, OpTime> by_name;
    OpProfile out;
    for (const auto& events : lists) {
        struct Open {
            const prof::LegacyEvent* push;
            double children_us;
        };
        std::vector<Open> stack;
        for (const auto& e : events) {
            const std::string kind = e.kindStr();
            if (kind == "push") {
                stack.push_back({&e, 0});
            } else if (kind == "pop" && !stack.empty()) {
                const Open open = stack.back();
                stack.pop_back();
                const double span_us = open.push->cpuElapsedUs(e);
                const double self_us = std::max(0.0, span_us - open.children_us);
                if (!stack.empty()) stack.back().children_us += span_us;
                const std::string name = open.push->name();
                OpTime& t = by_name[name];
                t.name = name;
                t.self_ms += self_us / 1e3;
                // An operator re-dispatched to itself (autocast's bmm calls bmm) is one call, counted outermost.
                const bool nested_in_itself = !stack.empty() && name == stack.back().push->name();
                if (!nested_in_itself) ++t.calls;
                const double gflop =
                    nested_in_itself ? 0.0 : static_cast<double>(const_cast<prof::LegacyEvent*>(open.push)->flops()) / 1e9;
                t.gflop += gflop;
                if (t.name == "aten::mm" || t.name == "aten::addmm" || t.name == "aten::bmm") out.matmul_gflop += gflop;
                out.total_ms += self_us / 1e3;
            }
        }
    }
    for (auto& kv : by_name) out.ops.push_back(kv.second);
    std::sort(out.ops.begin(), out.ops.end(), [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
    return out;
}

std::string OpProfile::summary(int top) const {
    std::string s;
    for (int i = 0; i < top && i < static_cast<int>(ops.size()); ++i) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s%s %.1f %%", i ? ", " : "", ops[static_cast<size_t>(i)].name.c_str(),
                      total_ms > 0 ? 100 * ops[static_cast<size_t>(i)].self_ms / total_ms : 0.0);
        s += buf;
    }
    return s;
}

}  // namespace s2m::model
