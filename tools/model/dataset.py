"""Procedural data set: one simple shape on a plain background, with a caption.

Caption grammar: "a {color} {shape} on a {color} background" (object colour != background colour).
Shapes are axis-aligned: a square (fill ratio of its bounding box 1.0), a circle (pi/4 = 0.785) and an
upright isosceles triangle with base = height (0.5), so the fill ratio of the blob tells the shape.
Images are drawn at 4x and box-filtered down (anti-aliased edges).
"""
import json
import random

import numpy as np
from PIL import Image, ImageDraw

COLORS = {
    "red": (220, 20, 20),
    "green": (20, 180, 20),
    "blue": (20, 40, 220),
    "yellow": (240, 220, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}
COLOR_NAMES = list(COLORS)
SHAPES = ["circle", "square", "triangle"]
FILL_RATIO = {"circle": 0.785, "square": 1.0, "triangle": 0.5}

IMAGE_SIZE = 64
MIN_FRAC, MAX_FRAC = 0.375, 0.6875   # object size (diameter / side / base) as a fraction of the image: 24..44 px at 64
MARGIN_FRAC = 0.0625                 # object stays this far from the border (4 px at 64): the border shows background
SUPERSAMPLE = 4


def caption(color, shape, bg):
    return f"a {color} {shape} on a {bg} background"


def all_combos():
    return [(c, s, b) for s in SHAPES for c in COLOR_NAMES for b in COLOR_NAMES if c != b]


def heldout_combos(seed=1234, per_shape=5):
    """15 of the 90 combinations (5 per shape, 16.7 %), never drawn in training.

    Each (object colour, background colour) pair is held out for at most one shape, so every pair and every
    colour is still seen in training with the other shapes."""
    pairs = [(c, b) for c in COLOR_NAMES for b in COLOR_NAMES if c != b]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    out = []
    for k, s in enumerate(SHAPES):
        for c, b in pairs[k * per_shape:(k + 1) * per_shape]:
            out.append((c, s, b))
    return out


def train_combos():
    held = set(heldout_combos())
    return [x for x in all_combos() if x not in held]


def render(color, shape, bg, cx, cy, size, image_size=IMAGE_SIZE):
    """Draws one image; cx, cy, size in pixels of the final image. Returns uint8 HxWx3."""
    ss = SUPERSAMPLE
    big = image_size * ss
    img = Image.new("RGB", (big, big), COLORS[bg])
    d = ImageDraw.Draw(img)
    h = size * ss / 2.0
    x, y = cx * ss, cy * ss
    fill = COLORS[color]
    if shape == "circle":
        d.ellipse([x - h, y - h, x + h, y + h], fill=fill)
    elif shape == "square":
        d.rectangle([x - h, y - h, x + h, y + h], fill=fill)
    else:
        d.polygon([(x, y - h), (x + h, y + h), (x - h, y + h)], fill=fill)
    img = img.resize((image_size, image_size), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def random_layout(rng, image_size=IMAGE_SIZE):
    size = rng.uniform(MIN_FRAC, MAX_FRAC) * image_size
    m = MARGIN_FRAC * image_size
    lo, hi = m + size / 2, image_size - m - size / 2
    return rng.uniform(lo, hi), rng.uniform(lo, hi), size


def sample(rng, combos, image_size=IMAGE_SIZE):
    """Returns (uint8 image, (color, shape, bg), caption)."""
    combo = combos[rng.randrange(len(combos))]
    cx, cy, size = random_layout(rng, image_size)
    return render(*combo, cx, cy, size, image_size), combo, caption(*combo)


def make_batch(rng, combos, n, image_size=IMAGE_SIZE):
    imgs, combos_out = [], []
    for _ in range(n):
        im, combo, _ = sample(rng, combos, image_size)
        imgs.append(im)
        combos_out.append(combo)
    return np.stack(imgs), combos_out


def to_tensor_range(imgs_uint8):
    """uint8 NHWC -> float32 NCHW in [-1, 1]."""
    x = imgs_uint8.astype(np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def heldout_json():
    return {
        "description": "Colour x shape x background combinations never drawn in training (the model's held-out set)",
        "grammar": "a {color} {shape} on a {color} background",
        "colors": {k: list(v) for k, v in COLORS.items()},
        "shapes": SHAPES,
        "fill_ratio": FILL_RATIO,
        "image_check": ("background = palette colour nearest to the median of the 2-pixel border; object = the "
                        "largest 4-connected region of pixels whose nearest palette colour is not the background; "
                        "object colour = palette colour nearest to the region's median pixel; shape from the "
                        "region's fill ratio of its bounding box: >= 0.9 square, >= 0.64 circle, else triangle; "
                        "a region under 2 % of the image = no object (tools/model/evaluate.py)"),
        "heldout": [{"color": c, "shape": s, "background": b, "prompt": caption(c, s, b)}
                    for c, s, b in heldout_combos()],
    }


if __name__ == "__main__":
    print(json.dumps(heldout_json(), indent=1))
    rng = random.Random(0)
    imgs, _ = make_batch(rng, train_combos(), 16)
    grid = np.concatenate([np.concatenate(list(imgs[r * 4:(r + 1) * 4]), axis=1) for r in range(4)], axis=0)
    Image.fromarray(grid).save("/work/train/dataset_grid.png")
