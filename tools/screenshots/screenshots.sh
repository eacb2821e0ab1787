#!/usr/bin/env bash
# Screenshots for the README, taken from a real ImageJ 1.x (with its window) under Xvfb: the Text to Image dialog
# filled in as a user would and the result window with its Info (ScreenshotsUnderXvfb.java does the clicking), the
# model drop-downs, and ControlNet's selection -> control image -> generated image (ControlNetScreenshotUnderXvfb).
# Needs the plain ImageJ install that PlainImageJXvfbTest assembles and the compiled tests:
#   mvn -B test -Dtest=PlainImageJXvfbTest
# Usage: tools/screenshots/screenshots.sh [MODEL_FOLDER [OUT_DIR [CONTROLNET_BASE CONTROLNET]]]
#   defaults: models/tiny-sd-shapes, docs/, and for ControlNet the shipped model with models/tiny-sd-shapes-controlnet
#   when both are there (the model folder holds controlnet/model.onnx), else the random-weight test fixtures (the
#   split layout of src/test/resources/fixtures/controlnet and controlnet-scale: noise, but every step is real).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$(realpath "${1:-models/tiny-sd-shapes}")
out=$(realpath "${2:-docs}")
ij=target/plain-imagej
[ -f "$ij/ij.jar" ] || { echo "run mvn -B test -Dtest=PlainImageJXvfbTest first" >&2; exit 2; }
mkdir -p "$out"
classpath="$ij/ij.jar:$(ls "$ij"/plugins/Stable_Diffusion-*.jar):$ij/plugins/jars/*:target/test-classes"
# A fresh ImageJ preferences folder per shot: nothing from earlier runs (the last dialog values) shows.
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
timeout 300 xvfb-run -a -s "-screen 0 1280x900x24" java -Duser.home="$home" -Dplugins.dir="$ij" -cp "$classpath" \
  sc.fiji.sd.ij1.ScreenshotsUnderXvfb "$model" "$out"
ls -la "$out"/dialog.png "$out"/result.png
# The Settings dialog's model drop-down, after a download from a local imitation of the hub into a scratch cache.
cache=$(mktemp -d)
HF_HUB_CACHE="$cache" timeout 300 xvfb-run -a -s "-screen 0 1280x720x24" java -Duser.home="$cache" -cp "$classpath" \
  sc.fiji.sd.ij1.ModelChooserUnderXvfb "$out"
# The same drop-down in the Text to Image dialog (docs/dialog-model-chooser.png).
HF_HUB_CACHE="$cache" timeout 300 xvfb-run -a -s "-screen 0 1280x1100x24" java -Duser.home="$cache" -Dsd.textToImage=true \
  -cp "$classpath" sc.fiji.sd.ij1.ModelChooserUnderXvfb "$out"
rm -rf "$cache"
# The Fiji commands' model chooser and sampler drop-down (docs/fiji-model-chooser.png): the SciJava widgets alone,
# since Fiji's dialog (scijava-ui-swing) is not on Maven Central.
cache=$(mktemp -d)
mvn -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cache/classpath.txt" >/dev/null
timeout 300 xvfb-run -a -s "-screen 0 900x240x24" java -Duser.home="$cache" \
  -cp "target/test-classes:target/classes:$(cat "$cache/classpath.txt")" \
  sc.fiji.sd.fiji.ChooserWidgetsUnderXvfb "$out"
rm -rf "$cache"
# ControlNet (docs/controlnet.png): an oval selection, the control image made from it, the image generated from it.
if [ $# -ge 4 ]; then
  base=$(realpath "$3"); controlnet=$(realpath "$4")
elif [ -f models/tiny-sd-shapes/controlnet/model.onnx ] && [ -f models/tiny-sd-shapes-controlnet/model.onnx ]; then
  base=$(realpath models/tiny-sd-shapes); controlnet=$(realpath models/tiny-sd-shapes-controlnet)
else
  echo "No shipped ControlNet yet: the random-weight fixtures stand in (the picture shows noise)." >&2
  base="$home/fixture/controlnet-base"
  mkdir -p "$base"
  cp -r src/test/resources/fixtures/controlnet/. "$base"/
  cp -r models/tiny-sd-shapes/tokenizer "$base"/
  controlnet=$(realpath src/test/resources/fixtures/controlnet-scale)
fi
timeout 300 xvfb-run -a -s "-screen 0 1100x440x24" java -Duser.home="$home" -Dplugins.dir="$ij" -cp "$classpath" \
  sc.fiji.sd.ij1.ControlNetScreenshotUnderXvfb "$base" "$controlnet" "$out"
ls -la "$out"/controlnet.png
