"""Masks for the embedded ControlNet: the object's outline as a binary mask, the picture drawn in two palette colours.

Shape families (random size, position, rotation; drawn at 4x and box-filtered, as dataset.py draws):
  circle, square, triangle (the base model's shapes, but any size 14-58 px and any position),
  ellipse, rectangle, ring, L-shape, star/polygon, letter (DejaVu Sans Bold glyphs) - shapes the base never saw.
The control image is what the plugin's `mask` pre-processor gives for a selection: white (1) inside, black (0)
outside, hard edges (coverage >= 0.5), three identical channels in [0, 1].
"""
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import dataset

FAMILIES = ["circle", "square", "triangle", "ellipse", "rectangle", "ring", "lshape", "star", "letter"]
LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SS = dataset.SUPERSAMPLE
N = dataset.IMAGE_SIZE


def colour_pairs(split="base"):
    """(train pairs, held-out pairs), 15 (object, background) pairs each.

    "base": the base model's 15 held-out pairs are held out here too. That split is lopsided for a ControlNet: green
    is the object of one training pair only and red the background of one, so the held-out pairs ask for roles the
    ControlNet has barely seen. "balanced": a cyclic split over dataset.COLOR_NAMES, pairs (i, i + 1) and (i, i + 2)
    mod 6 and (i, i + 3) for i < 3 trained, the rest held out, so every colour is the object of 2-3 training pairs and
    the background of 2-3, and every held-out pair's colours have been seen in both roles.
    """
    names = dataset.COLOR_NAMES
    if split == "base":
        held = [(c, b) for c, _, b in dataset.heldout_combos()]
    elif split == "balanced":
        n = len(names)
        train = [(names[i], names[(i + k) % n]) for k in (1, 2) for i in range(n)] + \
            [(names[i], names[(i + 3) % n]) for i in range(n // 2)]
        held = [(c, b) for c in names for b in names if c != b and (c, b) not in train]
    else:
        raise ValueError("split: base or balanced, not " + split)
    train = [(c, b) for c in names for b in names if c != b and (c, b) not in held]
    return train, held


def _rot(points, cx, cy, angle):
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + (x - cx) * ca - (y - cy) * sa, cy + (x - cx) * sa + (y - cy) * ca) for x, y in points]


def coverage(rng, family):
    """A float32 [N, N] coverage map in [0, 1] of one random shape of `family`."""
    big = N * SS
    img = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(img)
    size = rng.uniform(14, 58)
    m = 2 + size / 2
    cx, cy = rng.uniform(m, N - m) * SS, rng.uniform(m, N - m) * SS
    h = size * SS / 2
    angle = rng.uniform(0, math.pi)
    if family == "circle":
        d.ellipse([cx - h, cy - h, cx + h, cy + h], fill=255)
    elif family == "square":
        d.rectangle([cx - h, cy - h, cx + h, cy + h], fill=255)
    elif family == "triangle":
        d.polygon([(cx, cy - h), (cx + h, cy + h), (cx - h, cy + h)], fill=255)
    elif family == "ellipse":
        b = h * rng.uniform(0.35, 0.75)
        pts = [(cx + h * math.cos(a), cy + b * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 64, endpoint=False)]
        d.polygon(_rot(pts, cx, cy, angle), fill=255)
    elif family == "rectangle":
        b = h * rng.uniform(0.3, 0.8)
        d.polygon(_rot([(cx - h, cy - b), (cx + h, cy - b), (cx + h, cy + b), (cx - h, cy + b)], cx, cy, angle),
                  fill=255)
    elif family == "ring":
        h = max(h, 11 * SS)
        r = h * rng.uniform(0.35, 0.6)
        d.ellipse([cx - h, cy - h, cx + h, cy + h], fill=255)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=0)
    elif family == "lshape":
        t = h * rng.uniform(0.35, 0.6)
        pts = [(cx - h, cy - h), (cx - h + t, cy - h), (cx - h + t, cy + h - t), (cx + h, cy + h - t), (cx + h, cy + h),
               (cx - h, cy + h)]
        d.polygon(_rot(pts, cx, cy, rng.choice([0, 0.5 * math.pi, math.pi, 1.5 * math.pi]) + rng.uniform(-0.3, 0.3)),
                  fill=255)
    elif family == "star":
        k = rng.randint(4, 7)
        inner = rng.uniform(0.45, 0.75)
        pts = []
        for i in range(2 * k):
            rr = h if i % 2 == 0 else h * inner
            a = angle + i * math.pi / k
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        d.polygon(pts, fill=255)
    else:  # letter
        size = max(size, 30)
        font = ImageFont.truetype(FONT, int(size * SS))
        ch = rng.choice(LETTERS)
        x0, y0, x1, y1 = d.textbbox((0, 0), ch, font=font)
        w, hh = x1 - x0, y1 - y0
        cx = rng.uniform(2 * SS + w / 2, big - 2 * SS - w / 2) if w < big - 4 * SS else big / 2
        cy = rng.uniform(2 * SS + hh / 2, big - 2 * SS - hh / 2) if hh < big - 4 * SS else big / 2
        d.text((cx - w / 2 - x0, cy - hh / 2 - y0), ch, font=font, fill=255)
    small = img.resize((N, N), Image.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def draw(cov, color, bg):
    """The picture: uint8 [N, N, 3], colour where covered, background elsewhere (anti-aliased); colours are palette
    names or RGB triples."""
    c = np.array(dataset.COLORS[color] if isinstance(color, str) else color, np.float32)
    b = np.array(dataset.COLORS[bg] if isinstance(bg, str) else bg, np.float32)
    return np.round(b + (c - b) * cov[..., None]).astype(np.uint8)


def mask(cov):
    """The control image's one channel: 1 where the coverage is at least a half."""
    return (cov >= 0.5).astype(np.float32)


def shape_word(rng, family):
    """The caption's shape word: the base model knows only three; for the others any of them (the mask decides)."""
    if family in dataset.SHAPES and rng.random() < 0.5:
        return family
    return rng.choice(dataset.SHAPES)
