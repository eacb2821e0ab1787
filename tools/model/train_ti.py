"""Trains a textual-inversion embedding for the embedded model (models/tiny-sd-shapes): the word "cherry", which its
captions never use, for a red circle ("a cherry on a green background"). Only the word's vectors are optimised; the
model is frozen, so the word can only name what the model already draws (a new colour such as purple cannot be
reached: the shipped VAE decodes purple as red, and an embedding trained for it drew red, 0 of 36 images purple).
Written in A1111's layout (`emb_params` [n, 48], F32), file name = trigger word, what our reader (--embeddings DIR) and
A1111 read.

In training the word stands for n rare single-token words whose token-table rows are replaced by the trained vectors
(a forward hook on the token embedding): the same token positions the Java side gives the embedding's n rows.
Data: red circles on the backgrounds CHERRY_TRAIN_BG; CHERRY_HELDOUT_BG are never drawn with the word. Loss as
train_unet.py (epsilon, min-SNR-5).

  python3 train_ti.py --out models/embeddings/cherry.safetensors --vectors 2 --steps 400 --lr 1e-2 --n 1000
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "2")
import argparse
import time

import numpy as np
import torch

import adapt_common as ac_
import dataset
from clip_tokenizer import ClipTokenizer
from common import seed_all
from make_lora_fixture import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
STAND_INS = ["zebra", "violin", "tulip", "anchor"]  # single CLIP tokens the captions never use
# "cherry": a red circle, a word the model never saw for a thing it can draw; trained on these backgrounds,
# measured on the others (CHERRY_HELDOUT_BG)
CHERRY_TRAIN_BG = ["green", "yellow", "white"]
CHERRY_HELDOUT_BG = ["blue", "black"]


def caption(combo, slot):
    """The caption of a (red, circle, background) combination with the word's placeholder `slot`."""
    return f"a {slot} on a {combo[2]} background"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "embeddings", "cherry.safetensors"))
    ap.add_argument("--vectors", type=int, default=2)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-minutes", type=float, default=25)
    args = ap.parse_args()
    torch.set_num_threads(2)
    seed_all(args.seed)
    t0 = time.time()
    te, unet, vae, sf, _, _ = ac_.load_model()
    combos = [("red", "circle", b) for b in CHERRY_TRAIN_BG]
    lat, labels = ac_.make_set(vae, args.n, combos, args.seed + 100)
    lat = lat * sf
    tok = ClipTokenizer()
    stand_ins = STAND_INS[:args.vectors]
    slot_ids = []
    for w in stand_ins:
        ids = tok.encode(w)[1:-1]
        assert len(ids) == 1, f"{w} is {len(ids)} tokens"
        slot_ids.append(ids[0])
    caps = [caption(c, " ".join(stand_ins)) for c in combos]
    ids_all = torch.tensor([tok(c) for c in caps])[labels]
    empty = torch.tensor(tok(""))

    table = te.token_embedding.weight
    red, blue = table[tok.encode("red")[1]], table[tok.encode("blue")[1]]
    vecs = torch.nn.Parameter(((red + blue) / 2).detach().repeat(args.vectors, 1).clone())
    slots = torch.tensor(slot_ids)

    def substitute(module, inputs, output):
        ids = inputs[0]
        out = output.clone()
        for k in range(args.vectors):
            out[ids == slots[k]] = vecs[k].to(out.dtype)
        return out

    te.token_embedding.register_forward_hook(substitute)
    print(f"data: {len(lat)} latents, {time.time() - t0:.0f} s; {args.vectors} vectors of width {table.shape[1]}, "
          f"palette rows norm {table[[tok.encode(c)[1] for c in dataset.COLOR_NAMES]].norm(dim=1).mean():.3f}", flush=True)
    def draw(gen):
        idx = torch.randint(0, len(lat), (args.batch,), generator=gen)
        return lat[idx], ids_all[idx]

    step = ac_.train(te, unet, [vecs], draw, args, 20, t0,
                     lambda: f" vector norms {vecs.norm(dim=1).detach().numpy().round(3)}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_safetensors(args.out, {"emb_params": vecs.detach().numpy().astype(np.float32)},
                     {"base_model": "tiny-sd-shapes", "word": "cherry", "steps": str(step)})
    print(f"wrote {args.out}; {(time.time() - t0) / 60:.1f} min total", flush=True)

    hits = tot = 0
    for c in [("red", "circle", b) for b in CHERRY_HELDOUT_BG]:
        with torch.no_grad():
            imgs = ac_.ddim_sample(te, unet, vae, sf, torch.tensor([tok(caption(c, " ".join(stand_ins)))] * 4), seed=1)
        for im in imgs:
            oc, bc, ring = ac_.seen(im)
            hits += (oc == c[0]) and (bc == c[2]) and not ring
            tot += 1
    print(f"quick check (torch DDIM, 4 seeds): a red disc on the background in {hits}/{tot} held-out images "
          "(the shape is checked in the Java test)", flush=True)


if __name__ == "__main__":
    main()
