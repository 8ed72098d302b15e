/* stb_image compiled into fuzz_cli_inputs, so that libFuzzer sees its
 * coverage and ASan/UBSan check it: the CLI's calls resolve to this copy
 * rather than to the (uninstrumented) Debian libstb. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
