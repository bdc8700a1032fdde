// The fast kernels built for the generic instruction set (flags in CMakeLists.txt); chosen at run time.
#define S2M_KERNEL_NS generic
#include "kernels_impl.inc"
