"""Trains the embedded ControlNet: a binary mask of the object gives shape and position, the prompt the colours.

  python3 tools/model/train_controlnet.py --base models/tiny-sd-shapes --steps 4000 --out /work/train/cn
  python3 tools/model/train_controlnet.py --base models/tiny-sd-shapes --init OLD/controlnet.pt --steps 1500 ...
  python3 tools/model/train_controlnet.py --base models/tiny-sd-shapes --out /work/train/cn --export \
      --controlnet-dir models/tiny-sd-shapes-controlnet
  python3 tools/model/train_controlnet.py --base models/tiny-sd-shapes --init models/tiny-sd-shapes-controlnet \
      --split balanced --out /work/train/empty --export   # the shipped ControlNet with a retrained base, as it is

The network is diffusers' ControlNetModel (make_controlnet_fixture.ControlNet) for the embedded UNet: a copy of the
base UNet's encoder half (conv_in, time embedding, down blocks, mid block) initialised from the base weights, the mask
through a conditioning embedding (three stride-2 3x3 convolutions, 64 px -> 8 latent px) added after conv_in, and a
zero-initialised 1x1 convolution per skip and for the mid block (so training starts from the base model's output).
The base model (text encoder, UNet, VAE) stays frozen. Objective: the base model's (its prediction type, epsilon or v; min-SNR-5), the residuals
added to the base UNet's skips; 15 % empty captions (classifier-free guidance feeds the control to both halves).
The ControlNet reads the prompt, as diffusers' does. A prompt-free variant (--prompt-free 1: the empty prompt's
states whatever the prompt) was tried against colour errors and measured worse (held-out IoU 0.76 at step 1250 vs
0.90 for the shipped one): those colour errors were the VAE's, on strokes thinner than a latent pixel (wide_enough).

Data (controlnet_data.py): nine shape families - the base's circle, square and triangle at any size and position, and
ellipses, rectangles, rings, L-shapes, stars and letters it never saw - in 15 of the 30 colour pairs; the other 15
(--split base, shipped: the base model's held-out pairs; --split balanced: every colour the object of 2-3 training
pairs and the background of 2-3, controlnet_data.colour_pairs) and a separately seeded set of masks
(heldout(): 4 per family, every part at least STROKE px wide; written as heldout_masks.png + heldout.json beside
the ControlNet) are for measuring only.

Export (--export): model.onnx in the ControlNet folder (OnnxStack's newer layout: sample, timestep,
encoder_hidden_states, controlnet_cond f32 [B,3,H,W] in [0,1], conditioning_scale f64 [1] -> the residuals, scaled)
and the base folder's controlnet/model.onnx (the base UNet taking the residuals as extra inputs).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import json
import random
import time

import numpy as np
import torch
from PIL import Image

import adapt_common
import controlnet_data as cd
import dataset
import make_controlnet_fixture as fx
from clip_tokenizer import ClipTokenizer
from common import UNET_CFG, lr_at, save_atomic, seed_all

HERE = os.path.dirname(os.path.abspath(__file__))
EMBEDDING_CHANNELS = (16, 32, 64, 64)
HELDOUT_PER_FAMILY = 4
STROKE = 7  # px: the thinnest part of a held-out mask (wide_enough)


def make_controlnet(base_unet, cfg=None):
    """A ControlNet for `base_unet`: by default a copy of its encoder half (cfg None); with cfg (an exported
    ControlNet's architecture, read into it afterwards: load_exported) that architecture, initialised at random."""
    net = fx.ControlNet(cfg or base_unet.cfg)
    net.cond_embedding = fx.ConditioningEmbedding(net.unet.cfg["block_out_channels"][0], EMBEDDING_CHANNELS)
    if cfg is None:
        net.unet.load_state_dict(base_unet.state_dict())
    with torch.no_grad():  # zero convolutions: at the start the residuals are 0 and the output is the base model's
        for conv in list(net.skip_convs) + [net.mid_conv, net.cond_embedding.conv_out]:
            conv.weight.zero_()
            conv.bias.zero_()
    return net


def load_exported(net, folder):
    """Reads an exported ControlNet (folder/model.onnx, --export's) into `net`, which has its architecture: the
    repository keeps no checkpoints, so a ControlNet is adapted to a retrained base from what was shipped. Only the
    parts the export holds (the encoder half, the conditioning embedding, the zero convolutions) are read."""
    used = ("unet.conv_in.", "unet.time_linear_", "unet.down.", "unet.mid_", "cond_embedding.", "skip_convs.",
            "mid_conv.")
    names = residual_names(len(net.skip_convs))
    adapt_common.load_into(net, lambda m, p: fx.export_controlnet(m, p, with_scale=True, residual_names=names), "",
                           os.path.join(folder, "model.onnx"), only=used)


class PromptFree(torch.nn.Module):
    """The ControlNet with the empty prompt's text states in place of the prompt's: it reads only the mask.

    Tried because the prompt-reading ControlNet got held-out colour pairs wrong (object colour 83 % on the first,
    thinner held-out masks); measured worse (IoU 0.76 at step 1250 vs 0.90), and those colour errors turned out to be
    the VAE's (wide_enough). Kept to repeat the comparison: --prompt-free 1. The
    encoder_hidden_states input stays in the exported graph (OnnxStack's inputs; the pipeline feeds it), times 0.
    """

    def __init__(self, net, empty_states):
        super().__init__()
        self.net = net
        self.unet = net.unet  # what export_controlnet reads
        self.skip_convs = net.skip_convs
        self.register_buffer("context", empty_states.detach().clone())

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=None):
        context = self.context + 0 * encoder_hidden_states[:, :1, :1]  # [B, 77, width]
        return self.net(sample, timestep, context, controlnet_cond, conditioning_scale)


class SampleBlind(torch.nn.Module):
    """The ControlNet with the noisy latents replaced by zeros: its residuals depend on the mask, the prompt and the
    timestep only, so they cannot key on the colours it sees in the latents. The sample input stays in the exported
    graph (OnnxStack's inputs), times 0."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.unet = net.unet
        self.skip_convs = net.skip_convs

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=None):
        return self.net(sample * 0, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale)


def residual_names(n_skips):
    return ["down_block_%d_additional_residual" % i for i in range(n_skips)] + ["mid_block_additional_residual"]


def random_colours(rng, held):
    """An (object, background) pair of random RGB colours, visibly apart, whose nearest palette colours are neither
    equal nor a held-out pair (so held-out pairs stay unseen, with or without their caption)."""
    names = list(dataset.COLORS)
    pal = np.array([dataset.COLORS[k] for k in names], np.float32)
    while True:
        c, b = (np.array([rng.randrange(256) for _ in range(3)], np.float32) for _ in range(2))
        nc = names[int(np.argmin(((pal - c) ** 2).sum(1)))]
        nb = names[int(np.argmin(((pal - b) ** 2).sum(1)))]
        if nc != nb and (nc, nb) not in held and np.abs(c - b).max() >= 100:
            return c, b


def make_data(vae, n, seed, pairs, random_share=0.0, split="base"):
    """Latents (unscaled encoder means), masks (uint8 0/1), caption keys (colour, word, background); with
    random_share, that share of the images has random colours and the empty caption (key ("", "", ""))."""
    rng = random.Random(seed)
    held = set(cd.colour_pairs(split)[1])
    lat, masks, keys = [], [], []
    with torch.no_grad():
        for k in range(0, n, 100):
            imgs = []
            for _ in range(min(100, n - k)):
                family = rng.choice(cd.FAMILIES)
                cov = cd.coverage(rng, family)
                if random_share and rng.random() < random_share:
                    c, b = random_colours(rng, held)
                    imgs.append(cd.draw(cov, c, b))
                    keys.append(("", "", ""))
                else:
                    color, bg = rng.choice(pairs)
                    imgs.append(cd.draw(cov, color, bg))
                    keys.append((color, cd.shape_word(rng, family), bg))
                masks.append(cd.mask(cov).astype(np.uint8))
            mean, _ = vae.encode(torch.from_numpy(dataset.to_tensor_range(np.stack(imgs))))
            lat.append(mean)
    return torch.cat(lat), torch.from_numpy(np.stack(masks)), keys


def opening(mask, k):
    """Binary opening with a k x k square (erosion then dilation), in numpy."""
    def slide(a, op):
        p = np.pad(a, k // 2)  # outside the image is background
        out = a.copy()
        for dy in range(k):
            for dx in range(k):
                out = op(out, p[dy:dy + a.shape[0], dx:dx + a.shape[1]])
        return out
    return slide(slide(mask, np.minimum), np.maximum)


def wide_enough(mask, k=STROKE, keep=0.8):
    """Every part of the object about k px wide or wider: an opening with a k x k square keeps >= 80 % of its area.

    The model's latent grid is 8 px per latent pixel; strokes much thinner than that are not drawn by the shipped VAE
    even from a perfect latent: its reconstructions of thin held-out L-shapes and letters came back at IoU 0.54-0.67
    and, for 3 of 36 masks, in another colour (yellow -> red, black -> blue).
    """
    m = mask > 0.5
    return opening(m.astype(np.uint8), k).sum() >= keep * m.sum()


def heldout(seed=4242, split="base"):
    """Held-out masks (HELDOUT_PER_FAMILY per family, object at least 20 px) with held-out colour pairs."""
    rng = random.Random(seed)
    _, pairs = cd.colour_pairs(split)
    out = []
    for family in cd.FAMILIES:
        got = 0
        while got < HELDOUT_PER_FAMILY:
            cov = cd.coverage(rng, family)
            m = cd.mask(cov)
            ys, xs = np.nonzero(m)
            if len(ys) == 0 or max(ys.max() - ys.min(), xs.max() - xs.min()) < 20 or not wide_enough(m):
                continue
            color, bg = pairs[len(out) % len(pairs)]
            out.append({"family": family, "mask": m, "color": color, "background": bg,
                        "prompt": dataset.caption(color, cd.shape_word(rng, family), bg)})
            got += 1
    return out


def write_heldout(folder, items):
    strip = np.concatenate([(it["mask"] * 255).astype(np.uint8) for it in items], axis=1)
    Image.fromarray(strip).save(os.path.join(folder, "heldout_masks.png"))
    with open(os.path.join(folder, "heldout.json"), "w") as f:
        json.dump({"description": "Held-out control masks (never drawn in training) with held-out colour pairs: mask "
                                  "i is the 64x64 tile i of heldout_masks.png (white = object)",
                   "colors": {k: list(v) for k, v in dataset.COLORS.items()},
                   "measure": "object = pixels whose nearest of the two prompted colours is the object colour; "
                              "IoU with the mask; background = nearest palette colour to the median of the 2-pixel "
                              "border, object colour = nearest palette colour to the median of the object pixels",
                   "heldout": [{k: v for k, v in it.items() if k != "mask"} for it in items]}, f, indent=1)


def ddim(te_states, empty, unet, net, vae, sf, masks, seed, scale=1.0, steps=20, guidance=5.0):
    """adapt_common's DDIM loop with the ControlNet's residuals; the control to both halves. uint8 NHWC."""
    n = te_states.shape[0]
    cond = torch.from_numpy(np.repeat(masks[:, None].astype(np.float32), 3, 1))
    cond2 = torch.cat([cond, cond])
    hs = torch.cat([empty.expand(n, -1, -1), te_states])

    def eps(xx, tt):
        res = [r * scale for r in net(xx, tt, hs, cond2)]
        return unet(xx, tt, hs, down_residuals=list(res[:-1]), mid_residual=res[-1])

    return adapt_common.ddim_loop(eps, vae, sf, n, seed, steps, guidance,
                                  getattr(unet, "prediction_type", "epsilon"), adapt_common.schedule(unet))


def measure(img, item):
    """(IoU, background right, object colour right) as heldout.json's "measure" says."""
    pal = {k: np.array(v, np.float32) for k, v in dataset.COLORS.items()}
    px = img.astype(np.float32)
    d_obj = ((px - pal[item["color"]]) ** 2).sum(-1)
    d_bg = ((px - pal[item["background"]]) ** 2).sum(-1)
    obj = d_obj < d_bg
    m = item["mask"] > 0.5
    iou = (obj & m).sum() / max(1, (obj | m).sum())
    names = list(pal)
    arr = np.stack([pal[k] for k in names])
    border = np.concatenate([img[:2].reshape(-1, 3), img[-2:].reshape(-1, 3), img[:, :2].reshape(-1, 3),
                             img[:, -2:].reshape(-1, 3)]).astype(np.float32)
    bg = names[int(np.argmin(((np.median(border, 0)[None] - arr) ** 2).sum(-1)))]
    oc = names[int(np.argmin(((np.median(px[obj], 0)[None] - arr) ** 2).sum(-1)))] if obj.any() else None
    return iou, bg == item["background"], oc == item["color"]


def evaluate(te, unet, net, vae, sf, items, tok, seeds=(0,), scale=1.0, steps=20, guidance=5.0):
    ids = torch.tensor([tok(it["prompt"]) for it in items], dtype=torch.long)
    with torch.no_grad():
        states, _ = te(ids)
        empty, _ = te(torch.tensor([tok("")], dtype=torch.long))
    masks = np.stack([it["mask"] for it in items])
    rows = []
    for s in seeds:
        imgs = ddim(states, empty, unet, net, vae, sf, masks, s, scale, steps, guidance)
        rows += [measure(im, it) for im, it in zip(imgs, items)]
    r = np.array(rows, dtype=np.float64)
    per = {}
    for (iou, _, _), it in zip(rows, items * len(seeds)):
        per.setdefault(it["family"], []).append(iou)
    return r[:, 0].mean(), r[:, 1].mean(), r[:, 2].mean(), {k: round(float(np.mean(v)), 3) for k, v in per.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=adapt_common.MODEL)
    ap.add_argument("--steps", type=int, default=4000)  # the shipped run
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--drop", type=float, default=0.15)
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--out", default="/work/train/cn")
    ap.add_argument("--max-minutes", type=float, default=60)
    ap.add_argument("--prompt-free", type=int, default=0, help="1: the ControlNet reads the empty prompt (PromptFree; measured worse)")
    ap.add_argument("--random-colours", type=float, default=0.0,
                    help="share of training images in random colours with the empty caption (colour-agnostic masks)")
    ap.add_argument("--sample-blind", type=int, default=0, help="1: the ControlNet reads zeros for the noisy latents")
    ap.add_argument("--split", default="base", choices=["base", "balanced"],
                    help="which 15 colour pairs are held out (controlnet_data.colour_pairs)")
    ap.add_argument("--freeze", default="",
                    help="comma-separated parameter-name parts kept at the base's weights in the copy (e.g. attn2)")
    ap.add_argument("--snr-gamma", type=float, default=5.0,
                    help="min-SNR weighting of the loss (the base model's: 5); 0: plain MSE (diffusers' "
                         "ControlNet training), more weight on the low-noise steps that draw the outline")
    ap.add_argument("--object-loss", type=float, default=0.0,
                    help="weight of an extra loss on the denoised object channel (the base VAE's fourth, "
                         "train_vae.py --object-channel), in x0 terms up to SNR 1/20: where the object is must not "
                         "wait for the low-noise steps, or guidance amplifies the conditional and unconditional "
                         "halves' disagreement about it")
    ap.add_argument("--x0-loss", type=float, default=0.0,
                    help="weight of the same x0 loss on all four latent channels")
    ap.add_argument("--guided-loss", type=float, default=0.0,
                    help="weight of an x0 loss on the object channel of the classifier-free-guided prediction "
                         "(guidance drawn from 2-8; the unconditional half run too): the object channel is fixed by "
                         "the mask whatever the prompt, so the guided one has an exact target")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of an exponential moving average of the weights, evaluated and exported (0: none)")
    ap.add_argument("--init", default=None,
                    help="a ControlNet checkpoint whose weights (its EMA weights if it has them) start this run, with a "
                         "fresh optimiser at step 0: adapting a ControlNet to a retrained base; or an exported "
                         "ControlNet's folder (models/tiny-sd-shapes-controlnet)")
    ap.add_argument("--export", action="store_true", help="only export the trained ControlNet (and measure it)")
    ap.add_argument("--table", action="store_true",
                    help="with --export: also measure DDIM at 10 and 20 steps, guidance 3, 5, 7 and 9 (the card's table)")
    ap.add_argument("--controlnet-dir", default=os.path.join(HERE, "..", "..", "models", "tiny-sd-shapes-controlnet"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    os.makedirs(args.out, exist_ok=True)
    te, unet, vae, sf, _, _ = adapt_common.load_model(args.base)
    tok = ClipTokenizer()
    # an exported ControlNet to start from keeps its own architecture (one transformer block per attention, as the
    # shipped bases); otherwise the ControlNet copies the base UNet's
    exported = args.init if args.init and os.path.isdir(args.init) else None
    ck_path = os.path.join(args.out, "controlnet.pt")
    ck = torch.load(ck_path) if os.path.exists(ck_path) else None  # a run being resumed or exported
    cn_cfg = ck.get("controlnet_cfg") if ck is not None else UNET_CFG if exported else None
    net = make_controlnet(unet, cn_cfg)
    with torch.no_grad():
        empty_states, _ = te(torch.tensor([tok("")], dtype=torch.long))
    def wrap(n):
        c = PromptFree(n, empty_states) if args.prompt_free else n
        return SampleBlind(c) if args.sample_blind else c

    control = wrap(net)
    items = heldout(split=args.split)

    if args.export:
        if exported and ck is None:  # re-export a shipped ControlNet for a retrained base as it is
            load_exported(net, exported)
        else:
            net.load_state_dict(ck["ema"] if args.ema and "ema" in ck else ck["controlnet"])
        control.eval()
        export(control, unet, args.base, args.controlnet_dir, items)
        for scale in (1.0, 0.0):
            iou, bg, col, per = evaluate(te, unet, control, vae, sf, items, tok, seeds=(0, 1), scale=scale)
            print(f"held-out masks, scale {scale}: IoU {iou:.3f} background {bg:.3f} object colour {col:.3f} {per}")
        for steps in ((20, 10) if args.table else ()):
            for guidance in (3.0, 5.0, 7.0, 9.0):
                iou, bg, col, _ = evaluate(te, unet, control, vae, sf, items, tok, (0, 1), 1.0, steps, guidance)
                print(f"DDIM {steps} steps, guidance {guidance:g}: IoU {iou:.3f} / background {100 * bg:.1f} % / "
                      f"object colour {100 * col:.1f} %", flush=True)
        return

    train_pairs, _ = cd.colour_pairs(args.split)
    data_path = os.path.join(args.out, "data.pt")
    if os.path.exists(data_path):
        data = torch.load(data_path)
    else:
        t0 = time.time()
        lat, masks, keys = make_data(vae, args.n, args.seed + 100, train_pairs, args.random_colours,
                                     args.split)
        data = {"latents": lat, "masks": masks, "keys": keys}
        save_atomic(data, data_path)
        print(f"drew and encoded {args.n} training images in {time.time() - t0:.0f} s", flush=True)
    captions = sorted(set(data["keys"]))
    cap_index = {k: i for i, k in enumerate(captions)}
    with torch.no_grad():
        states, _ = te(torch.tensor([tok(dataset.caption(*k) if k[0] else "") for k in captions], dtype=torch.long))
        empty, _ = te(torch.tensor([tok("")], dtype=torch.long))
    label = torch.tensor([cap_index[k] for k in data["keys"]])

    frozen = [f for f in args.freeze.split(",") if f]
    for name, p in net.named_parameters():
        p.requires_grad_(not any(f in name for f in frozen))
    params = [p for p in net.parameters() if p.requires_grad]
    net.train()
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step = 0
    if ck is not None:
        net.load_state_dict(ck["controlnet"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step = ck["step"]
        print(f"resumed at step {step}", flush=True)
    elif exported:
        load_exported(net, exported)
        print(f"started from the ControlNet exported to {exported}", flush=True)
    elif args.init:
        ck_init = torch.load(args.init)
        net.load_state_dict(ck_init.get("ema", ck_init["controlnet"]))
        print(f"started from {args.init} (its step {ck_init['step']})", flush=True)
    ema_net, ema_steps = None, 0
    if args.ema:
        # diffusers' use_ema: an average of the weights along training, started where this run starts if the
        # checkpoint has none; it is what is evaluated and exported
        ema_net = make_controlnet(unet, cn_cfg)
        ema_net.load_state_dict(ck["ema"] if ck is not None and "ema" in ck else net.state_dict())
        ema_steps = ck.get("ema_steps", 0) if ck is not None else 0
        for p in ema_net.parameters():
            p.requires_grad_(False)
        ema_control = wrap(ema_net)

    def save():
        save_atomic({"controlnet": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                     "embedding_channels": EMBEDDING_CHANNELS, "controlnet_cfg": dict(net.unet.cfg),
                     "prompt_free": bool(args.prompt_free), "sample_blind": bool(args.sample_blind),
                     "split": args.split,
                     **({"ema": ema_net.state_dict(), "ema_steps": ema_steps} if ema_net is not None else {})},
                    ck_path)

    ac = adapt_common.schedule(unet)
    snr = ac / (1 - ac)
    v_prediction = getattr(unet, "prediction_type", "epsilon") == "v_prediction"
    weight = adapt_common.loss_weight(unet, snr, args.snr_gamma) if args.snr_gamma else torch.ones_like(snr)
    # an x0 error is the epsilon error / sqrt(SNR) (capped at SNR 1/20), or the v error * sqrt(1 - alpha_bar)
    x0_weight = 1 / (snr + 1) if v_prediction else torch.clamp(1 / snr, max=20.0)
    n = data["latents"].shape[0]
    t0 = time.time()
    hist = []
    print(f"controlnet parameters: {sum(p.numel() for p in net.parameters() if p.requires_grad)}", flush=True)
    while step < args.steps:
        idx = torch.randint(0, n, (args.batch,), generator=gen)
        z = data["latents"][idx] * sf
        cond = data["masks"][idx].float()[:, None].expand(-1, 3, -1, -1)
        hs = states[label[idx]].clone()
        drop = torch.rand(args.batch, generator=gen) < args.drop
        hs[drop] = empty[0]
        t = torch.randint(0, len(ac), (args.batch,), generator=gen)
        noise = torch.randn(z.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * z + (1 - a).sqrt() * noise
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, 100)
        res = control(x_t, t.float(), hs, cond)
        pred = unet(x_t, t.float(), hs, down_residuals=list(res[:-1]), mid_residual=res[-1])
        target = adapt_common.loss_target(unet, z, noise, a)
        error = pred - target
        per = (error ** 2).flatten(1).mean(1)
        loss = (per * weight[t]).mean()
        if args.object_loss:  # the object channel (index 3) in x0 terms
            loss = loss + args.object_loss * ((error[:, 3] ** 2).flatten(1).mean(1) * x0_weight[t]).mean()
        if args.x0_loss:  # all four channels in x0 terms
            loss = loss + args.x0_loss * (per * x0_weight[t]).mean()
        if args.guided_loss:  # the guided prediction's object channel in x0 terms
            unconditional = empty.expand(args.batch, -1, -1)
            res_u = control(x_t, t.float(), unconditional, cond)
            pred_u = unet(x_t, t.float(), unconditional, down_residuals=list(res_u[:-1]), mid_residual=res_u[-1])
            guidance = (2 + 6 * torch.rand(args.batch, generator=gen)).view(-1, 1, 1)
            guided = pred_u[:, 3] + guidance * (pred[:, 3] - pred_u[:, 3])
            guided_error = guided - target[:, 3]
            loss = loss + args.guided_loss * ((guided_error ** 2).flatten(1).mean(1) * x0_weight[t]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if ema_net is not None:
            ema_steps += 1
            d = min(args.ema, (1 + ema_steps) / (10 + ema_steps))
            with torch.no_grad():
                for pe, p in zip(ema_net.parameters(), net.parameters()):
                    pe.mul_(d).add_(p.detach(), alpha=1 - d)
        hist.append(loss.item())
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(hist):.4f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"{(time.time() - t0) / 60:.1f} min", flush=True)
            hist = []
        if step % args.eval_every == 0 or step == args.steps:
            save()
            judged = control if ema_net is None else ema_control
            judged.eval()
            iou, bg, col, per = evaluate(te, unet, judged, vae, sf, items[::2], tok)
            control.train()
            print(f"  eval step {step}: IoU {iou:.3f} background {bg:.3f} object colour {col:.3f} {per}", flush=True)
        if (time.time() - t0) / 60 > args.max_minutes:
            print("max minutes reached, stopping (rerun to resume)", flush=True)
            break
    save()
    print(f"done {step} steps in {(time.time() - t0) / 60:.1f} min", flush=True)


def export(net, unet, base, folder, items):
    os.makedirs(folder, exist_ok=True)
    n_skips = len(net.skip_convs)
    names = residual_names(n_skips)
    fx.export_controlnet(net, os.path.join(folder, "model.onnx"), with_scale=True, residual_names=names)
    fx.export_residual_unet(unet, os.path.join(base, "controlnet", "model.onnx"), residual_names=names)
    write_heldout(folder, items)
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    print(f"exported {folder}/model.onnx ({size / 1e6:.2f} MB) and {base}/controlnet/model.onnx", flush=True)


if __name__ == "__main__":
    main()
