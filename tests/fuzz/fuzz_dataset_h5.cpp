// The HDF5 dataset reader, from an in-memory file image (no file system in the loop).
#include "fuzz_target.hpp"
#include "step2motion/core/error.hpp"
#include "step2motion/io/dataset.hpp"

S2M_FUZZ_TARGET(dataset_h5) {
    try {
        (void)s2m::io::read_dataset_summary_image(input.data(), input.size(), "fuzz.h5");
    } catch (const s2m::InputError&) {
    }
    try {
        (void)s2m::io::read_dataset_image(input.data(), input.size(), "fuzz.h5");
    } catch (const s2m::InputError&) {
    }
}
