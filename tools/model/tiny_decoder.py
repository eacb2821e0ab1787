"""A tiny latent decoder in the TAESD layout (madebyollin/taesd): train one for the embedded model by distilling its
full VAE decoder, or write a random-weight one of any width for timing.

Conventions (TAESD's, checked against madebyollin/taesd and diffusers' AutoencoderTiny):
  input  `latent_sample` [B,4,h,w]: the latents the UNet works on, as they are (SD VAE latents already multiplied
         by the VAE's scaling factor, roughly [-3, 3]); the full VAE decoder instead takes them divided by it.
  output `sample` [B,3,8h,8w]: the image in about [0, 1] (TAESD's own convention; diffusers' AutoencoderTiny
         rescales to [-1, 1], and so does its `vae_decoder` export).
Architecture: a soft clamp tanh(z/3)*3, a 3x3 conv and ReLU, then three times (3 residual blocks, 2x nearest
upsample, a 3x3 conv without bias), one more block and a 3x3 conv to RGB. A block is conv-ReLU-conv-ReLU-conv plus the
input, then ReLU. No normalisation or attention: the cost grows linearly with the image and tiles have no seams.

  python3 tiny_decoder.py train  --model models/tiny-sd-shapes --out models/tiny-sd-shapes-taesd --minutes 18
  python3 tiny_decoder.py train  --model models/tiny-sd-shapes --init models/tiny-sd-shapes-taesd --out DIR \
      --overshoot 0.5 --generated 768 --lr 5e-4 --minutes 10   # fine-tuned for a retrained UNet's generations
  python3 tiny_decoder.py random --width 64 --out /work/train/taesd-random     # SD 1.5 size, for bench
  python3 tiny_decoder.py psnr   --model models/tiny-sd-shapes --decoder models/tiny-sd-shapes-taesd
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads collapse on a shared, busy machine
import argparse
import json
import random
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

import dataset
from models import AutoencoderKL, VAEConfig, count

LATENT_CHANNELS = 4


def conv3(cin, cout, bias=True):
    return nn.Conv2d(cin, cout, 3, padding=1, bias=bias)


class SoftClamp(nn.Module):
    def forward(self, z):
        return torch.tanh(z / 3) * 3


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(conv3(ch, ch), nn.ReLU(), conv3(ch, ch), nn.ReLU(), conv3(ch, ch))
        self.out = nn.ReLU()

    def forward(self, x):
        return self.out(self.body(x) + x)


def tiny_decoder(width=64, latent_channels=LATENT_CHANNELS):
    layers = [SoftClamp(), conv3(latent_channels, width), nn.ReLU()]
    for _ in range(3):
        layers += [ResidualBlock(width) for _ in range(3)]
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), conv3(width, width, bias=False)]
    layers += [ResidualBlock(width), conv3(width, 3)]
    return nn.Sequential(*layers)


# ------------------------------------------------------------------------------ the embedded model's VAE in torch
def load_vae(folder):
    """The model folder's AutoencoderKL with the weights of its ONNX encoder and decoder.

    The exporter keeps parameter names for convolutions and biases but stores GroupNorm scales/offsets and Linear
    weights (transposed) as anonymous initializers, which are matched to the modules in the order they run."""
    cfg_json = json.load(open(os.path.join(folder, "vae_decoder", "config.json")))
    cfg = VAEConfig(block_out_channels=tuple(cfg_json["block_out_channels"]),
                    layers_per_block=cfg_json["layers_per_block"], norm_num_groups=cfg_json["norm_num_groups"],
                    sample_size=cfg_json["sample_size"])
    vae = AutoencoderKL(cfg)
    state = {}
    for part, module in (("vae_encoder", vae.encoder), ("vae_decoder", vae.decoder)):
        graph = onnx.load(os.path.join(folder, part, "model.onnx")).graph
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        for name, value in inits.items():
            if name.startswith("vae."):
                state[name[4:]] = torch.from_numpy(value.copy())
        # the anonymous ones, in the order the graph uses them, match the modules in the order they run
        anonymous = [inits[x] for node in graph.node for x in node.input if x in inits and not x.startswith("vae.")]
        prefix = "encoder." if part == "vae_encoder" else "decoder."
        expected = []
        hooks = [m.register_forward_hook(lambda m, i, o, n=prefix + n: expected.append((n, m)))
                 for n, m in module.named_modules() if isinstance(m, (nn.GroupNorm, nn.Linear))]
        with torch.no_grad():
            module(torch.zeros(1, 3, 64, 64) if part == "vae_encoder" else torch.zeros(1, 4, 8, 8))
        for h in hooks:
            h.remove()
        it = iter(anonymous)
        for name, m in expected:
            if isinstance(m, nn.GroupNorm):
                state[name + ".weight"] = torch.from_numpy(next(it).copy()).reshape(-1)
                state[name + ".bias"] = torch.from_numpy(next(it).copy()).reshape(-1)
            else:
                state[name + ".weight"] = torch.from_numpy(next(it).copy()).t()
    own = vae.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise SystemExit(f"weights not found in the ONNX files: {missing[:5]} ({len(missing)})")
    vae.load_state_dict({k: state[k].reshape(own[k].shape) for k in own})
    return vae.eval(), float(cfg_json.get("scaling_factor", 0.18215))


def teacher_pairs(vae, scaling, rng, combos, n, overshoot=0.0):
    """Latents as the UNet sees them (posterior samples times the scaling factor, sometimes perturbed as a
    half-denoised preview would be, and with --overshoot a quarter of them scaled up by up to that fraction, as guided
    generations come out: the seventh base's final latents at guidance 7 have an RMS of 1.2-1.5 where the training
    latents' is 1.0) and the full decoder's image in [0, 1]."""
    imgs, _ = dataset.make_batch(rng, combos, n)
    x = torch.from_numpy(dataset.to_tensor_range(imgs))
    with torch.no_grad():
        mean, logvar = vae.encode(x)
        z = (mean + torch.randn_like(mean) * (0.5 * logvar).exp()) * scaling
        noisy = torch.rand(n, 1, 1, 1) < 0.25
        z = torch.where(noisy, z + 0.3 * torch.randn_like(z), z)
        if overshoot:
            gain = 1 + overshoot * torch.rand(n, 1, 1, 1) * (torch.rand(n, 1, 1, 1) < 0.25)
            z = z * gain
        y = (vae.decode(z / scaling).clamp(-1, 1) + 1) / 2
    return z, y


def generated_pairs(folder, vae, scaling, n, seed, steps=20):
    """Latents where the model's own guided generations end (DDIM, training captions, guidance 3-9) and the full
    decoder's image of each: what the decoder is asked to draw in use, which encoder latents do not cover when the UNet
    overshoots them (the seventh base)."""
    import adapt_common
    import oracle_grid
    from clip_tokenizer import ClipTokenizer
    te, unet = adapt_common.load_model(folder)[:2]
    ac = adapt_common.schedule(unet)
    oracle_grid.AC = ac.double()  # unet_guided turns v into the noise with the sampler module's schedule
    v_prediction = getattr(unet, "prediction_type", "epsilon") == "v_prediction"
    g = torch.Generator().manual_seed(seed)
    tok = ClipTokenizer()
    combos = dataset.train_combos()
    ids = torch.tensor([tok(dataset.caption(*combos[int(i)])) for i in torch.randint(0, len(combos), (n,), generator=g)])
    guidance = (3 + 6 * torch.rand(n, generator=g)).view(-1, 1, 1, 1)
    with torch.no_grad():
        cond, uncond = te(ids)[0], te(torch.tensor([tok("")]))[0].expand(n, -1, -1)
        eps = oracle_grid.unet_guided(unet, v_prediction, cond, uncond, guidance.double())
        ts = [t + 1 for t in range(0, 1000, 1000 // steps)][::-1]  # leading spacing, as the pipeline's DDIM
        x = oracle_grid.ddim(eps, torch.randn((n, LATENT_CHANNELS, 8, 8), generator=g).double(), ts, ac).float()
        y = (vae.decode(x / scaling).clamp(-1, 1) + 1) / 2
    return x, y


def psnr(y, x):
    mse = ((y.clamp(0, 1) - x) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-10))


def export(decoder, folder, latent_hw=8):
    path = os.path.join(folder, "taesd_decoder", "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    decoder.eval()
    z = torch.zeros(1, LATENT_CHANNELS, latent_hw, latent_hw)
    axes = {"latent_sample": {0: "batch", 2: "height", 3: "width"}, "sample": {0: "batch", 2: "out_height",
                                                                             3: "out_width"}}
    with torch.no_grad():
        torch.onnx.export(decoder, (z,), path, input_names=["latent_sample"], output_names=["sample"],
                          dynamic_axes=axes, opset_version=17, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    return path


def train(args):
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    vae, scaling = load_vae(args.model)
    student = tiny_decoder(args.width)
    if args.init:  # an exported decoder's weights (its ONNX initialisers carry the module's parameter names)
        graph = onnx.load(os.path.join(args.init, "taesd_decoder", "model.onnx")).graph
        try:
            student.load_state_dict({t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
                                     for t in graph.initializer})
        except RuntimeError as e:
            raise SystemExit(f"--init {args.init} is not a tiny decoder of --width {args.width} (give its width): "
                             f"{str(e).splitlines()[0]}")
        print(f"started from {args.init}", flush=True)
    print(f"tiny decoder: {count(student)} parameters; VAE decoder {count(vae.decoder)}", flush=True)
    opt = torch.optim.Adam(student.parameters(), lr=args.lr)
    rng = random.Random(args.seed)
    combos = dataset.train_combos()
    held_z, held_y = teacher_pairs(vae, scaling, random.Random(args.seed + 1), dataset.heldout_combos(), 64)
    if args.generated:
        gen_z, gen_y = generated_pairs(args.model, vae, scaling, args.generated, args.seed + 2)
        print(f"{args.generated} generated latents (RMS {gen_z.pow(2).mean().sqrt():.2f})", flush=True)
    t0 = time.time()
    step = 0
    while (time.time() - t0) / 60 < args.minutes and step < args.steps:
        z, y = teacher_pairs(vae, scaling, rng, combos, args.batch, args.overshoot)
        if args.generated:  # a quarter of each batch from the model's own generations
            pick = torch.randint(0, args.generated, (args.batch // 4,))
            z, y = torch.cat([z[args.batch // 4:], gen_z[pick]]), torch.cat([y[args.batch // 4:], gen_y[pick]])
        out = student(z)
        loss = (out - y).abs().mean() + ((out - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            with torch.no_grad():
                p = psnr(student(held_z), held_y).mean().item()
            for g in opt.param_groups:  # a step decay once training has settled
                g["lr"] = args.lr * (0.3 if (time.time() - t0) / 60 > 0.7 * args.minutes else 1.0)
            print(f"step {step} loss {loss.item():.4f} held-out PSNR {p:.2f} dB {(time.time() - t0) / 60:.1f} min",
                  flush=True)
    with torch.no_grad():
        p = psnr(student(held_z), held_y).mean().item()
    path = export(student, args.out)
    print(f"done: {step} steps, held-out PSNR vs the full decoder {p:.2f} dB, wrote {path} "
          f"({os.path.getsize(path)} bytes)", flush=True)


def random_decoder(args):
    torch.manual_seed(args.seed)
    path = export(tiny_decoder(args.width), args.out, latent_hw=64)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train", "random"])
    ap.add_argument("--model", default="models/tiny-sd-shapes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=18)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--generated", type=int, default=0, metavar="N",
                    help="also train on N latents of the model's own guided generations (a quarter of each batch)")
    ap.add_argument("--init", default=None, help="a tiny decoder folder to start from (fine-tuning it)")
    ap.add_argument("--overshoot", type=float, default=0.0,
                    help="a quarter of the training latents scaled by 1 to 1 + this (guided generations' amplitude)")
    args = ap.parse_args()
    if args.generated < 0 or args.overshoot < 0:
        ap.error("--generated and --overshoot: 0 (off) or more")
    if args.init and not os.path.isfile(os.path.join(args.init, "taesd_decoder", "model.onnx")):
        ap.error(f"--init {args.init}: no taesd_decoder/model.onnx there (give a tiny decoder folder, e.g. "
                 "models/tiny-sd-shapes-taesd)")
    if args.generated and args.batch < 4:
        ap.error("--generated takes a quarter of each batch: give --batch 4 or more")
    (train if args.what == "train" else random_decoder)(args)


if __name__ == "__main__":
    main()
