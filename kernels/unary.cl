/* OpenCL kernels: the unary family. */
