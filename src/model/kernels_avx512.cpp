// The fast kernels built for the avx512 instruction set (flags in CMakeLists.txt); chosen at run time.
#define S2M_KERNEL_NS avx512
#include "kernels_impl.inc"
