/* OpenCL kernels: the resize family. */
