"""Fine-tunes the VAE decoder alone (encoder frozen, so the UNet's latents stay valid) to tolerate the
over-shot latents classifier-free guidance produces: half of each batch decodes z' = m + g (z - m) + noise,
with m the per-channel mean latent and g ~ U(1, 3), and is trained to give the clean image.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import random
import time

import numpy as np
import torch

import dataset
from common import VAE_CFG, WORK, save_atomic, seed_all
from models import AutoencoderKL
from train_vae import grad_l1, psnr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", default=os.path.join(WORK, "vae.pt"))
    ap.add_argument("--latents", default=os.path.join(WORK, "latents.pt"))
    ap.add_argument("--out", default=os.path.join(WORK, "vae_ft.pt"))
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--max-gain", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--max-minutes", type=float, default=1e9)
    args = ap.parse_args()
    torch.set_num_threads(2)
    seed_all(args.seed)
    ck = torch.load(args.vae)
    vae = AutoencoderKL(VAE_CFG)
    vae.load_state_dict(ck["model"])
    vae.encoder.eval()
    for p in vae.encoder.parameters():
        p.requires_grad_(False)
    m = torch.load(args.latents)["mean"].mean((0, 2, 3)).view(1, -1, 1, 1)
    opt = torch.optim.Adam(vae.decoder.parameters(), lr=args.lr)
    rng = random.Random(args.seed)
    combos = dataset.train_combos()
    t0 = time.time()
    hist = []
    step = 0
    while step < args.steps:
        imgs, _ = dataset.make_batch(rng, combos, args.batch)
        x = torch.from_numpy(dataset.to_tensor_range(imgs))
        with torch.no_grad():
            z = vae.encode(x)[0]
            h = args.batch // 2
            g = 1 + (args.max_gain - 1) * torch.rand(h, 1, 1, 1)
            z[:h] = m + g * (z[:h] - m) + 0.1 * z.std() * torch.randn_like(z[:h])
        y = vae.decode(z)
        loss = (y - x).abs().mean() + ((y - x) ** 2).mean() + grad_l1(y, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        hist.append([psnr(y[:h].detach(), x[:h]).mean().item(), psnr(y[h:].detach(), x[h:]).mean().item()])
        if step % 25 == 0:
            a = np.mean(hist, 0)
            hist = []
            print(f"step {step} psnr over-shot {a[0]:.2f} clean {a[1]:.2f} {(time.time() - t0) / 60:.1f} min", flush=True)
        if (time.time() - t0) / 60 > args.max_minutes:
            break
    ck["model"] = vae.state_dict()
    ck["decoder_finetune"] = {"steps": step, "max_gain": args.max_gain, "lr": args.lr, "seed": args.seed}
    save_atomic(ck, args.out)
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
