"""Fits the SDXL memory measurements of sdxl_memory.sh and extrapolates to the full SDXL UNet (PERFORMANCE.md,
"SDXL memory"):

  python3 sdxl_memory_fit.py [results.tsv, default /work/train/sdxl-mem/results.tsv]

Model: peak(depth, size, batch) = intercept + weights(depth) x k + batch x A(size). The cost of one depth step (6
transformer blocks of width 1280: 2 down, 1 mid, 3 up) is the mean over the sizes and batches measured at two depths
of the peak's change per depth step; A(size) is the peak's change per image in a batch, at depth 0. The full UNet is
depth 10: peak(10, size, batch) = peak(0, size, batch) + 10 x (cost of a depth step).
"""
import sys
from collections import defaultdict

MIB = 2 ** 20
PARAMS_FULL = 2567463684  # make_sdxl_memory.py --depth 10 --count-only (SDXL base's UNet)
PARAMS_DEPTH_STEP = 208535040


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/work/train/sdxl-mem/results.tsv"
    rows = {}
    weights = {}
    for line in open(path):
        d, size, batch, w, load, peak, secs = line.split()
        rows[(d, int(size), int(batch))] = int(peak) / MIB
        weights[d] = int(w) / MIB
    print("measured peak RSS of one UNet call (MiB), weights file in MiB:")
    print("depth  weights   size  batch   peak   peak - weights")
    for (d, s, b), p in sorted(rows.items()):
        print(f"{d:>6} {weights[d]:8.0f} {s:6d} {b:6d} {p:7.0f} {p - weights[d]:8.0f}")
    steps = defaultdict(list)
    for (d, s, b), p in rows.items():
        if not d.isdigit():
            continue
        for (d2, s2, b2), p2 in rows.items():
            if d2.isdigit() and int(d2) > int(d) and (s2, b2) == (s, b):
                steps[(s, b)].append((p2 - p) / (int(d2) - int(d)))
    per_step = [v for vs in steps.values() for v in vs]
    step = sum(per_step) / len(per_step)
    print(f"\ncost of one depth step (6 transformer blocks, {PARAMS_DEPTH_STEP * 4 / MIB:.0f} MiB of fp32 weights): "
          f"{step:.0f} MiB (from {len(per_step)} pairs, {min(per_step):.0f}..{max(per_step):.0f}); "
          f"per transformer block {step / 6:.0f} MiB; ratio to the weights {step / (PARAMS_DEPTH_STEP * 4 / MIB):.3f}")
    print("\nper image in a batch, depth 0: A(size) = peak(batch 2) - peak(batch 1)")
    for s in sorted({s for (_, s, _) in rows}):
        if ("0", s, 1) in rows and ("0", s, 2) in rows:
            a = rows[("0", s, 2)] - rows[("0", s, 1)]
            print(f"  {s}x{s}: A = {a:.0f} MiB, intercept peak(batch 1) - A = {rows[('0', s, 1)] - a:.0f} MiB")
    print("\nfull SDXL UNet (depth 10, %.2f G parameters, %.0f MiB fp32), one UNet call:" % (PARAMS_FULL / 1e9,
                                                                                           PARAMS_FULL * 4 / MIB))
    for (d, s, b), p in sorted(rows.items()):
        if d == "0":
            print(f"  {s}x{s} batch {b}: {p + 10 * step:.0f} MiB ({(p + 10 * step) / 1024:.1f} GiB)")


if __name__ == "__main__":
    main()
