/* OpenCL kernels: the layout family. */
