"""An independent reference for whole generations: diffusers' Stable Diffusion semantics in numpy, running the
model folder's ONNX graphs with check_onnx's numpy interpreter (no ONNX Runtime, no Java code involved).

  python3 reference_pipeline.py [--out src/test/resources/conformance]   # writes cases.json + expected PNGs

Why ONNX graphs and not torch modules: the fixtures' torch weights were never kept (random, seeded, but torch is not
installed here and a re-export would change the committed fixtures), the embedded model's checkpoints are not in the
repository, and check_onnx.py already evaluates every operator these exports use. The graphs are the weights; what
this file checks is everything around them.

Written from diffusers (0.27) semantics, not from our Java:
- schedulers as DDIMScheduler (eta 0), EulerDiscreteScheduler (no churn), PNDMScheduler with skip_prk_steps (A1111's
  PLMS) and LCMScheduler (one step: later steps draw noise), built with ``from_config(scheduler_config.json)``: keys in
  the file win, absent keys take the *using* class's constructor defaults (DDIM: clip_sample True, set_alpha_to_one
  True, leading spacing; Euler: linspace spacing); float32 betas and alphas_cumprod as torch computes them;
- text: CLIP ids padded to 77 with the tokenizer's pad token, ``last_hidden_state``; CFG as
  ``uncond + g (cond - uncond)`` over a [uncond, cond] batch when g > 1; LCM-distilled UNets (a ``timestep_cond``
  input) as LatentConsistencyModelPipeline: no CFG, w = g - 1 embedded with get_guidance_scale_embedding;
- the timestep fed in the graph's timestep type; to an int64 input a fractional timestep (Euler's linspace spacing)
  goes as the nearest integer, ties up. diffusers' ONNX pipelines truncate there (``np.array([t], dtype=np.int64)``,
  a numpy cast), which is further from the float timestep its torch pipeline feeds (and from A1111, whose
  k-diffusion wrapper quantises to the nearest training timestep): we judged that cast the bug, not our rounding
  (measured: 249 vs 250 and 499 vs 500 move the latents by 3e-3 and the pixels by 1/255, below this check's
  resolution; with rounding here the latents agree to 1e-5 as for the float layouts);
- text to image: latents = noise * init_noise_sigma; image to image (and 4-channel inpainting) starts as
  OnnxStableDiffusionImg2ImgPipeline does (init_timestep = min(int(steps*strength) + steps_offset, steps), noise
  added at timesteps[-init_timestep], loop from max(steps - init_timestep + steps_offset, 0)); the VAE encoder's
  mean (latent_dist.mode(), deterministic) times the scaling factor;
- inpainting, 4-channel UNet: StableDiffusionInpaintPipeline's blend after each step,
  ``(1 - m) * add_noise(orig, noise, timesteps[i + 1]) + m * latents`` (the original itself after the last step);
  9-channel UNet: OnnxStableDiffusionInpaintPipeline (from pure noise; UNet input
  [scaled latents, latent mask, masked-image latents]; masked image = image * (mask < 0.5)); the latent mask by
  nearest-neighbour down-sampling;
- VAE decode of latents / scaling_factor (vae config, else diffusers' 0.18215).
Read from our Java, as conventions only: the initial noise (java.util.Random(seed + i).nextGaussian(), NCHW, see
java_random.py), the output conversion (decoder output x -> clamp((x + 1) / 2, 0, 1) -> round(v * 255), as
ImageTensors.fromNchw and PngWriter), and the inpainting paste with feather 0 (kept pixels are the input's exactly;
AUTOMATIC1111's overlay). The cases use masks on the 8-pixel latent grid, where every nearest-neighbour convention
(centre or corner sample) gives the same latent mask.

Layouts: ``LAYOUTS`` maps a model family to its conditioning function (text encoders -> the UNet's
encoder_hidden_states plus extra named inputs). SD 1.x/2.x is ``sd1_conditioning``; SDXL base/refiner
(``text_embeds``, ``time_ids``, two encoders, second-to-last hidden states) is ``sdxl_conditioning``; SDXL's image to
image and 4-channel inpainting start as StableDiffusionXLImg2ImgPipeline.get_timesteps (no steps_offset).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import json
import math
import struct
import zlib

import numpy as np
import onnx

import check_onnx
from clip_tokenizer import ClipTokenizer
from java_random import gaussian_noise

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
NP_TYPE = {1: np.float32, 10: np.float16, 6: np.int32, 7: np.int64, 11: np.float64}


# ----------------------------------------------------------------------------------------------- model folder
class Graph:
    """One ONNX component: runs with the numpy interpreter, feeding each input as the graph declares it."""

    def __init__(self, path):
        self.proto = onnx.load(path)
        init = {i.name for i in self.proto.graph.initializer}
        self.inputs = {i.name: (NP_TYPE[i.type.tensor_type.elem_type], len(i.type.tensor_type.shape.dim))
                       for i in self.proto.graph.input if i.name not in init}
        self.outputs = [o.name for o in self.proto.graph.output]

    def __call__(self, **feeds):
        fed = {}
        for name, value in feeds.items():
            dtype, rank = self.inputs[name]
            value = np.asarray(value)
            if dtype == np.int64 and value.dtype.kind == "f":
                value = np.floor(value.astype(np.float64) + 0.5)  # nearest, ties up (see the module's docstring)
            if rank == 0:
                value = value.reshape(-1)[0]  # a scalar timestep: one value for the whole batch
            fed[name] = value.astype(dtype)
        return dict(zip(self.outputs, check_onnx.run(self.proto, fed)))


class Model:
    def __init__(self, folder, tokenizer_dir=None):
        self.folder = folder
        comp = lambda c: Graph(os.path.join(folder, c, "model.onnx"))
        has = lambda c: os.path.exists(os.path.join(folder, c, "model.onnx"))
        self.text_encoder = comp("text_encoder") if has("text_encoder") else None  # SDXL's refiner: encoder 2 only
        self.text_encoder_2 = comp("text_encoder_2") if has("text_encoder_2") else None
        self.unet = comp("unet")
        self.vae_encoder, self.vae_decoder = comp("vae_encoder"), comp("vae_decoder")
        self.scheduler_config = _json(os.path.join(folder, "scheduler", "scheduler_config.json"))
        self.scaling_factor = 0.18215  # diffusers' ONNX pipelines' constant, when no VAE config says otherwise
        for c in ("vae_decoder", "vae_encoder", "vae"):
            p = os.path.join(folder, c, "config.json")
            if os.path.exists(p) and "scaling_factor" in _json(p):
                self.scaling_factor = _json(p)["scaling_factor"]
                break
        self.tokenizer = ClipTokenizer(tokenizer_dir or os.path.join(folder, "tokenizer"))
        index = os.path.join(folder, "model_index.json")
        self.index = _json(index) if os.path.exists(index) else {}
        # SDXL's tokenizer_2 pads with its own pad token ("!" for SDXL base), named in its special_tokens_map.json
        self.pad_ids = {}
        for t in ("tokenizer", "tokenizer_2"):
            p = os.path.join(folder, t, "special_tokens_map.json")
            pad = _json(p).get("pad_token") if os.path.exists(p) else None
            pad = pad.get("content") if isinstance(pad, dict) else pad
            self.pad_ids[t] = self.tokenizer.encoder[pad] if pad else None
        first_conv = next(n for n in self.unet.proto.graph.node if n.op_type == "Conv")
        weights = {i.name: i for i in self.unet.proto.graph.initializer}
        w = first_conv.input[1]
        cast = next((n for n in self.unet.proto.graph.node if n.op_type == "Cast" and n.output[0] == w), None)
        self.unet_in_channels = weights[cast.input[0] if cast is not None else w].dims[1]
        self.lcm = "timestep_cond" in self.unet.inputs
        residual_unet = os.path.join(folder, "controlnet", "model.onnx")
        self.controlnet_unet = Graph(residual_unet) if os.path.exists(residual_unet) else None
        self.family = "sdxl" if "text_embeds" in self.unet.inputs else "sd1"


def _json(path):
    with open(path) as f:
        return json.load(f)


# ----------------------------------------------------------------------------------------------- conditioning
def sd1_conditioning(model, prompts, guidance, size=None):
    """SD 1.x/2.x: one CLIP encoder, last_hidden_state; LCM's guidance embedding as timestep_cond.
    Returns (encoder_hidden_states for one UNet call, extra inputs, whether CFG runs)."""
    cfg = guidance > 1.0 and not model.lcm
    ids = [model.tokenizer(p) for p in prompts["prompt"]]
    if cfg:
        ids = [model.tokenizer(p) for p in prompts["negative"]] + ids
    hidden = model.text_encoder(input_ids=np.array(ids))["last_hidden_state"].astype(np.float32)
    extra = {}
    if model.lcm:
        dim = model.unet.proto.graph.input[[i.name for i in model.unet.proto.graph.input].index("timestep_cond")]
        dim = dim.type.tensor_type.shape.dim[1].dim_value
        extra["timestep_cond"] = np.repeat(guidance_embedding(guidance - 1.0, dim), len(ids), axis=0)
    return hidden, extra, cfg


def sdxl_conditioning(model, prompts, guidance, size):
    """SDXL base/refiner as StableDiffusionXL(Img2Img|Inpaint)Pipeline.encode_prompt and _get_add_time_ids compute it:
    each encoder's hidden_states[-2] (the second-to-last of hidden_states.0..N), concatenated on the last axis; pooled
    = the last encoder's output 0 (text_embeds, the projected pooled output); the negative all zeros, embeddings and
    pooled, when force_zeros_for_empty_prompt and no negative prompt (diffusers: negative_prompt None; our front ends
    have no None, the empty prompt stands for it); add_time_ids = original size + crop top-left + target size, or with
    requires_aesthetics_score original size + crop + aesthetic score (6.0, negative 2.5); sizes as (height, width),
    original = target = the output size, crop (0, 0)."""
    cfg = guidance > 1.0
    encoders = [(e, t) for e, t in ((model.text_encoder, "tokenizer"), (model.text_encoder_2, "tokenizer_2"))
                if e is not None]

    def ids(text, tokenizer):
        out = model.tokenizer(text)  # padded with <|endoftext|> to 77
        pad = model.pad_ids.get(tokenizer)
        if pad is not None:  # padding="max_length" with the tokenizer's own pad token after the end token
            n = len(model.tokenizer.encode(text))
            out = out[:n] + [pad] * (len(out) - n) if n < len(out) else out
        return out

    def encode(texts):
        states, pooled = [], None
        for encoder, tokenizer in encoders:
            out = encoder(input_ids=np.array([ids(t, tokenizer) for t in texts]))
            last = max(int(k.split(".")[1]) for k in out if k.startswith("hidden_states."))
            states.append(out["hidden_states.%d" % (last - 1)].astype(np.float32))
            pooled = out[encoder.outputs[0]].astype(np.float32)  # "only ALWAYS interested in the final encoder's"
        return np.concatenate(states, axis=-1), pooled

    hidden, pooled = encode(prompts["prompt"])
    h, w = size
    if model.index.get("requires_aesthetics_score", False):
        time_ids, negative_time_ids = [h, w, 0, 0, 6.0], [h, w, 0, 0, 2.5]
    else:
        time_ids = negative_time_ids = [h, w, 0, 0, h, w]
    n = len(prompts["prompt"])
    ids_batch = np.array([time_ids] * n, np.float32)
    if cfg:
        if model.index.get("force_zeros_for_empty_prompt", True) and all(p == "" for p in prompts["negative"]):
            neg_hidden, neg_pooled = np.zeros_like(hidden), np.zeros_like(pooled)
        else:
            neg_hidden, neg_pooled = encode(prompts["negative"])
        hidden = np.concatenate([neg_hidden, hidden])
        pooled = np.concatenate([neg_pooled, pooled])
        ids_batch = np.concatenate([np.array([negative_time_ids] * n, np.float32), ids_batch])
    return hidden, {"text_embeds": pooled, "time_ids": ids_batch}, cfg


LAYOUTS = {"sd1": sd1_conditioning, "sdxl": sdxl_conditioning}


def guidance_embedding(w, dim):
    """diffusers' get_guidance_scale_embedding (float32): w * 1000, sin and cos of w * exp(-k ln(10000)/(half-1))."""
    w = np.float32(w * 1000.0)
    half = dim // 2
    freq = np.exp(np.arange(half, dtype=np.float32) * -np.float32(math.log(10000.0) / (half - 1)))
    emb = (w * freq).astype(np.float32)
    out = np.concatenate([np.sin(emb), np.cos(emb)]).astype(np.float32)
    if dim % 2 == 1:
        out = np.concatenate([out, np.zeros(1, np.float32)])
    return out[None, :]


# ----------------------------------------------------------------------------------------------- schedulers
def _alphas_cumprod(c):
    n = c["num_train_timesteps"]
    if c.get("trained_betas"):
        betas = np.array(c["trained_betas"], np.float32)
    elif c["beta_schedule"] == "scaled_linear":
        betas = np.linspace(c["beta_start"] ** 0.5, c["beta_end"] ** 0.5, n, dtype=np.float32) ** 2
    elif c["beta_schedule"] == "linear":
        betas = np.linspace(c["beta_start"], c["beta_end"], n, dtype=np.float32)
    else:
        raise NotImplementedError(c["beta_schedule"])
    return np.cumprod(1.0 - betas.astype(np.float32), dtype=np.float32)


class _FromConfig:
    """A scheduler made as diffusers' from_config makes it: the file's keys win, absent ones take this class's
    constructor DEFAULTS (keys other classes read are ignored)."""
    DEFAULTS = {}
    init_noise_sigma = 1.0

    def __init__(self, config):
        self.c = {**self.DEFAULTS, **{k: v for k, v in config.items() if k in self.DEFAULTS}}
        self.ac = _alphas_cumprod(self.c)
        self.final = np.float32(1.0) if self.c.get("set_alpha_to_one") else self.ac[0]

    def scale_model_input(self, x, t):
        return x


class DDIM(_FromConfig):
    """diffusers DDIMScheduler, eta 0."""
    DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    trained_betas=None, clip_sample=True, set_alpha_to_one=True, steps_offset=0,
                    prediction_type="epsilon", clip_sample_range=1.0, timestep_spacing="leading")

    def set_timesteps(self, steps):
        n, s = self.c["num_train_timesteps"], self.c["timestep_spacing"]
        self.steps = steps
        if s == "linspace":
            ts = np.linspace(0, n - 1, steps).round()[::-1].astype(np.int64)
        elif s == "leading":
            ts = (np.arange(0, steps) * (n // steps)).round()[::-1].astype(np.int64) + self.c["steps_offset"]
        else:  # trailing
            ts = np.round(np.arange(n, 0, -n / steps)).astype(np.int64) - 1
        self.timesteps = ts

    def step(self, eps, t, x):
        t = int(t)
        prev = t - self.c["num_train_timesteps"] // self.steps
        a = self.ac[t]
        a_prev = self.ac[prev] if prev >= 0 else self.final
        b = np.float32(1) - a
        if self.c["prediction_type"] == "epsilon":
            x0, e = (x - b ** 0.5 * eps) / a ** 0.5, eps
        elif self.c["prediction_type"] == "v_prediction":
            x0, e = a ** 0.5 * x - b ** 0.5 * eps, a ** 0.5 * eps + b ** 0.5 * x
        else:
            x0 = eps
            e = (x - a ** 0.5 * x0) / b ** 0.5
        if self.c["clip_sample"]:
            r = self.c["clip_sample_range"]
            x0 = np.clip(x0, -r, r)
        return (a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * e).astype(np.float32)

    def add_noise(self, x, noise, t):
        a = self.ac[int(t)]
        return (a ** 0.5 * x + (1 - a) ** 0.5 * noise).astype(np.float32)


class Euler(_FromConfig):
    """diffusers EulerDiscreteScheduler, s_churn 0 (deterministic), linear sigma interpolation."""
    DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    trained_betas=None, prediction_type="epsilon", interpolation_type="linear",
                    use_karras_sigmas=False, timestep_spacing="linspace", steps_offset=0)

    def __init__(self, config):
        super().__init__(config)
        if self.c["use_karras_sigmas"] or self.c["interpolation_type"] != "linear":
            raise NotImplementedError("Euler reference: linear sigmas only")

    def set_timesteps(self, steps):
        n, s = self.c["num_train_timesteps"], self.c["timestep_spacing"]
        if s == "linspace":
            ts = np.linspace(0, n - 1, steps, dtype=np.float32)[::-1].copy()
        elif s == "leading":
            ts = (np.arange(0, steps) * (n // steps)).round()[::-1].astype(np.float32) + self.c["steps_offset"]
        else:
            ts = np.arange(n, 0, -n / steps).round().astype(np.float32) - 1
        sigmas = np.array(((1 - self.ac) / self.ac) ** 0.5)
        sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
        self.sigmas = np.concatenate([sigmas, [0.0]]).astype(np.float32)
        self.timesteps = ts.astype(np.float32)
        max_sigma = float(self.sigmas.max())
        self.init_noise_sigma = max_sigma if s in ("linspace", "trailing") else (max_sigma ** 2 + 1) ** 0.5

    def _index(self, t):
        idx = np.nonzero(self.timesteps == np.float32(t))[0]
        return int(idx[1] if len(idx) > 1 else idx[0])

    def scale_model_input(self, x, t):
        sigma = self.sigmas[self._index(t)]
        return (x / ((sigma ** 2 + 1) ** 0.5)).astype(np.float32)

    def step(self, out, t, x):
        i = self._index(t)
        sigma = self.sigmas[i]
        if self.c["prediction_type"] == "epsilon":
            x0 = x - sigma * out
        elif self.c["prediction_type"] == "v_prediction":
            x0 = out * (-sigma / (sigma ** 2 + 1) ** 0.5) + (x / (sigma ** 2 + 1))
        else:
            x0 = out
        derivative = (x - x0) / sigma
        return (x + derivative * (self.sigmas[i + 1] - sigma)).astype(np.float32)

    def add_noise(self, x, noise, t):
        return (x + noise * self.sigmas[self._index(t)]).astype(np.float32)


class PLMS(_FromConfig):
    """diffusers PNDMScheduler with skip_prk_steps (A1111's PLMS): linear multistep on the DDIM-style update."""
    DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    trained_betas=None, set_alpha_to_one=False, prediction_type="epsilon",
                    timestep_spacing="leading", steps_offset=0)
    # Adams-Bashforth weights of the last 1..4 predictions, newest first
    WEIGHTS = {2: (3 / 2, -1 / 2), 3: (23 / 12, -16 / 12, 5 / 12), 4: (55 / 24, -59 / 24, 37 / 24, -9 / 24)}

    def set_timesteps(self, steps):
        n, spacing = self.c["num_train_timesteps"], self.c["timestep_spacing"]
        self.ratio = n // steps  # the step to the previous timestep, whatever the spacing (as diffusers)
        if spacing == "linspace":
            ts = np.linspace(0, n - 1, steps).round().astype(np.int64)
        elif spacing == "leading":
            ts = (np.arange(0, steps) * self.ratio).round().astype(np.int64) + self.c["steps_offset"]
        else:
            ts = np.round(np.arange(n, 0, -n / steps))[::-1].astype(np.int64) - 1
        self.timesteps = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1].copy()
        self.ets, self.counter, self.cur_sample = [], 0, None

    def step(self, out, t, x):
        t = int(t)
        prev = t - self.ratio
        if self.counter != 1:
            self.ets = self.ets[-3:] + [out]
        else:
            prev, t = t, t + self.ratio
        newest_first = self.ets[::-1]
        if self.counter == 0:  # the first step: a plain step from x, kept to be redone
            self.cur_sample = x
        elif self.counter == 1:  # redo the first step from its start with the mean of both predictions
            out = (out + newest_first[0]) / 2
            x, self.cur_sample = self.cur_sample, None
        else:
            out = sum(np.float32(w) * e for w, e in zip(self.WEIGHTS[len(newest_first)], newest_first))
        self.counter += 1
        a = self.ac[t]
        a_prev = self.ac[prev] if prev >= 0 else self.final
        b, b_prev = 1 - a, 1 - a_prev
        if self.c["prediction_type"] == "v_prediction":
            out = a ** 0.5 * out + b ** 0.5 * x
        denom = a * b_prev ** 0.5 + (a * b * a_prev) ** 0.5
        return ((a_prev / a) ** 0.5 * x - (a_prev - a) * out / denom).astype(np.float32)


class LCM(_FromConfig):
    """diffusers LCMScheduler (0.27 timesteps); deterministic only for one step (later steps draw noise)."""
    DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                    trained_betas=None, original_inference_steps=50, clip_sample=False, clip_sample_range=1.0,
                    set_alpha_to_one=True, steps_offset=0, prediction_type="epsilon", timestep_scaling=10.0)

    def set_timesteps(self, steps):
        if steps != 1:
            raise NotImplementedError("LCM reference: one step (later steps add random noise)")
        k = self.c["num_train_timesteps"] // self.c["original_inference_steps"]
        origin = (np.arange(1, self.c["original_inference_steps"] + 1) * k - 1)[::-1]
        self.timesteps = origin[np.floor(np.linspace(0, len(origin), num=steps, endpoint=False)).astype(np.int64)]

    def step(self, out, t, x):
        a = self.ac[int(t)]
        b = 1 - a
        scaled = float(t) * self.c["timestep_scaling"]
        c_skip = 0.25 / (scaled ** 2 + 0.25)
        c_out = scaled / (scaled ** 2 + 0.25) ** 0.5
        if self.c["prediction_type"] != "epsilon":
            raise NotImplementedError("LCM reference: epsilon prediction only")
        x0 = (x - b ** 0.5 * out) / a ** 0.5
        if self.c["clip_sample"]:
            x0 = np.clip(x0, -self.c["clip_sample_range"], self.c["clip_sample_range"])
        return (c_out * x0 + c_skip * x).astype(np.float32)  # the last step: no noise added


# our A1111 sampler names -> the diffusers class they stand for
SCHEDULERS = {"DDIM": DDIM, "Euler": Euler, "PLMS": PLMS, "LCM": LCM}


# ----------------------------------------------------------------------------------------------- the pipeline
def generate(model, case, init_image=None, mask=None):
    """One request -> (uint8 images [B, H, W, 3], dict of intermediate latents for debugging)."""
    n, w, h = case["batch_size"], case["width"], case["height"]
    lw, lh = w // 8, h // 8
    mode, guidance = case["mode"], case["guidance"]
    sched = SCHEDULERS[case["scheduler"]](model.scheduler_config)
    sched.set_timesteps(case["steps"])
    timesteps = sched.timesteps
    prompts = {"prompt": [case["prompt"]] * n, "negative": [case["negative_prompt"]] * n}
    hidden, extra, cfg = LAYOUTS[model.family](model, prompts, guidance, (h, w))
    controls = case.get("controls", [])
    noise = gaussian_noise(case["seed"], n, (4, lh, lw))
    sf = np.float32(model.scaling_factor)

    image = None if init_image is None else (init_image.transpose(2, 0, 1) * np.float32(2) - np.float32(1))[None]
    latent_mask = None if mask is None else mask[4::8, 4::8][None, None].astype(np.float32)  # on the 8-px grid
    inpaint9 = model.unet_in_channels == 9
    extra_channels = None
    if inpaint9:
        if mode == "inpaint":
            masked = image * (mask < 0.5)[None, None]
            m = latent_mask
        else:  # text to image on an inpainting UNet: everything repainted, the masked image all mid-grey
            masked = np.zeros((1, 3, h, w), np.float32)
            m = np.ones((1, 1, lh, lw), np.float32)
        extra_channels = np.concatenate([m, encode(model, masked) * sf], axis=1)

    first = 0
    original = None
    if image is not None and not inpaint9:
        original = np.repeat(encode(model, image) * sf, n, axis=0)
    if mode == "txt2img" or case["strength"] >= 1.0 or inpaint9:
        latents = (noise * np.float32(sched.init_noise_sigma)).astype(np.float32)
    elif model.family == "sdxl":  # StableDiffusionXLImg2ImgPipeline.get_timesteps: no steps_offset
        init_timestep = min(int(case["steps"] * case["strength"]), case["steps"])
        first = max(case["steps"] - init_timestep, 0)
        latents = sched.add_noise(original, noise, timesteps[first])
    else:  # OnnxStableDiffusionImg2ImgPipeline's start
        offset = model.scheduler_config.get("steps_offset", 0)
        init_timestep = min(int(case["steps"] * case["strength"]) + offset, case["steps"])
        latents = sched.add_noise(original, noise, timesteps[-init_timestep])
        first = max(case["steps"] - init_timestep + offset, 0)
    trace = {"noise": noise}
    end = len(timesteps)
    refiner = case.get("refiner_model")
    if refiner is not None:  # StableDiffusionXLPipeline's denoising_end: the timesteps at or above the cut-off
        cutoff = int(round(sched.c["num_train_timesteps"] - case["refiner_switch"] * sched.c["num_train_timesteps"]))
        end = len([t for t in timesteps if t >= cutoff])
    keep = controlnet_keep(controls, len(timesteps) - first)
    for i in range(first, end):
        t = timesteps[i]
        latents = denoise_step(model, sched, latents, t, hidden, extra, cfg, guidance, extra_channels, controls,
                               keep[i - first])
        if mode == "inpaint" and not inpaint9:
            known = sched.add_noise(original, noise, timesteps[i + 1]) if i + 1 < len(timesteps) else original
            latents = (1 - latent_mask) * known + latent_mask * latents
        trace["step%d" % (i - first + 1)] = latents  # after the n-th step run, as StepProgress.step() counts
    if refiner is not None:
        # StableDiffusionXLImg2ImgPipeline with denoising_start on the base's latents (output_type "latent"): its own
        # scheduler and conditioning, the timesteps below the cut-off, no noise added; decoded with its VAE
        model, done = refiner, end - first
        sched = SCHEDULERS[case["scheduler"]](model.scheduler_config)
        sched.set_timesteps(case["steps"])
        below = [t for t in sched.timesteps if t < cutoff]
        hidden, extra, cfg = LAYOUTS[model.family](model, prompts, guidance, (h, w))
        for k, t in enumerate(below):
            latents = denoise_step(model, sched, latents, t, hidden, extra, cfg, guidance)
            trace["step%d" % (done + k + 1)] = latents
        sf = np.float32(model.scaling_factor)
    images = []
    for b in range(n):
        x = model.vae_decoder(latent_sample=latents[b:b + 1] / sf)["sample"].astype(np.float32)[0]
        v = np.clip((x + np.float32(1)) / np.float32(2), 0, 1)
        if mode == "inpaint":  # paste with feather 0: kept pixels are the input's
            keep = (mask < 0.5)[None]
            v = np.where(keep, init_image.transpose(2, 0, 1), v)
        images.append(np.round(v * 255).astype(np.uint8).transpose(1, 2, 0))
    return np.stack(images), trace


def controlnet_keep(controls, n):
    """diffusers' controlnet_keep: per step i of the n run and per ControlNet, 0 outside [start, end] (fractions)."""
    return [[1.0 - float(i / n < c["start"] or (i + 1) / n > c["end"]) for c in controls] for i in range(n)]


def controlnet_residuals(controls, keep, x, ts, hidden, extra):
    """StableDiffusionControlNetPipeline, guess mode off: every ControlNet sees the same sample, timestep and text
    (both CFG halves), the control image repeated for every row; residuals times scale * keep, summed over the
    ControlNets (MultiControlNetModel). A ControlNet with a conditioning_scale input scales them itself. SDXL's
    (StableDiffusionXLControlNetPipeline): the ControlNet also gets the UNet's added conditioning (text_embeds,
    time_ids), as added_cond_kwargs."""
    total = {}
    for c, k in zip(controls, keep):
        scale = c["scale"] * k
        cond = np.repeat(c["cond"], x.shape[0], axis=0)
        net = c["graph"]
        feeds = dict(sample=x, timestep=ts, encoder_hidden_states=hidden, controlnet_cond=cond,
                     **{n: v for n, v in extra.items() if n in net.inputs})
        if "conditioning_scale" in net.inputs:
            out = net(conditioning_scale=np.array([scale], np.float64), **feeds)
        else:
            out = {n: v.astype(np.float32) * np.float32(scale) for n, v in net(**feeds).items()}
        for n, v in out.items():
            total[n] = total[n] + v.astype(np.float32) if n in total else v.astype(np.float32)
    return total


def denoise_step(model, sched, latents, t, hidden, extra, cfg, guidance, extra_channels=None, controls=(),
                 keep=None):
    """One step: the UNet on [uncond, cond] (CFG) or cond, its 9-channel extra channels appended, with ControlNets
    the UNet that takes their residuals, then the sampler."""
    n = latents.shape[0]
    x = np.concatenate([latents, latents]) if cfg else latents
    x = sched.scale_model_input(x, t)
    if extra_channels is not None:
        x = np.concatenate([x, np.repeat(extra_channels, x.shape[0], axis=0)], axis=1)
    ts = np.array([t] * x.shape[0])
    if controls:
        residuals = controlnet_residuals(controls, keep, x, ts, hidden, extra)
        out = model.controlnet_unet(sample=x, timestep=ts, encoder_hidden_states=hidden, **residuals, **extra)
    else:
        out = model.unet(sample=x, timestep=ts, encoder_hidden_states=hidden, **extra)
    out = out["out_sample"].astype(np.float32)
    if cfg:
        u, c = out[:n], out[n:]
        out = u + np.float32(guidance) * (c - u)
    return sched.step(out, t, latents)


def encode(model, image):
    """VAE encoder: the latent distribution's mean (latent_parameters' first 4 channels, or latent_sample)."""
    out = model.vae_encoder(sample=image)
    z = out.get("latent_sample", out.get("latent_parameters"))
    return z[:, :4].astype(np.float32)


# ----------------------------------------------------------------------------------------------- PNG files
def write_png(path, rgb):
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_grey_png(path, grey):
    write_png(path, np.repeat(grey[..., None], 3, axis=2))


# ----------------------------------------------------------------------------------------------- the cases
SIZE = 64
MODELS = {"embedded": "models/tiny-sd-shapes", "optimum": "src/test/resources/fixtures/optimum",
          "int64-timestep": "src/test/resources/fixtures/int64-timestep", "fp16": "src/test/resources/fixtures/fp16",
          "inpaint9": "src/test/resources/fixtures/inpaint9", "lcm": "src/test/resources/fixtures/lcm",
          "v-prediction": "src/test/resources/fixtures/v-prediction", "controlnet": "src/test/resources/fixtures/controlnet",
          "sdxl-base": "src/test/resources/fixtures/sdxl-base", "sdxl-refiner": "src/test/resources/fixtures/sdxl-refiner",
          "sdxl-turbo": "src/test/resources/fixtures/sdxl-turbo", "sdxl-inpaint": "src/test/resources/fixtures/sdxl-inpaint",
          "sdxl-controlnet": "src/test/resources/fixtures/sdxl-controlnet"}
CONTROLNETS = {n: "src/test/resources/fixtures/" + n for n in ("controlnet-scale", "controlnet-noscale",
                                                                "sdxl-controlnet-scale")}
SDXL = ("sdxl-base", "sdxl-refiner", "sdxl-turbo", "sdxl-inpaint", "sdxl-controlnet")


def control_unit(net, image, scale, start=0.0, end=1.0):
    """One ControlNet of a case: its fixture, control image, scale and guidance window (fractions of the steps)."""
    return dict(model=net, image=image, scale=scale, start=start, end=end)


def cases():
    """Every layout with DDIM and Euler, text to image (PLMS and one-step LCM on some); image to image and
    inpainting on some. Euler runs 5 steps:
    linspace spacing then gives fractional timesteps (249.75, ...), which int64 and fp16 timestep inputs round."""
    out = []
    for name in MODELS:
        if name == "controlnet" or name in SDXL:
            continue  # ControlNet and SDXL cases below
        if name == "inpaint9":
            # Text to image on a 9-channel UNet encodes an all-grey image: a constant VAE input, where GroupNorm sees
            # zero variance and amplifies rounding (input moved by 1e-3 -> latents by 0.09; ONNX Runtime and numpy
            # differ by 0.08), so the outcome is implementation-defined noise. Checked with inpainting below instead.
            continue
        for sched, steps in (("DDIM", 4), ("Euler", 5)):
            out.append(dict(model=name, mode="txt2img", scheduler=sched, steps=steps, seed=11, batch_size=1))
    out.append(dict(model="embedded", mode="txt2img", scheduler="DDIM", steps=3, seed=40, batch_size=2))
    for name in ("embedded", "optimum", "int64-timestep", "fp16", "v-prediction"):  # SD 1.5's default: PLMS
        out.append(dict(model=name, mode="txt2img", scheduler="PLMS", steps=5, seed=12, batch_size=1))
    out.append(dict(model="lcm", mode="txt2img", scheduler="LCM", steps=1, seed=13, batch_size=1))
    for name in ("embedded", "optimum"):
        for sched in ("DDIM", "Euler"):
            out.append(dict(model=name, mode="img2img", scheduler=sched, steps=6, seed=7, batch_size=1,
                            strength=0.6))
            out.append(dict(model=name, mode="inpaint", scheduler=sched, steps=6, seed=8, batch_size=1,
                            strength=0.75))
    for sched in ("DDIM", "Euler"):
        out.append(dict(model="inpaint9", mode="inpaint", scheduler=sched, steps=4, seed=9, batch_size=1,
                        strength=1.0))
    # ControlNet (OnnxStack's split layout): each variant alone, two stacked, a guidance window, image to image
    cn = dict(model="controlnet", mode="txt2img")
    out.append(dict(cn, scheduler="DDIM", steps=4, seed=14, batch_size=2, tag="scale",
                    controls=[control_unit("controlnet-scale", "control-a.png", 0.8)]))
    out.append(dict(cn, scheduler="Euler", steps=5, seed=15, batch_size=1, tag="noscale",
                    controls=[control_unit("controlnet-noscale", "control-a.png", 1.3)]))
    out.append(dict(cn, scheduler="DDIM", steps=4, seed=16, batch_size=1, tag="stacked",
                    controls=[control_unit("controlnet-scale", "control-a.png", 0.6),
                              control_unit("controlnet-noscale", "control-b.png", 0.9)]))
    out.append(dict(cn, scheduler="DDIM", steps=6, seed=17, batch_size=1, tag="window",
                    controls=[control_unit("controlnet-noscale", "control-b.png", 1.0, 0.2, 0.7)]))
    out.append(dict(model="controlnet", mode="img2img", scheduler="Euler", steps=6, seed=18, batch_size=1,
                    strength=0.7, tag="window",
                    controls=[control_unit("controlnet-scale", "control-a.png", 1.2, 0.0, 0.6)]))
    out += sdxl_cases()
    for c in out:
        c.setdefault("strength", 1.0)
        for k, v in dict(prompt="a red circle on a blue background", negative_prompt="blurry", guidance=6.0,
                         width=SIZE, height=SIZE, mask_feather=0).items():
            c.setdefault(k, v)
        c["name"] = "%s-%s-%s-%d" % (c["model"], c["mode"], c["scheduler"].lower(), c["batch_size"])
        if "tag" in c:
            c["name"] += "-" + c.pop("tag")
    return out


def sdxl_cases():
    """SDXL: base text to image 64x48 (not square: time ids are (height, width)) with a negative prompt and with an
    empty one (zeros, force_zeros_for_empty_prompt); the refiner's image to image (aesthetic-score time ids, encoder 2
    only); the 9-channel inpainting UNet and the base with latent blending; Turbo's trailing spacing without guidance."""
    out = []
    for sched, steps in (("DDIM", 4), ("Euler", 5)):
        out.append(dict(model="sdxl-base", mode="txt2img", scheduler=sched, steps=steps, seed=21, batch_size=1,
                        height=48))
        out.append(dict(model="sdxl-base", mode="txt2img", scheduler=sched, steps=steps, seed=22, batch_size=1,
                        height=48, negative_prompt="", tag="empty-negative"))
        out.append(dict(model="sdxl-refiner", mode="img2img", scheduler=sched, steps=6, seed=23, batch_size=1,
                        strength=0.6))
        out.append(dict(model="sdxl-inpaint", mode="inpaint", scheduler=sched, steps=4, seed=24, batch_size=1))
    out.append(dict(model="sdxl-base", mode="inpaint", scheduler="Euler", steps=6, seed=25, batch_size=1,
                    strength=0.75))
    for sched in ("DDIM", "Euler"):  # base -> refiner hand-off at 0.6 of 5 steps (leading: 801 601 401 | 201 1)
        out.append(dict(model="sdxl-base", refiner="sdxl-refiner", refiner_switch=0.6, mode="txt2img", scheduler=sched,
                        steps=5, seed=27, batch_size=1, height=48, tag="refiner"))
    out.append(dict(model="sdxl-turbo", mode="txt2img", scheduler="Euler", steps=2, seed=26, batch_size=1,
                    guidance=0.0))
    # SDXL ControlNet (OnnxStack's split layout with SDXL's added conditioning): alone, and in a guidance window
    out.append(dict(model="sdxl-controlnet", mode="txt2img", scheduler="DDIM", steps=4, seed=28, batch_size=2,
                    tag="scale", controls=[control_unit("sdxl-controlnet-scale", "control-a.png", 0.8)]))
    out.append(dict(model="sdxl-controlnet", mode="txt2img", scheduler="Euler", steps=5, seed=29, batch_size=1,
                    tag="window", controls=[control_unit("sdxl-controlnet-scale", "control-b.png", 1.2, 0.0, 0.6)]))
    return out


def test_images():
    """The init image (smooth RGB) and mask (a rectangle on the 8-pixel grid, white = repaint), as uint8."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    rgb = np.stack([0.5 + 0.4 * np.sin(6 * x + 3 * y + c) for c in range(3)], axis=-1)
    rgb = np.round(rgb * 255).astype(np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[8:40, 24:56] = 255
    return rgb, mask


def control_images():
    """Two control images (uint8 RGB): a white disc on black (a mask, as ControlNet's mask module makes) and thin
    white diagonal lines (as edges)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    disc = ((x - 36) ** 2 + (y - 28) ** 2 < 18 ** 2) * 255
    lines = (((x + 2 * y) % 16) < 2) * 255
    return {"control-a.png": np.repeat(disc[..., None], 3, 2).astype(np.uint8),
            "control-b.png": np.stack([lines, lines // 2, lines], -1).astype(np.uint8)}


def compare(trace, dump):
    """Max |ours - reference| of the latents after each step, per case: where two runs part, and by how much."""
    for path in sorted(os.listdir(dump)):
        if not path.endswith(".f32"):
            continue
        ref = os.path.join(trace, path[:-4] + ".npy")
        if not os.path.exists(ref):
            print(path, "no reference trace")
            continue
        r = np.load(ref).reshape(-1)
        j = np.fromfile(os.path.join(dump, path), "<f4")
        d = np.abs(r - j).max()
        print("%-44s max|d| %.2e  max|ref| %6.2f  relative %.1e" % (path[:-4], d, np.abs(r).max(),
                                                                     d / max(np.abs(r).max(), 1e-12)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "src", "test", "resources", "conformance"))
    ap.add_argument("--only", help="case names containing this text")
    ap.add_argument("--trace", help="folder for .npy dumps of every step's latents")
    ap.add_argument("--compare", nargs=2, metavar=("TRACE", "JAVA_DUMP"),
                    help="print per-step latent differences between --trace output and the Java test's dump "
                         "(mvn test -Dtest=ReferencePipelineConformanceTest -Dsd.conformance.dump=DIR)")
    a = ap.parse_args()
    if a.compare:
        return compare(*a.compare)
    os.makedirs(a.out, exist_ok=True)
    rgb, mask = test_images()
    write_png(os.path.join(a.out, "init.png"), rgb)
    write_grey_png(os.path.join(a.out, "mask.png"), mask)
    controls = {}
    for f, img in control_images().items():
        write_png(os.path.join(a.out, f), img)  # as diffusers' control image processor: RGB / 255, NCHW, no resize
        controls[f] = (img.astype(np.float32) / np.float32(255)).transpose(2, 0, 1)[None]
    nets = {}
    init_image = rgb.astype(np.float32) / np.float32(255)
    mask_f = mask.astype(np.float32) / np.float32(255)
    tokenizer = os.path.join(ROOT, "models", "tiny-sd-shapes", "tokenizer")
    loaded = {}
    manifest = {"noise_check": {"seed": 11, "shape": [4, 8, 8],
                                "first": [float(v) for v in gaussian_noise(11, 1, (4, 8, 8)).reshape(-1)[:16]]},
                "cases": []}
    for c in cases():
        if a.only and a.only not in c["name"]:
            continue
        if c["model"] not in loaded:
            loaded[c["model"]] = Model(os.path.join(ROOT, MODELS[c["model"]]), tokenizer)
        m = loaded[c["model"]]
        run = dict(c)
        if "controls" in c:
            for u in c["controls"]:
                if u["model"] not in nets:
                    nets[u["model"]] = Graph(os.path.join(ROOT, CONTROLNETS[u["model"]], "model.onnx"))
            run["controls"] = [dict(u, graph=nets[u["model"]], cond=controls[u["image"]]) for u in c["controls"]]
        if "refiner" in c:
            if c["refiner"] not in loaded:
                loaded[c["refiner"]] = Model(os.path.join(ROOT, MODELS[c["refiner"]]), tokenizer)
            run["refiner_model"] = loaded[c["refiner"]]
        fromimg = c["mode"] != "txt2img"
        images, trace = generate(m, run, init_image if fromimg else None, mask_f if c["mode"] == "inpaint" else None)
        c["expected"] = []
        for i, img in enumerate(images):
            f = "%s-%d.png" % (c["name"], i)
            write_png(os.path.join(a.out, f), img)
            c["expected"].append(f)
        if a.trace:
            os.makedirs(a.trace, exist_ok=True)
            for k, v in trace.items():
                np.save(os.path.join(a.trace, "%s-%s.npy" % (c["name"], k)), v)
        manifest["cases"].append(c)
        print(c["name"], "done", flush=True)
    path = os.path.join(a.out, "cases.json")
    if a.only and os.path.exists(path):  # only some cases rerun: keep the others' entries, replace these
        with open(path) as f:
            old = json.load(f)
        ran = {c["name"]: c for c in manifest["cases"]}
        kept = [ran.pop(c["name"], c) for c in old["cases"]]
        manifest["cases"] = kept + list(ran.values())
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
