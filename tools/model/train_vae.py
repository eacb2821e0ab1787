"""Trains the KL autoencoder on procedurally drawn images (training combinations only).

Loss: L1 + MSE + L1 of image gradients (keeps edges sharp) + a small KL term; the decoder always sees a
sample of the posterior, which keeps it tolerant of the small latent errors a diffusion model makes.

With --linear-colour W (issue 12's second base model) the latent space is made linear in colour, as Stable
Diffusion's is (a 4x3 matrix previews its latents): the first three latent channels are pulled (weight W, MSE)
towards the image's RGB averaged over each 8x8 block, the fourth (kept small) is free for what averaging loses (where an
edge lies inside a block). Classifier-free guidance extrapolates latents, x0 = uncond + g (cond - uncond); in the first
model's latent space, where the six colours sat at arbitrary points, twice the distance from the mean already
decoded red as yellow and blue as black, and guidance 7-9 drew blobs of other colours. With --extrapolate P a share
P of each batch is decoded from z + s (z - z'), z' another image's latents, s uniform in [0, --max-s], against the
clipped image x + s (x - x'): the decoder saturates the way the linear latent space suggests.
Seeded and resumable: the checkpoint holds weights, optimiser, step and RNG states.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads collapse on a shared, busy machine
import argparse
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import dataset
from common import VAE_CFG, WORK, lr_at, save_atomic, seed_all
from models import AutoencoderKL, count


def grad_l1(y, x):
    dx = lambda t: t[:, :, :, 1:] - t[:, :, :, :-1]
    dy = lambda t: t[:, :, 1:, :] - t[:, :, :-1, :]
    return (dx(y) - dx(x)).abs().mean() + (dy(y) - dy(x)).abs().mean()


def object_coverage(x):
    """[B, H/8, W/8]: the share of each 8x8 block that is object, whatever the two colours: a pixel's distance from
    the background colour (the median of the 2-px border) over the image's largest such distance (the object colour;
    anti-aliased edges in between)."""
    border = torch.cat([x[:, :, :2].flatten(2), x[:, :, -2:].flatten(2), x[:, :, :, :2].flatten(2),
                        x[:, :, :, -2:].flatten(2)], 2)
    bg = border.median(2).values[:, :, None, None]
    d = ((x - bg) ** 2).sum(1).sqrt()
    cov = d / d.flatten(1).max(1).values.clamp(min=1e-3)[:, None, None]
    return F.avg_pool2d(cov[:, None], 8)[:, 0]


def psnr(y, x):
    """PSNR in dB of images in [-1, 1], measured on the [0, 1] scale."""
    mse = (((y.clamp(-1, 1) - x) / 2) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1.0 / mse.clamp_min(1e-10)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--kl", type=float, default=1e-6)
    ap.add_argument("--linear-colour", type=float, default=0.0, help="weight of the linear colour latent term")
    ap.add_argument("--extrapolate", type=float, default=0.0, help="share of each batch decoded extrapolated")
    ap.add_argument("--object-channel", type=int, default=0,
                    help="1: with --linear-colour, the fourth channel is pulled to where the object is, whatever its "
                         "colours (object_coverage), instead of kept small")
    ap.add_argument("--max-s", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(WORK, "vae.pt"))
    ap.add_argument("--max-minutes", type=float, default=1e9, help="stop early (checkpoint kept, rerun resumes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    vae = AutoencoderKL(VAE_CFG)
    opt = torch.optim.Adam(vae.parameters(), lr=args.lr)
    rng = random.Random(args.seed)
    step = 0
    if os.path.exists(args.out):
        ck = torch.load(args.out)
        vae.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        rng.setstate(ck["py_rng"])
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed at step {step}", flush=True)
    print(f"VAE params: encoder {count(vae.encoder)}, decoder {count(vae.decoder)}", flush=True)
    combos = dataset.train_combos()
    t0 = time.time()
    last_save = time.time()
    hist = []

    def save():
        save_atomic({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step, "cfg": dict(VAE_CFG),
                     "py_rng": rng.getstate(), "torch_rng": torch.get_rng_state()}, args.out)

    while step < args.steps:
        imgs, _ = dataset.make_batch(rng, combos, args.batch)
        x = torch.from_numpy(dataset.to_tensor_range(imgs))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, 100)
        mean, logvar = vae.encode(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        target = x
        k = int(round(args.extrapolate * args.batch))
        if k:  # the first k images: extrapolated away from the next image of the batch
            s = torch.rand(k, 1, 1, 1) * args.max_s
            z = torch.cat([z[:k] + s * (z[:k] - z[1:k + 1]), z[k:]])
            target = torch.cat([(x[:k] + s * (x[:k] - x[1:k + 1])).clamp(-1, 1), x[k:]])
        y = vae.decode(z)
        # the fourth channel is kept small (0.1 weight) so that colour stays in the linear three, or holds the object
        fourth = 2 * object_coverage(x) - 1 if args.object_channel else torch.zeros_like(mean[:, 3])
        w4 = 1.0 if args.object_channel else 0.1
        lin = (((mean[:, :3] - F.avg_pool2d(x, 8)) ** 2).mean() + w4 * ((mean[:, 3] - fourth) ** 2).mean()
               if args.linear_colour else torch.zeros(()))
        l1 = (y - target).abs().mean()
        mse = ((y - target) ** 2).mean()
        gl = grad_l1(y, target)
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = l1 + mse + gl + args.kl * kl + args.linear_colour * lin
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        hist.append([l1.item(), gl.item(), psnr(y.detach()[k:], x[k:]).mean().item(), kl.item(), mean.std().item(),
                     logvar.mean().item(), lin.item()])
        if step % 50 == 0 or step == args.steps:
            h = np.mean(hist, 0)
            hist = []
            el = time.time() - t0
            print(f"step {step} l1 {h[0]:.4f} grad {h[1]:.4f} psnr {h[2]:.2f} kl {h[3]:.2f} zstd {h[4]:.3f} "
                  f"logvar {h[5]:.2f} lin {h[6]:.4f} lr {opt.param_groups[0]['lr']:.2e} {el / 60:.1f} min", flush=True)
        if time.time() - last_save > 120:
            save()
            last_save = time.time()
        if (time.time() - t0) / 60 > args.max_minutes:
            print("max minutes reached, stopping (rerun to resume)", flush=True)
            break
    save()
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
