#!/usr/bin/env bash
# Screenshots for the README, taken from a real ImageJ 1.x (with its window) under Xvfb: the Text to Image dialog
# filled in as a user would, and the result window with its Info (ScreenshotsUnderXvfb.java does the clicking).
# Needs the plain ImageJ install that PlainImageJXvfbTest assembles and the compiled tests:
#   mvn -B test -Dtest=PlainImageJXvfbTest
# Usage: src/test/scripts/screenshots.sh [MODEL_FOLDER [OUT_DIR]]   (defaults: models/tiny-sd-shapes, docs/)
set -euo pipefail
cd "$(dirname "$0")/../../.."
model=$(realpath "${1:-models/tiny-sd-shapes}")
out=$(realpath "${2:-docs}")
ij=target/plain-imagej
[ -f "$ij/ij.jar" ] || { echo "run mvn -B test -Dtest=PlainImageJXvfbTest first" >&2; exit 2; }
mkdir -p "$out"
timeout 300 xvfb-run -a -s "-screen 0 900x560x24" java -Dplugins.dir="$ij" \
  -cp "$ij/ij.jar:$(ls "$ij"/plugins/Stable_Diffusion-*.jar):$ij/plugins/jars/*:target/test-classes" \
  sc.fiji.sd.ij1.ScreenshotsUnderXvfb "$model" "$out"
ls -la "$out"/dialog.png "$out"/result.png
# The Settings dialog's model drop-down, after a download from a local imitation of the hub into a scratch cache.
cache=$(mktemp -d)
HF_HUB_CACHE="$cache" timeout 300 xvfb-run -a -s "-screen 0 1280x720x24" java -Duser.home="$cache" \
  -cp "$ij/ij.jar:$(ls "$ij"/plugins/Stable_Diffusion-*.jar):$ij/plugins/jars/*:target/test-classes" \
  sc.fiji.sd.ij1.ModelChooserUnderXvfb "$out"
# The same drop-down in the Text to Image dialog (docs/dialog-model-chooser.png).
HF_HUB_CACHE="$cache" timeout 300 xvfb-run -a -s "-screen 0 1280x1000x24" java -Duser.home="$cache" -Dsd.textToImage=true \
  -cp "$ij/ij.jar:$(ls "$ij"/plugins/Stable_Diffusion-*.jar):$ij/plugins/jars/*:target/test-classes" \
  sc.fiji.sd.ij1.ModelChooserUnderXvfb "$out"
rm -rf "$cache"
# The Fiji commands' model chooser and sampler drop-down (docs/fiji-model-chooser.png): the SciJava widgets alone,
# since Fiji's dialog (scijava-ui-swing) is not on Maven Central.
cache=$(mktemp -d)
timeout 300 xvfb-run -a -s "-screen 0 900x240x24" java -Duser.home="$cache" \
  -cp "target/test-classes:target/classes:$(mvn -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)" \
  sc.fiji.sd.fiji.ChooserWidgetsUnderXvfb "$out"
rm -rf "$cache"
