/* OpenCL kernels: the gemm family. */
