"""Trains a LoRA that teaches the embedded model (models/tiny-sd-shapes) the shape "ring" (a disc with a concentric
hole), which its data set lacks, and writes it in kohya's layout (what our reader and A1111 read):

  lora_unet_<node path>.lora_down.weight [r, in], .lora_up.weight [out, r], .alpha   (UNet attention and feed-forward
  lora_te_<node path>...                                                              projections; text encoder's)

where <node path> is the exported graph's node path with / and . as _ (the tiny model's torch module paths differ from
a diffusers UNet's, so keys name the ONNX nodes, as kohya keys do for a diffusers export).

Data: the model's own caption grammar with "ring" as the shape, in every colour pair but those of
adapt_common.new_heldout() (never drawn), mixed half and half with the original training combinations (so the old
colours and shapes are kept). Loss as train_unet.py (epsilon, min-SNR-5); 5 % empty captions. The base model is frozen.

  python3 train_lora.py --out models/loras/ring.safetensors --steps 1000   [--rank 8 --lr 2e-3]
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")
import argparse
import math
import time

import numpy as np
import torch

import adapt_common as ac_
import dataset
from clip_tokenizer import ClipTokenizer
from common import seed_all
from make_lora_fixture import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))


class LoraLinear(torch.nn.Module):
    """y = base(x) + (alpha / r) * up(down(x)); up starts at zero, so training starts from the base model."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.down = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.up = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + self.scale * (x @ self.down.t() @ self.up.t())


def wrap(root, pairing, wanted, rank, alpha):
    """Replaces the Linear modules whose exported node path passes `wanted`; returns [(node path, LoraLinear)]."""
    out = []
    for pname, (_, _, node) in pairing.items():
        if node is None or not pname.endswith(".weight") or not wanted(node):
            continue
        mpath = pname[:-len(".weight")]
        parent_path, _, leaf = mpath.rpartition(".")
        parent = root.get_submodule(parent_path) if parent_path else root
        base = getattr(parent, leaf)
        if not isinstance(base, torch.nn.Linear):
            continue
        lora = LoraLinear(base, rank, alpha)
        setattr(parent, leaf, lora) if not leaf.isdigit() else parent.__setitem__(int(leaf), lora)
        out.append((node, lora))
    return out


def unet_wanted(node):
    return "/attn1/" in node or "/attn2/" in node or "/ff/" in node


def te_wanted(node):
    return "/self_attn/" in node or "/fc1" in node or "/fc2" in node


def save(path, mods, rank, alpha, meta):
    tensors = {}
    for prefix, lst in mods:
        for node, m in lst:
            key = prefix + node.replace("/", "_").replace(".", "_")
            tensors[key + ".lora_down.weight"] = m.down.detach().numpy().astype(np.float32)
            tensors[key + ".lora_up.weight"] = m.up.detach().numpy().astype(np.float32)
            tensors[key + ".alpha"] = np.array(alpha, dtype=np.float32)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_safetensors(path, tensors, dict(meta, ss_network_dim=str(rank), ss_network_alpha=str(alpha)))
    return len(tensors) // 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "loras", "ring.safetensors"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--no-te", action="store_true", help="UNet only")
    ap.add_argument("--n-new", type=int, default=2000)
    ap.add_argument("--n-old", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--max-minutes", type=float, default=25)
    args = ap.parse_args()
    torch.set_num_threads(2)
    seed_all(args.seed)
    t0 = time.time()
    te, unet, vae, sf, pt, pu = ac_.load_model()
    new_c, old_c = ac_.new_train_combos(), dataset.train_combos()
    lat_new, lab_new = ac_.make_set(vae, args.n_new, new_c, args.seed + 100)
    lat_old, lab_old = ac_.make_set(vae, args.n_old, old_c, args.seed + 200)
    tok = ClipTokenizer()
    ids_new = torch.tensor([tok(dataset.caption(*c)) for c in new_c])[lab_new]
    ids_old = torch.tensor([tok(dataset.caption(*c)) for c in old_c])[lab_old]
    lat = torch.cat([lat_new, lat_old]) * sf
    ids = torch.cat([ids_new, ids_old])
    empty = torch.tensor(tok(""))
    print(f"data: {len(lat_new)} new + {len(lat_old)} old latents, {time.time() - t0:.0f} s", flush=True)

    alpha = float(args.rank)
    mods_u = wrap(unet, pu, unet_wanted, args.rank, alpha)
    mods_t = [] if args.no_te else wrap(te, pt, te_wanted, args.rank, alpha)
    params = [p for _, m in mods_u + mods_t for p in (m.down, m.up)]
    print(f"LoRA rank {args.rank}: {len(mods_u)} UNet + {len(mods_t)} text-encoder modules, "
          f"{sum(p.numel() for p in params)} parameters", flush=True)
    n_new = len(lat_new)

    def draw(gen):
        """Half new-concept images, half original ones; 5 % empty captions."""
        half = args.batch // 2
        idx = torch.cat([torch.randint(0, n_new, (half,), generator=gen),
                         torch.randint(n_new, len(lat), (args.batch - half,), generator=gen)])
        c = ids[idx].clone()
        c[torch.rand(args.batch, generator=gen) < 0.05] = empty
        return lat[idx], c

    step = ac_.train(te, unet, params, draw, args, 30, t0)
    n = save(args.out, [("lora_unet_", mods_u), ("lora_te_", mods_t)], args.rank, alpha,
             {"ss_base_model": "tiny-sd-shapes", "concept": "ring", "steps": str(step)})
    print(f"wrote {args.out}: {n} modules, {os.path.getsize(args.out)} bytes; {(time.time() - t0) / 60:.1f} min total",
          flush=True)

    # quick check in torch (the card's numbers come from the Java pipeline)
    for m in (te, unet):
        m.eval()
    hits = rings = tot = 0
    for c, s, b in ac_.new_heldout():
        imgs = ac_.ddim_sample(te, unet, vae, sf, torch.tensor([tok(dataset.caption(c, s, b))] * 4), seed=1)
        for im in imgs:
            oc, bc, ring = ac_.seen(im)
            rings += ring
            hits += ring and (oc == c) and (bc == b)
            tot += 1
    print(f"quick check (torch DDIM, 4 seeds): ring in {rings}/{tot} held-out ring images, with both colours right "
          f"in {hits}", flush=True)


if __name__ == "__main__":
    main()
