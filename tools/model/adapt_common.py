"""Shared by train_lora.py and train_ti.py: the shipped ONNX model back in torch, the new-concept data set, latents.

There are no torch checkpoints in the repository, only models/tiny-sd-shapes; its weights are read back into the
torch modules of models.py. A fresh export of a randomly initialised module pairs each torch parameter with its
initializer name (by value, transposed for MatMul weights); the shipped graph's initializer of that name is copied in.
The same pairing gives each Linear/Conv module its exported node path, which is what LoRA keys name.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads collapse on a shared, busy machine
os.environ.setdefault("OMP_NUM_THREADS", "2")
import json
import random
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import dataset
import onnx_export as ox
import common
from common import BETA_END, TEXT_CFG, UNET_CFG, VAE_CFG, alphas_cumprod
from models import AutoencoderKL, TextEncoder, UNet

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "..", "..", "models", "tiny-sd-shapes")

# The new concept: a ring (a disc with a concentric hole), a shape the data set lacks. Not a new colour: the shipped
# VAE decodes a purple image's latents as red (its decoder only ever saw the six palette colours), so no UNet or
# text-encoder change can draw purple; it reconstructs a ring (IoU 0.95 on a 40 px ring).
NEW = "ring"
HOLE = 0.5  # inner diameter / outer diameter


def _pair(module, export_fn, prefix, only=""):
    """{torch parameter name: (initializer name, transposed, node path or None)} from a fresh export."""
    kept = {k: v.clone() for k, v in module.state_dict().items()}
    with torch.no_grad():  # every value distinct (no all-ones norm weights the exporter could merge)
        for p in module.parameters():
            p.copy_(torch.randn(p.shape) * 0.1)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.onnx")
        export_fn(module, path)
        m = onnx.load(path)
    values = {k: p.detach().numpy().copy() for k, p in module.named_parameters()}
    module.load_state_dict(kept)  # the encoder's weights stay when the decoder's are read, and so on
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    node_of = {}
    for n in m.graph.node:
        if n.op_type in ("MatMul", "Gemm", "Conv") and len(n.input) > 1 and n.input[1] in inits:
            node_of[n.input[1]] = n.name.lstrip("/").rsplit("/", 1)[0]
    out = {}
    for pname, _ in module.named_parameters():
        if not pname.startswith(only):
            continue
        a = values[pname]
        found = None
        if prefix + pname in inits and np.array_equal(inits[prefix + pname], a):
            found = (prefix + pname, False)
        else:
            for name, w in inits.items():
                if w.size == a.size and np.array_equal(w.ravel(), a.ravel()):  # GroupNorm: [C] as [C,1,1]
                    found = (name, False)
                elif a.ndim == 2 and w.shape == a.T.shape and np.array_equal(w, a.T):
                    found = (name, True)
                if found:
                    break
        assert found is not None, f"{pname}: no initializer in the export"
        out[pname] = (found[0], found[1], node_of.get(found[0]))
    return out


def load_into(module, export_fn, prefix, onnx_path, only=""):
    """Copies the shipped graph's weights into `module`; returns the pairing (see _pair)."""
    torch.manual_seed(12345)
    pairing = _pair(module, export_fn, prefix, only)
    shipped = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
    with torch.no_grad():
        for pname, p in module.named_parameters():
            if not pname.startswith(only):
                continue
            name, transposed, _ = pairing[pname]
            w = shipped[name].astype(np.float32)
            p.copy_(torch.from_numpy(w.T.copy() if transposed else w.reshape(p.shape)))
    return pairing


def unet_cfg(model=MODEL):
    """The model's UNet configuration: UNET_CFG with its unet/config.json's transformer_layers_per_block (1 in the
    shipped bases; more in an export of train_unet.py --transformer-layers)."""
    with open(os.path.join(model, "unet", "config.json")) as f:
        return common.unet_cfg(json.load(f).get("transformer_layers_per_block", 1))


def load_model(model=MODEL):
    te, unet, vae = TextEncoder(TEXT_CFG), UNet(unet_cfg(model)), AutoencoderKL(VAE_CFG)
    pt = load_into(te, lambda m, p: ox.export_text_encoder(m, p), "te.", os.path.join(model, "text_encoder", "model.onnx"))
    pu = load_into(unet, lambda m, p: ox.export_unet(m, p), "unet.", os.path.join(model, "unet", "model.onnx"))
    load_into(vae, lambda m, p: ox.export_vae_encoder(m, p, mode="mean"), "vae.",
              os.path.join(model, "vae_encoder", "model.onnx"), only="encoder.")
    load_into(vae, lambda m, p: ox.export_vae_decoder(m, p), "vae.", os.path.join(model, "vae_decoder", "model.onnx"),
              only="decoder.")
    for m in (te, unet, vae):
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)
    with open(os.path.join(model, "vae_encoder", "config.json")) as f:
        sf = json.load(f)["scaling_factor"]
    with open(os.path.join(model, "scheduler", "scheduler_config.json")) as f:
        sched = json.load(f)
    unet.prediction_type = sched.get("prediction_type", "epsilon")  # what the adaptations train against
    unet.beta_end = sched.get("beta_end", BETA_END)  # and on which noise schedule (scaled_linear from BETA_START)
    return te, unet, vae, sf, pt, pu


def vae_checkpoint(path):
    """A VAE as train_vae.py saves it ({"model": state dict}), from such a file or read back from an exported model
    folder's vae_encoder and vae_decoder: checkpoints do not outlive a machine, the repository's model does."""
    if os.path.isdir(path):  # and the model's scaling factor, which latents cached with this VAE keep
        _, _, vae, sf, _, _ = load_model(path)
        return {"model": vae.state_dict(), "scaling_factor": sf}
    return torch.load(path)


def loss_target(unet, z, noise, a):
    """What the base UNet predicts for the clean latents z noised with `noise` at alpha_bar a: the noise, or v."""
    if getattr(unet, "prediction_type", "epsilon") == "v_prediction":
        return a.sqrt() * noise - (1 - a).sqrt() * z
    return noise


def schedule(unet):
    """alphas_cumprod of the base model's noise schedule."""
    return alphas_cumprod(getattr(unet, "beta_end", BETA_END))


def loss_weight(unet, snr, gamma=5.0):
    """min-SNR-gamma weight per timestep for loss_target's MSE: the same weight on the x0 error either way."""
    v = getattr(unet, "prediction_type", "epsilon") == "v_prediction"
    return torch.clamp(snr, max=gamma) / (snr + 1 if v else snr)


# ------------------------------------------------------------------------------------------ new-concept data
def new_combos():
    """The new shape in every colour pair."""
    return [(c, NEW, b) for c in dataset.COLOR_NAMES for b in dataset.COLOR_NAMES if c != b]


def new_heldout():
    """Never drawn in training: 9 of the 30 colour pairs, every colour 1-2 times as object and as background."""
    return [("red", NEW, "white"), ("green", NEW, "black"), ("blue", NEW, "yellow"), ("yellow", NEW, "blue"),
            ("white", NEW, "green"), ("black", NEW, "red"), ("red", NEW, "green"), ("white", NEW, "blue"),
            ("black", NEW, "yellow")]


def new_train_combos():
    held = set(new_heldout())
    return [c for c in new_combos() if c not in held]


def render(color, shape, bg, cx, cy, size):
    """dataset.render, plus the ring: a disc of the colour with a disc of the background at its centre."""
    if shape != NEW:
        return dataset.render(color, shape, bg, cx, cy, size)
    from PIL import Image, ImageDraw
    ss, n = dataset.SUPERSAMPLE, dataset.IMAGE_SIZE
    img = Image.new("RGB", (n * ss, n * ss), dataset.COLORS[bg])
    d = ImageDraw.Draw(img)
    x, y, h = cx * ss, cy * ss, size * ss / 2.0
    d.ellipse([x - h, y - h, x + h, y + h], fill=dataset.COLORS[color])
    r = h * HOLE
    d.ellipse([x - r, y - r, x + r, y + r], fill=dataset.COLORS[bg])
    return np.asarray(img.resize((n, n), Image.BOX), dtype=np.uint8)


def make_set(vae, n, combos, seed, batch=100):
    """(latents [n,4,8,8] unscaled encoder means, combo index list) for n images of `combos`."""
    rng = random.Random(seed)
    lat, labels = [], []
    with torch.no_grad():
        for k in range(0, n, batch):
            imgs = []
            for _ in range(min(batch, n - k)):
                i = rng.randrange(len(combos))
                cx, cy, size = dataset.random_layout(rng)
                imgs.append(render(*combos[i], cx, cy, size))
                labels.append(i)
            mean, _ = vae.encode(torch.from_numpy(dataset.to_tensor_range(np.stack(imgs))))
            lat.append(mean)
    return torch.cat(lat), labels




# ------------------------------------------------------------------------------------------ training loop
def train(te, unet, params, draw, args, warmup, t0, note=lambda: ""):
    """Optimises `params` (AdamW, cosine with warm-up) on the base model's loss (its prediction type, min-SNR-5). draw(gen) gives
    a batch (scaled latents, caption ids); args has steps, lr, seed, max_minutes. Returns the steps done."""
    import time
    from common import lr_at
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    acp = schedule(unet)
    snr = acp / (1 - acp)
    weight = loss_weight(unet, snr)
    gen = torch.Generator().manual_seed(args.seed)
    hist, step = [], 0
    t1 = time.time()
    while step < args.steps:
        z, c = draw(gen)
        t = torch.randint(0, 1000, (z.shape[0],), generator=gen)
        noise = torch.randn(z.shape, generator=gen)
        a = acp[t].view(-1, 1, 1, 1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, warmup)
        hs, _ = te(c)
        pred = unet(a.sqrt() * z + (1 - a).sqrt() * noise, t.float(), hs)
        loss = (((pred - loss_target(unet, z, noise, a)) ** 2).flatten(1).mean(1) * weight[t]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        hist.append(loss.item())
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(hist):.4f}{note()} {(time.time() - t1) / 60:.1f} min", flush=True)
            hist = []
        if (time.time() - t0) / 60 > args.max_minutes:
            print("max minutes reached, stopping", flush=True)
            break
    return step


# ------------------------------------------------------------------------------------------ quick check in torch
def ddim_sample(te, unet, vae, sf, ids, seed, steps=20, guidance=5.0):
    """DDIM (leading spacing, steps_offset 1, eta 0) as the shipped scheduler; returns uint8 NHWC images. A quick
    check while training; the numbers reported come from the Java pipeline (QualityOfAdaptationsTest)."""
    n = ids.shape[0]
    with torch.no_grad():
        cond, _ = te(ids)
        unc, _ = te(torch.tensor([_empty_ids()] * n))
    states = torch.cat([unc, cond])
    return ddim_loop(lambda xx, tt: unet(xx, tt, states), vae, sf, n, seed, steps, guidance,
                     getattr(unet, "prediction_type", "epsilon"), schedule(unet))


def ddim_loop(eps, vae, sf, n, seed, steps=20, guidance=5.0, prediction_type="epsilon", ac=None):
    """The DDIM loop of ddim_sample with classifier-free guidance: eps(x2, t2) is the UNet's output (the noise, or v
    with prediction_type v_prediction) for the batch [unconditional half; conditional half] (x2 = x twice); n images
    from torch.randn with `seed`, decoded to uint8 NHWC."""
    ac = alphas_cumprod() if ac is None else ac
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 4, 8, 8), generator=g)
    ts = [t + 1 for t in list(range(0, 1000, 1000 // steps))[::-1]]
    with torch.no_grad():
        for k, t in enumerate(ts):
            e_u, e_c = eps(torch.cat([x, x]), torch.full((2 * n,), float(t))).chunk(2)
            e = e_u + guidance * (e_c - e_u)
            a = ac[t]
            a_prev = ac[ts[k + 1]] if k + 1 < len(ts) else ac[0]
            if prediction_type == "v_prediction":  # guidance is linear, so it may act on v itself
                e, x0 = a.sqrt() * e + (1 - a).sqrt() * x, a.sqrt() * x - (1 - a).sqrt() * e
            else:
                x0 = (x - (1 - a).sqrt() * e) / a.sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * e
        img = vae.decode(x / sf)
    return ((img.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def _empty_ids():
    from clip_tokenizer import ClipTokenizer
    return ClipTokenizer()("")


def seen(img):
    """(object colour, background colour, ring?): nearest palette colours of the border median and of the median of
    the pixels whose nearest colour is not the background's; a ring when background-coloured pixels not connected to
    the border (a hole) make up >= 1 % of the image (a simpler form of the Java check in AdaptedModelQualityTest)."""
    from collections import deque
    names = list(dataset.COLORS)
    pal = np.array([dataset.COLORS[k] for k in names], dtype=np.float32)
    px = img.reshape(-1, 3).astype(np.float32)
    near = np.argmin(((px[:, None, :] - pal[None]) ** 2).sum(-1), 1)
    border = np.concatenate([img[:2].reshape(-1, 3), img[-2:].reshape(-1, 3), img[:, :2].reshape(-1, 3),
                             img[:, -2:].reshape(-1, 3)]).astype(np.float32)
    bg = int(np.argmin(((np.median(border, 0)[None] - pal) ** 2).sum(-1)))
    obj = near != bg
    if obj.sum() < 0.02 * len(near):
        return None, names[bg], False
    c = int(np.argmin(((np.median(px[obj], 0)[None] - pal) ** 2).sum(-1)))
    h, w = img.shape[:2]
    free = ~obj.reshape(h, w)
    outside = np.zeros_like(free)
    q = deque((y, x) for y in range(h) for x in range(w) if (y in (0, h - 1) or x in (0, w - 1)) and free[y, x])
    for y, x in q:
        outside[y, x] = True
    while q:
        y, x = q.popleft()
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            v, u = y + dy, x + dx
            if 0 <= v < h and 0 <= u < w and free[v, u] and not outside[v, u]:
                outside[v, u] = True
                q.append((v, u))
    hole = (free & ~outside).sum()
    return names[c], names[bg], hole >= 0.01 * h * w
