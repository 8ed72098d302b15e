#!/usr/bin/env bash
# Installs the build into a temporary root and builds examples/embed.c the
# way an application would: `cc app.c $(pkg-config --cflags --libs clcnn)`.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet >/dev/null
pcdir=$(dirname "$(find "$root" -name clcnn.pc | head -n1)")
[ -n "$pcdir" ] || { echo "FAIL: no clcnn.pc installed"; exit 1; }
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs clcnn)
cc -std=c11 -Wall -Wextra -Werror "$src/examples/embed.c" -o "$root/embed" $flags
libdir=$(dirname "$(find "$root" -name 'libclcnn.so*' | head -n1)")
LD_LIBRARY_PATH="$libdir" CLCNN_DEVICE=cpu "$root/embed" "$src/examples/sample_cnn.onnx" cpu >"$root/out.txt"
grep -q "logits" "$root/out.txt" || { cat "$root/out.txt"; echo "FAIL: embed printed no output"; exit 1; }
echo "installed clcnn builds and runs an application: 1 passed, 0 failed"
