/* OpenCL kernels: the conv family. */
