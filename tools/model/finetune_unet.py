"""Continues the embedded model's UNet training from the shipped weights (issue 12: a base model that survives the
dialog's choices).

The first run (train_unet.py, 2500 steps) was good only near its recipe (DDIM, 20 steps, guidance 5): with few steps
or high guidance the errors of an under-trained UNet are multiplied by the guidance scale (wobbly outlines, blobs of
other colours). This script reads models/tiny-sd-shapes back into torch (adapt_common.load_model), keeps the text
encoder and the VAE frozen (so textual-inversion embeddings and the tiny decoder stay valid) and trains the UNet
further with the same objective as train_unet.py (epsilon, min-SNR-5 weighting, 10 % empty captions), starting its
EMA from the shipped (EMA) weights. Every --export-every steps the EMA UNet is written into a candidate model folder
(a copy of the shipped one with unet/ replaced) that QualityGrid can measure while training goes on.

  python3 tools/model/finetune_unet.py --steps 2400 --out /work/train/ft [--max-minutes 45]

Seeded and resumable (rerun with the same --out).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads collapse on a shared, busy machine
import argparse
import copy
import shutil
import time

import numpy as np
import torch

import adapt_common
import dataset
import onnx_export as ox
from clip_tokenizer import ClipTokenizer
from common import alphas_cumprod, lr_at, save_atomic, seed_all


def export_candidate(unet, out_dir, step):
    folder = os.path.join(out_dir, f"candidate-{step:05d}")
    if os.path.exists(folder):
        shutil.rmtree(folder)
    shutil.copytree(adapt_common.MODEL, folder, ignore=shutil.ignore_patterns("*.png"))
    ox.export_unet(unet, os.path.join(folder, "unet", "model.onnx"))
    latest = os.path.join(out_dir, "latest")
    if os.path.islink(latest):
        os.unlink(latest)
    os.symlink(folder, latest)
    print(f"exported EMA UNet at step {step} to {folder}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--drop", type=float, default=0.1)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--n-latents", type=int, default=16000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-every", type=int, default=400)
    ap.add_argument("--out", default="/work/train/ft")
    ap.add_argument("--max-minutes", type=float, default=1e9, help="stop early (checkpoint kept, rerun resumes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    os.makedirs(args.out, exist_ok=True)
    te, unet, vae, sf, _, _ = adapt_common.load_model()

    latents_path = os.path.join(args.out, "latents.pt")
    if os.path.exists(latents_path):
        data = torch.load(latents_path)
    else:
        t0 = time.time()
        mean, labels = adapt_common.make_set(vae, args.n_latents, dataset.train_combos(), args.seed + 1000)
        data = {"mean": mean, "label": torch.tensor(labels)}
        save_atomic(data, latents_path)
        print(f"encoded {args.n_latents} training images in {time.time() - t0:.0f} s", flush=True)

    tok = ClipTokenizer()
    combos = dataset.train_combos()
    with torch.no_grad():  # the text encoder is frozen: its states per caption are computed once
        states, _ = te(torch.tensor([tok(dataset.caption(*c)) for c in combos], dtype=torch.long))
        empty, _ = te(torch.tensor([tok("")], dtype=torch.long))

    for p in unet.parameters():
        p.requires_grad_(True)
    unet.train()
    ema = copy.deepcopy(unet)
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step = 0
    ck_path = os.path.join(args.out, "unet.pt")
    if os.path.exists(ck_path):
        ck = torch.load(ck_path)
        unet.load_state_dict(ck["unet"])
        ema.load_state_dict(ck["ema_unet"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step = ck["step"]
        print(f"resumed at step {step}", flush=True)

    def save():
        save_atomic({"unet": unet.state_dict(), "ema_unet": ema.state_dict(), "opt": opt.state_dict(),
                     "gen": gen.get_state(), "step": step, "scaling_factor": sf}, ck_path)

    ac = alphas_cumprod()
    snr = ac / (1 - ac)
    weight = torch.clamp(snr, max=5.0) / snr
    n = data["mean"].shape[0]
    t0 = last_save = time.time()
    hist = []
    while step < args.steps:
        idx = torch.randint(0, n, (args.batch,), generator=gen)
        z = data["mean"][idx] * sf
        hs = states[data["label"][idx]].clone()
        drop = torch.rand(args.batch, generator=gen) < args.drop
        hs[drop] = empty[0]
        t = torch.randint(0, len(ac), (args.batch,), generator=gen)
        noise = torch.randn(z.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        pred = unet(a.sqrt() * z + (1 - a).sqrt() * noise, t.float(), hs)
        per = ((pred - noise) ** 2).flatten(1).mean(1)
        loss = (per * weight[t]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        step += 1
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), unet.parameters()):
                pe.mul_(args.ema).add_(p.detach(), alpha=1 - args.ema)
        hist.append([loss.item(), per.mean().item()])
        if step % 50 == 0 or step == args.steps:
            h = np.mean(hist, 0)
            hist = []
            print(f"step {step} loss {h[0]:.4f} mse {h[1]:.4f} lr {opt.param_groups[0]['lr']:.2e} "
                  f"{(time.time() - t0) / 60:.1f} min", flush=True)
        if step % args.export_every == 0 or step == args.steps:
            save()
            last_save = time.time()
            ema.eval()
            export_candidate(ema, args.out, step)
        elif time.time() - last_save > 180:
            save()
            last_save = time.time()
        if (time.time() - t0) / 60 > args.max_minutes:
            print("max minutes reached, stopping (rerun to resume)", flush=True)
            break
    save()
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
