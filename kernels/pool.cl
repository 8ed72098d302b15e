/* OpenCL kernels: the pool family. */
