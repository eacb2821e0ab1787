"""Measures the exported model: prompt adherence on held-out combinations, seed variation, VAE round trip.

  python3 evaluate.py --model models/tiny-sd-shapes [--seeds 4 --steps 20 --guidance 5 1]

Runs the ONNX files themselves (through check_onnx's small numpy interpreter, as Python has no ONNX Runtime
here), with the scheduler of scheduler_config.json (DDIM, eta 0, or PNDM's PLMS steps; leading spacing,
steps_offset 1; --scheduler overrides),
classifier-free guidance with the empty prompt as the unconditional one, and the model's native size.
The image check: background colour = nearest palette colour of the median border pixel; object = the
largest 4-connected region of pixels whose nearest palette colour is not the background's; object colour =
nearest palette colour of the region's median pixel; shape from the region's fill ratio of its bounding box
(square >= 0.9 > circle >= 0.64 > triangle; a region under 2 % of the image counts as no object).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import json
import random
import time

import numpy as np
import onnx

import check_onnx
import dataset
from clip_tokenizer import ClipTokenizer

PALETTE = np.array([dataset.COLORS[c] for c in dataset.COLOR_NAMES], np.float32)


# ----------------------------------------------------------------------------------------------- image check
def nearest_color(rgb):
    d = ((rgb[..., None, :].astype(np.float32) - PALETTE) ** 2).sum(-1)
    return d.argmin(-1)


def largest_component(mask):
    h, w = mask.shape
    seen = np.zeros_like(mask, bool)
    best = []
    for y0 in range(h):
        for x0 in range(w):
            if mask[y0, x0] and not seen[y0, x0]:
                stack, comp = [(y0, x0)], []
                seen[y0, x0] = True
                while stack:
                    y, x = stack.pop()
                    comp.append((y, x))
                    for yy, xx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not seen[yy, xx]:
                            seen[yy, xx] = True
                            stack.append((yy, xx))
                if len(comp) > len(best):
                    best = comp
    out = np.zeros_like(mask, bool)
    if best:
        ys, xs = zip(*best)
        out[list(ys), list(xs)] = True
    return out


def classify(img):
    """img uint8 HxWx3 -> dict(background, color, shape, cx, cy, size) (names or None)."""
    h, w, _ = img.shape
    border = np.concatenate([img[:2].reshape(-1, 3), img[-2:].reshape(-1, 3), img[:, :2].reshape(-1, 3),
                             img[:, -2:].reshape(-1, 3)])
    bg = int(nearest_color(np.median(border, axis=0)))
    lab = nearest_color(img)
    obj = largest_component(lab != bg)
    res = {"background": dataset.COLOR_NAMES[bg], "color": None, "shape": None, "cx": None, "cy": None,
           "size": None, "fill": None}
    n = int(obj.sum())
    if n < 0.02 * h * w:
        return res
    res["color"] = dataset.COLOR_NAMES[int(nearest_color(np.median(img[obj], axis=0)))]
    ys, xs = np.nonzero(obj)
    bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = n / float(bh * bw)
    res["fill"] = fill
    res["shape"] = "square" if fill >= 0.9 else ("circle" if fill >= 0.64 else "triangle")
    res["cx"], res["cy"], res["size"] = float(xs.mean()), float(ys.mean()), float(max(bh, bw))
    return res


def to_uint8(x):
    """[-1, 1] float NCHW -> uint8 NHWC."""
    return (np.clip((x + 1) / 2, 0, 1) * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


# ----------------------------------------------------------------------------------------------- model + scheduler
class OnnxModel:
    def __init__(self, folder):
        self.folder = folder
        self.m = {c: onnx.load(os.path.join(folder, c, "model.onnx"))
                  for c in ("text_encoder", "unet", "vae_encoder", "vae_decoder")}
        cfg = json.load(open(os.path.join(folder, "vae_decoder", "config.json")))
        self.sf = cfg["scaling_factor"]
        self.size = cfg["sample_size"]
        self.sched = json.load(open(os.path.join(folder, "scheduler", "scheduler_config.json")))
        self.tok = ClipTokenizer(os.path.join(folder, "tokenizer"))

    def text(self, prompts):
        ids = np.array([self.tok(p) for p in prompts], np.int32)
        return check_onnx.run(self.m["text_encoder"], {"input_ids": ids})[0]

    def unet(self, x, t, hs):
        return check_onnx.run(self.m["unet"], {"sample": x.astype(np.float32),
                                               "timestep": np.full(x.shape[0], t, np.float32),
                                               "encoder_hidden_states": hs})[0]

    def decode(self, z):
        return check_onnx.run(self.m["vae_decoder"], {"latent_sample": (z / self.sf).astype(np.float32)})[0]

    def encode(self, img):
        return check_onnx.run(self.m["vae_encoder"], {"sample": img.astype(np.float32)})[0] * self.sf


def alphas_cumprod(cfg):
    betas = np.linspace(cfg["beta_start"] ** 0.5, cfg["beta_end"] ** 0.5, cfg["num_train_timesteps"],
                        dtype=np.float32) ** 2
    return np.cumprod(1.0 - betas.astype(np.float64))


def sample(model, prompts, seeds, steps=20, guidance=5.0):
    """Samples with the scheduler named in the model's scheduler_config.json (DDIM or PNDM), or the one
    forced with --scheduler."""
    name = FORCE_SCHEDULER or model.sched["_class_name"]
    if name.startswith("DDIM"):
        return ddim_sample(model, prompts, seeds, steps, guidance)
    return pndm_sample(model, prompts, seeds, steps, guidance)


FORCE_SCHEDULER = None


def _eps(model, x, t, cond, uncond, guidance):
    if guidance > 1:
        e = model.unet(np.concatenate([x, x]), t, np.concatenate([uncond, cond])).astype(np.float64)
        eu, ec = e[:len(cond)], e[len(cond):]
        return _as_eps(model, eu + guidance * (ec - eu), x, t)
    return _as_eps(model, model.unet(x, t, cond).astype(np.float64), x, t)


def _as_eps(model, out, x, t):
    """The UNet's (guided) output as a noise prediction: v_prediction converted as diffusers' schedulers do."""
    if model.sched.get("prediction_type", "epsilon") == "v_prediction":
        a = alphas_cumprod(model.sched)[t]
        return a ** 0.5 * out + (1 - a) ** 0.5 * x
    return out


def ddim_sample(model, prompts, seeds, steps=20, guidance=5.0):
    """DDIM (eta 0), leading timestep spacing with steps_offset, as diffusers' DDIMScheduler."""
    cfg = model.sched
    ac = alphas_cumprod(cfg)
    final_ac = 1.0 if cfg.get("set_alpha_to_one") else ac[0]
    ratio = cfg["num_train_timesteps"] // steps
    ts = (np.arange(0, steps) * ratio).round()[::-1].astype(np.int64) + cfg.get("steps_offset", 0)
    lh = model.size // 8
    x = np.stack([np.random.default_rng(s).standard_normal((4, lh, lh)) for s in seeds]).astype(np.float64)
    cond = model.text(prompts)
    uncond = model.text([""] * len(prompts))
    for t in ts:
        t = int(t)
        eps = _eps(model, x, t, cond, uncond, guidance)
        prev_t = t - ratio
        a_t = ac[t]
        a_p = ac[prev_t] if prev_t >= 0 else final_ac
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        x = a_p ** 0.5 * x0 + (1 - a_p) ** 0.5 * eps
    return model.decode(x)


def pndm_sample(model, prompts, seeds, steps=20, guidance=5.0):
    """SD 1.5 PNDM (PLMS, skip_prk_steps) sampling; returns decoded images in [-1, 1]."""
    cfg = model.sched
    ac = alphas_cumprod(cfg)
    final_ac = 1.0 if cfg.get("set_alpha_to_one") else ac[0]
    ratio = cfg["num_train_timesteps"] // steps
    ts = np.arange(0, steps) * ratio + cfg.get("steps_offset", 0)
    ts = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1]
    lh = model.size // 8
    x = np.stack([np.random.default_rng(s).standard_normal((4, lh, lh)) for s in seeds]).astype(np.float64)
    cond = model.text(prompts)
    uncond = model.text([""] * len(prompts))
    ets, cur, counter = [], None, 0
    for t in ts:
        t = int(t)
        eps = _eps(model, x, t, cond, uncond, guidance)
        prev_t = t - ratio
        if counter != 1:
            ets = ets[-3:]
            ets.append(eps)
        else:
            prev_t = t
            t = t + ratio
        if len(ets) == 1 and counter == 0:
            e_use, cur = eps, x
        elif len(ets) == 1 and counter == 1:
            e_use = (eps + ets[-1]) / 2
            x, cur = cur, None
        elif len(ets) == 2:
            e_use = (3 * ets[-1] - ets[-2]) / 2
        elif len(ets) == 3:
            e_use = (23 * ets[-1] - 16 * ets[-2] + 5 * ets[-3]) / 12
        else:
            e_use = (55 * ets[-1] - 59 * ets[-2] + 37 * ets[-3] - 9 * ets[-4]) / 24
        a_t = ac[t]
        a_p = ac[prev_t] if prev_t >= 0 else final_ac
        b_t, b_p = 1 - a_t, 1 - a_p
        denom = a_t * b_p ** 0.5 + (a_t * b_t * a_p) ** 0.5
        x = (a_p / a_t) ** 0.5 * x - (a_p - a_t) * e_use / denom
        counter += 1
    return model.decode(x)


# ----------------------------------------------------------------------------------------------- measurements
def generate(model, prompts, seeds, steps, guidance, chunk=32):
    out = []
    for k in range(0, len(prompts), chunk):
        out.append(to_uint8(sample(model, prompts[k:k + chunk], seeds[k:k + chunk], steps, guidance)))
    return np.concatenate(out)


def adherence(model, combos, seeds, steps, guidance, save_grid=None):
    rows = []
    grid = []
    prompts = [dataset.caption(*c) for c in combos for _ in seeds]
    all_imgs = generate(model, prompts, [s for _ in combos for s in seeds], steps, guidance)
    for k, (c, s, b) in enumerate(combos):
        imgs = all_imgs[k * len(seeds):(k + 1) * len(seeds)]
        grid.append(np.concatenate(list(imgs), axis=1))
        for im in imgs:
            r = classify(im)
            rows.append({"want": (c, s, b), "got": r, "bg_ok": r["background"] == b, "color_ok": r["color"] == c,
                         "shape_ok": r["shape"] == s})
    if save_grid:
        from PIL import Image
        Image.fromarray(np.concatenate(grid, axis=0)).save(save_grid)
    res = {"n": len(rows), "background": np.mean([r["bg_ok"] for r in rows]),
           "object_color": np.mean([r["color_ok"] for r in rows]),
           "shape": np.mean([r["shape_ok"] for r in rows]),
           "all_three": np.mean([r["bg_ok"] and r["color_ok"] and r["shape_ok"] for r in rows])}
    for s in dataset.SHAPES:
        sel = [r["shape_ok"] for r in rows if r["want"][1] == s]
        res["shape_" + s] = float(np.mean(sel)) if sel else None
    return {k: (round(float(v), 3) if isinstance(v, (float, np.floating)) else v) for k, v in res.items()}


def seed_variation(model, combo, steps, guidance, n=8):
    imgs = to_uint8(sample(model, [dataset.caption(*combo)] * n, list(range(100, 100 + n)), steps, guidance))
    rs = [classify(im) for im in imgs]
    ok = [r for r in rs if r["cx"] is not None]
    f = lambda k: (round(float(np.std([r[k] for r in ok])), 2), round(float(np.min([r[k] for r in ok])), 1),
                   round(float(np.max([r[k] for r in ok])), 1)) if ok else None
    return {"prompt": dataset.caption(*combo), "images": n, "with_object": len(ok),
            "centre_x_std_min_max_px": f("cx"), "centre_y_std_min_max_px": f("cy"), "size_std_min_max_px": f("size")}


def vae_psnr(model, n=120, seed=7):
    rng = random.Random(seed)
    imgs, _ = dataset.make_batch(rng, dataset.heldout_combos(), n, model.size)
    x = dataset.to_tensor_range(imgs)
    ps = []
    for k in range(0, n, 20):
        y = model.decode(model.encode(x[k:k + 20]))
        mse = (((np.clip(y, -1, 1) - x[k:k + 20]) / 2) ** 2).reshape(len(y), -1).mean(1)
        ps += list(10 * np.log10(1.0 / np.maximum(mse, 1e-10)))
    return {"images": n, "mean_psnr_db": round(float(np.mean(ps)), 2), "min_psnr_db": round(float(np.min(ps)), 2)}


def classifier_selftest(n=300):
    rng = random.Random(11)
    ok = {"background": 0, "color": 0, "shape": 0}
    for _ in range(n):
        im, (c, s, b), _ = dataset.sample(rng, dataset.all_combos())
        r = classify(im)
        ok["background"] += r["background"] == b
        ok["color"] += r["color"] == c
        ok["shape"] += r["shape"] == s
    return {k: v / n for k, v in ok.items()}


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--model", default=os.path.join(here, "..", "..", "models", "tiny-sd-shapes"))
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, nargs="+", default=[5.0, 1.0])
    ap.add_argument("--train-combos", type=int, default=0, help="also measure this many training combinations")
    ap.add_argument("--out", default=None, help="write the results (JSON) and sample grids here")
    ap.add_argument("--scheduler", default=None, choices=["DDIMScheduler", "PNDMScheduler"],
                    help="sample with this scheduler instead of the model's scheduler_config.json")
    args = ap.parse_args()
    global FORCE_SCHEDULER
    FORCE_SCHEDULER = args.scheduler
    t0 = time.time()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    model = OnnxModel(args.model)
    out = {"classifier_on_dataset_images": classifier_selftest()}
    print("image check on data-set images:", out["classifier_on_dataset_images"], flush=True)
    out["vae_round_trip_heldout"] = vae_psnr(model)
    print("VAE round trip:", out["vae_round_trip_heldout"], flush=True)
    seeds = list(range(args.seeds))
    held = dataset.heldout_combos()
    for g in args.guidance:
        grid = os.path.join(args.out, f"heldout_g{g:g}.png") if args.out else None
        r = adherence(model, held, seeds, args.steps, g, grid)
        out[f"heldout_guidance_{g:g}"] = r
        print(f"held-out, guidance {g:g}, {args.steps} steps:", r, flush=True)
    if args.train_combos:
        tc = random.Random(5).sample(dataset.train_combos(), args.train_combos)
        r = adherence(model, tc, seeds, args.steps, args.guidance[0])
        out[f"train_guidance_{args.guidance[0]:g}"] = r
        print("training combinations:", r, flush=True)
    out["seed_variation"] = seed_variation(model, held[0], args.steps, args.guidance[0])
    print("seed variation:", out["seed_variation"], flush=True)
    out["settings"] = {"scheduler": args.scheduler or model.sched["_class_name"], "steps": args.steps, "seeds": seeds,
                       "size": model.size, "seconds": round(time.time() - t0)}
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "evaluation.json"), "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
