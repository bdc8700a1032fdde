#include "step2motion/model/threads.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

namespace s2m::model {

void set_compute_threads(int threads) {
    if (threads < 1) threads = 1;
    at::set_num_threads(threads);
}

int compute_threads() { return at::get_num_threads(); }

bool set_flush_denormal(bool on) {
    bool ok = at::globalContext().setFlushDenormal(on);
    // Also in the intra-op pool's workers, which may already exist.
    at::parallel_for(0, at::get_num_threads(), 1, [on](int64_t, int64_t) { at::globalContext().setFlushDenormal(on); });
    return ok;
}

}  // namespace s2m::model
