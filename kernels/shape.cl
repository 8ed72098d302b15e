/* OpenCL kernels: the shape family. */
