#!/bin/sh
# The GIMP plug-in (examples/gimp) in GIMP's batch mode, without a display,
# against `clcnn run --output-image` on the same pictures (examples/denoise.onnx
# on examples/noisy.png, CPU backend):
#   1. RGB 8-bit, whole layer          vs clcnn run            max |diff| <= 1 of 255
#   2. RGB 8-bit, 64x64 tiles, overlap 16 vs clcnn run --tile    <= 1 of 255
#   3. RGBA (colour to alpha), whole   vs clcnn run on the RGBA file: colour <= 1,
#                                        alpha unchanged (0)
#   4. gray 8-bit                      vs the luma of clcnn run on the gray file
#                                        <= 2 of 255 (clcnn rounds R, G, B first)
#   5. RGB 16-bit                      vs clcnn run --output-depth 16 <= 2 of 65535
#   6. a rectangle selected: inside as in 1 (<= 1), outside unchanged (0)
#   7. a model that does not exist, a device that does not: the procedure
#      fails with clcnn's message, GIMP goes on (no crash), the next command runs.
# GIMP gets a profile of its own (GIMP2_DIRECTORY) whose plug-in path holds
# only script-fu, file-png and this plug-in, so that it starts in seconds.
#
# usage: test_gimp.sh PLUGIN CLCNN PNG_DIFF SRCDIR GIMP_PLUGIN_DIR
set -u
PLUGIN=$1 CLCNN=$2 DIFF=$3 SRC=$4 SYSPLUG=$5
if [ ! -x "$PLUGIN" ]; then
  echo "SKIP: the GIMP plug-in was not built (install libgimp2.0-dev)"
  exit 77
fi
if ! command -v gimp >/dev/null 2>&1; then
  echo "SKIP: no gimp (install gimp)"
  exit 77
fi
for p in script-fu file-png; do
  if [ ! -x "$SYSPLUG/$p/$p" ]; then
    echo "SKIP: GIMP's $p plug-in is not in $SYSPLUG"
    exit 77
  fi
done
MODEL=$SRC/examples/denoise.onnx
NOISY=$SRC/examples/noisy.png
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P=$T/profile
mkdir -p "$P/plug-ins/clcnn-gimp" "$P/brushes" "$P/dynamics" "$P/gradients" "$P/palettes" \
  "$P/patterns" "$P/tool-presets" "$P/fonts"
ln -s "$SYSPLUG/script-fu" "$SYSPLUG/file-png" "$P/plug-ins/"
ln -s "$(cd "$(dirname "$PLUGIN")" && pwd)/$(basename "$PLUGIN")" "$P/plug-ins/clcnn-gimp/clcnn-gimp"
printf '(plug-in-path "%s")\n' "$P/plug-ins" > "$P/gimprc"

fails=0
check() { # name, png_diff args...
  name=$1
  shift
  if out=$("$DIFF" "$@" 2>&1); then
    echo "ok   $name: $out"
  else
    echo "FAIL $name: $out"
    fails=$((fails + 1))
  fi
}

# Script-fu (in one -b: each -b runs in a script-fu of its own): the picture
# is loaded once and duplicated per case; a case saves what the filter sees
# (the reference input of `clcnn run`) unless that is the picture itself.
# Every PNG load and save starts GIMP's file-png plug-in, so they are few.
cat > "$T/batch.scm" <<EOF
(define noisy (car (gimp-file-load RUN-NONINTERACTIVE "$NOISY" "$NOISY")))
(define (filtered image out tile overlap)
  (let ((layer (car (gimp-image-get-active-layer image))))
    (plug-in-clcnn-filter RUN-NONINTERACTIVE image layer "$MODEL" "cpu" tile overlap)
    (gimp-file-save RUN-NONINTERACTIVE image layer out out)
    (gimp-image-delete image)))
(define (variant prepare seen)
  (let* ((image (car (gimp-image-duplicate noisy)))
         (layer (car (gimp-image-get-active-layer image))))
    (prepare image layer)
    (gimp-file-save RUN-NONINTERACTIVE image layer seen seen)
    image))
(filtered (car (gimp-image-duplicate noisy)) "$T/rgb.png" 0 -1)
(filtered (car (gimp-image-duplicate noisy)) "$T/rgb_tiled.png" 64 16)
; RGBA: from its file again (PNG may drop the colour of fully transparent pixels).
(gimp-image-delete
  (variant (lambda (image layer)
             (gimp-layer-add-alpha layer)
             (plug-in-colortoalpha RUN-NONINTERACTIVE image layer '(255 255 255)))
           "$T/rgba_in.png"))
(filtered (car (gimp-file-load RUN-NONINTERACTIVE "$T/rgba_in.png" "$T/rgba_in.png"))
          "$T/rgba.png" 0 -1)
(filtered (variant (lambda (image layer) (gimp-image-convert-grayscale image)) "$T/gray_in.png")
          "$T/gray.png" 0 -1)
(filtered (variant (lambda (image layer) (gimp-image-convert-precision image PRECISION-U16-GAMMA))
                   "$T/deep_in.png")
          "$T/deep.png" 0 -1)
; A selection: 100x80 at (70, 50).
(let* ((image (car (gimp-image-duplicate noisy))))
  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 70 50 100 80)
  (filtered image "$T/selection.png" 0 -1))
(gimp-image-delete noisy)
EOF
start=$(date +%s)
GIMP2_DIRECTORY=$P gimp -i -d -f -c \
  -b "(load \"$T/batch.scm\")" \
  -b "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$NOISY\" \"$NOISY\")))
             (layer (car (gimp-image-get-active-layer image))))
        (plug-in-clcnn-filter RUN-NONINTERACTIVE image layer \"$T/missing.onnx\" \"cpu\" 0 -1)
        (gimp-image-delete image))" \
  -b "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$NOISY\" \"$NOISY\")))
             (layer (car (gimp-image-get-active-layer image))))
        (plug-in-clcnn-filter RUN-NONINTERACTIVE image layer \"$MODEL\" \"no-such-device\" 0 -1)
        (gimp-image-delete image))" \
  -b "(gimp-message \"after the failure\")" \
  -b '(gimp-quit 0)' > "$T/gimp.log" 2>&1
rc=$?
echo "gimp batch: exit $rc in $(($(date +%s) - start)) s"
sed 's/^/  gimp: /' "$T/gimp.log"
[ "$rc" -eq 0 ] || fails=$((fails + 1))

ref() { # out, args...
  o=$1
  shift
  "$CLCNN" run "$MODEL" --device cpu "$@" --output-image "$o" --output-dir "$T/pb" > "$T/clcnn.log" 2>&1 ||
    { echo "FAIL clcnn run $*:"; cat "$T/clcnn.log"; fails=$((fails + 1)); }
}
ref "$T/ref_rgb.png" --input "$NOISY"
ref "$T/ref_tiled.png" --input "$NOISY" --tile 64x64 --overlap 16
ref "$T/ref_rgba.png" --input "$T/rgba_in.png"
ref "$T/ref_gray.png" --input "$T/gray_in.png"
ref "$T/ref_deep.png" --input "$T/deep_in.png" --output-depth 16

check "rgb" "$T/rgb.png" "$T/ref_rgb.png" 1 color
check "rgb, tiles 64 overlap 16" "$T/rgb_tiled.png" "$T/ref_tiled.png" 1 color
check "rgba colour" "$T/rgba.png" "$T/ref_rgba.png" 1 color
check "rgba alpha kept" "$T/rgba.png" "$T/rgba_in.png" 0 alpha
check "gray" "$T/gray.png" "$T/ref_gray.png" 2 luma
check "selection: inside as the whole layer" "$T/selection.png" "$T/ref_rgb.png" 1 color 70 50 100 80
check "selection: outside untouched" "$T/selection.png" "$NOISY" 0 color 70 50 100 80 outside
check "rgb 16-bit" "$T/deep.png" "$T/ref_deep.png" 2 color
# The filter changed the picture (not a copy of its input).
if "$DIFF" "$T/rgb.png" "$NOISY" 8 color > /dev/null 2>&1; then
  echo "FAIL the filtered picture is within 8 of its input: the filter did not run"
  fails=$((fails + 1))
fi
if grep -q "failed: clcnn: .*missing.onnx" "$T/gimp.log" &&
  grep -q "failed: clcnn: .*no-such-device" "$T/gimp.log" &&
  grep -q "after the failure" "$T/gimp.log" && ! grep -qi "crash" "$T/gimp.log"; then
  echo "ok   a missing model, an unknown device: errors with clcnn's message, GIMP goes on"
else
  echo "FAIL a missing model or an unknown device: no clcnn message, or GIMP did not go on"
  fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all GIMP checks passed"
