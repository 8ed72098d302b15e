/* OpenCL kernels: the binary family. */
