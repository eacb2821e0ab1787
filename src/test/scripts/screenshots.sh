#!/usr/bin/env bash
# Screenshots for the README, taken from a real ImageJ 1.x (GUI mode) under Xvfb.
# Needs the plain ImageJ install that PlainImageJXvfbTest assembles (mvn -B test -Dtest=PlainImageJXvfbTest).
# Usage: src/test/scripts/screenshots.sh MODEL_FOLDER [OUT_DIR]   (OUT_DIR defaults to docs/)
set -euo pipefail
cd "$(dirname "$0")/../../.."
model=$(realpath "$1")
out=$(realpath "${2:-docs}")
ij=target/plain-imagej
[ -f "$ij/ij.jar" ] || { echo "run mvn -B test -Dtest=PlainImageJXvfbTest first" >&2; exit 2; }
mkdir -p "$out"

shoot() { # $1 = macro file; ImageJ stays open after -macro, so a timeout ends it
  timeout 120 xvfb-run -a -s "-screen 0 900x560x24" java -jar "$ij/ij.jar" -ijpath "$ij" -macro "$1" || true
}

cat > "$ij/shot-dialog.ijm" <<IJM
run("Stable Diffusion Settings...", "model=[$model] device=cpu threads=0");
if (isOpen("Log")) { selectWindow("Log"); run("Close"); }
doCommand("Text to Image...");  // the dialog opens in its own thread; the macro goes on
wait(4000);
run("Capture Screen");
saveAs("PNG", "$out/dialog.png");
run("Quit");
IJM
shoot "$ij/shot-dialog.ijm"

cat > "$ij/shot-result.ijm" <<IJM
run("Stable Diffusion Settings...", "model=[$model] device=cpu threads=0");
if (isOpen("Log")) { selectWindow("Log"); run("Close"); }
run("Text to Image...", "prompt=[a red circle on a blue background] negative=[] steps=20 guidance=7 seed=42 width=64 height=64 scheduler=[Euler a] batch=1");
id = getImageID();
run("Show Info...");   // the Info text: "AI-generated" and the A1111 parameters
wait(1000);
selectImage(id);       // the result window in front of it, zoomed in
run("Set... ", "zoom=400 x=32 y=32");
setLocation(590, 150);
wait(2500);
run("Capture Screen");
saveAs("PNG", "$out/result.png");
run("Quit");
IJM
shoot "$ij/shot-result.ijm"
ls -la "$out"/dialog.png "$out"/result.png
