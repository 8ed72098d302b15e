/* OpenCL kernels: the norm family. */
