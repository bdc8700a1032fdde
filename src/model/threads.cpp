#include "step2motion/model/threads.hpp"

#include <ATen/Parallel.h>

namespace s2m::model {

void set_compute_threads(int threads) {
    if (threads < 1) threads = 1;
    at::set_num_threads(threads);
}

int compute_threads() { return at::get_num_threads(); }

}  // namespace s2m::model
