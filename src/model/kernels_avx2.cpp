// The fast kernels built for the avx2 instruction set (flags in CMakeLists.txt); chosen at run time.
#define S2M_KERNEL_NS avx2
#include "kernels_impl.inc"
