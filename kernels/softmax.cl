/* OpenCL kernels: the softmax family. */
