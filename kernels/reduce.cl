/* OpenCL kernels: the reduce family. */
