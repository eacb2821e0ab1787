#!/bin/sh
# Trains the embedded model end to end (seeded), exports it and measures it.
#   tools/model/train_all.sh [work dir, default /work/train]
# Every stage resumes from its checkpoint when rerun. Needs Debian's python3-torch, python3-onnx,
# python3-numpy, python3-pil and libopenblas0-openmp (see tools/model/README.md).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export TINY_SD_WORK="${1:-/work/train}"
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$TINY_SD_WORK"
cd "$HERE"
$PY train_vae.py --steps 2400 --batch 16 --seed 1 --out "$TINY_SD_WORK/vae.pt"
$PY train_unet.py --seed 2 --steps 2500 --batch 64 --lr 8e-4 --n-latents 20000 --vae "$TINY_SD_WORK/vae.pt" --out "$TINY_SD_WORK/unet.pt"
$PY export.py --vae "$TINY_SD_WORK/vae.pt" --unet "$TINY_SD_WORK/unet.pt" --out "$REPO/models/tiny-sd-shapes" --check
$PY evaluate.py --model "$REPO/models/tiny-sd-shapes" --out "$TINY_SD_WORK/eval"
