"""What an exact denoiser would do: is a failing sampler x steps x guidance cell the UNet's fault or the latent space's?

Issue 12 asks every sampler to work at guidance 3-9 with 10 and 20 steps. The first embedded model failed with PLMS,
LMS and high guidance at 10 steps, and more UNet training did not help. This script replaces the UNet by the exact
posterior mean of an empirical data set (for x_t at alpha_bar a: x0 = sum_i w_i z_i, w = softmax(-|x_t - sqrt(a)
z_i|^2 / 2(1 - a)), conditional: the caption's latents, unconditional: all of them), runs the samplers with
classifier-free guidance exactly as the pipeline does, decodes with the model's VAE and checks the images with
evaluate.classify. A cell that fails here fails for any UNet: the latent space is at fault.

  python3 oracle_grid.py --model ../../models/tiny-sd-shapes          # the VAE of an exported model
  python3 oracle_grid.py --vae-checkpoint /work/train/v2/vae.pt --scaling-factor 1.4924
  python3 oracle_grid.py --model ../../models/tiny-sd-shapes --errors # the model's UNet against the exact denoiser
  python3 oracle_grid.py --model ../../models/tiny-sd-shapes --step-errors PLMS:10:7  # ... along PLMS's trajectory
  python3 oracle_grid.py --model ../../models/tiny-sd-shapes --unet --cells "PLMS:10:7"  # the UNet, QualityGrid's cell
  python3 oracle_grid.py --model ../../models/tiny-sd-shapes --unet /work/train/unet.pt --cells ...  # a checkpoint's

Measured (15 training combinations x 2 seeds, 600 latents per combination, 12000 for the unconditional pool):
first model's VAE DDIM 10 steps g9 77 %, PLMS 20 g5 83 %, PLMS 20 g9 27 %, Euler a 10 g7 47 %, Euler a 20 g9 87 %;
the linear-colour VAE (train_vae.py --linear-colour 1 --extrapolate 0.25): 100, 100, 97, 100, 100 %.
The fourth base's VAE, --prediction-type epsilon --cells "PLMS:10:3,PLMS:10:5,PLMS:10:9,PLMS:20:9": 100, 77, 40,
100 %; with --prediction-type v_prediction (PLMS combining v, as for its v UNet) and PLMS:10:7 added: 100, 80, 50, 27, 100 %;
"LCM:10:5,LCM:10:9": 100, 97 %; --prediction-type v_prediction "PNDM:10:3,PNDM:10:5,PNDM:10:7,PNDM:10:9": 100, 100, 90, 73 %.
"DPM++ 2M SDE Karras:10:7,DPM++ 2M SDE Karras:10:9,DPM++ 2M SDE:10:9,DPM++ 2M SDE Karras:20:9": 87, 60, 100, 100 %;
"DPM++ 2M Karras:10:9" (the ODE): 100 %. With --smooth 0.1 (no memorising) "PLMS:10:9,PNDM:10:9,DPM++ 2M SDE
Karras:10:9,PLMS:10:7": 30, 70, 70, 33 %: the memorising denoiser is not why those fail.
Noise schedule (--beta-end, scaled_linear from 0.00085; the fourth base's 0.012 puts alpha_bar 0.0047 at t = 999),
same VAE, v: 0.02 (alpha_bar 0.00023 at t = 999) PLMS 10 g5/g7/g9 97/90/87 %, PNDM 10 g7/g9 100/97 %, PLMS 20 g9 100 %,
DPM++ 2M SDE 10 g9 97 %, DPM++ 2M Karras 10 g9 100 %, but DPM++ 2M SDE Karras 10 g7/g9 67/47 %; 0.016: PLMS 10 g9
30 %, PNDM 10 g9 90 %, SDE Karras 10 g7/g9 73/47 %; 0.010: 37, 80, 80, 70 %; 0.025: PLMS 10 g7/g9 70/67 %, PNDM 10 g9
93 %, SDE Karras 10 g7/g9 60/47 %, LCM 10 g9 100 % (30 images a cell: about +-8 % of noise).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import functools
import json
import random

import numpy as np
import torch

import adapt_common
import dataset
import evaluate
from common import BETA_END, VAE_CFG, alphas_cumprod, unet_cfg
from models import AutoencoderKL, UNet

AC = alphas_cumprod().double()
SIGMA_MAX = None  # the model's scheduler_config.json sigma_max, where Karras schedules start (None: the schedule's)
CELLS = [("DDIM", 10, 9), ("PLMS", 20, 5), ("PLMS", 20, 9), ("Euler a", 10, 7), ("Euler a", 20, 9)]


def unet_output(eps, x, t, v_prediction):
    """The exact denoiser's prediction at (x, t) as the UNet it stands in for returns it: the noise, or v."""
    e = eps(x, t)
    if not v_prediction:
        return e
    a = AC[t]
    return a.sqrt() * e - (1 - a).sqrt() * (x - (1 - a).sqrt() * e) / a.sqrt()


def ddim(eps, x, timesteps, ac):
    """Plain DDIM (eta 0) from x at timesteps[0] through the others, the last step to alpha_bar[0] as the samplers' last
    (set_alpha_to_one false); eps(x, t) is the guided noise."""
    for i, t in enumerate(timesteps):
        a, a_prev = ac[t].double(), ac[timesteps[i + 1] if i + 1 < len(timesteps) else 0].double()
        e = eps(x, t)
        x = a_prev.sqrt() * (x - (1 - a).sqrt() * e) / a.sqrt() + (1 - a_prev).sqrt() * e
    return x


def pndm_prev_sample(x, t, prev_t, out, v_prediction):
    """x at prev_t from x at t and a (combined) model output: the PNDM paper's formula (9), as diffusers'
    PNDMScheduler._get_prev_sample (which turns v into the noise with this x and t)."""
    a, ap = AC[t], AC[prev_t] if prev_t >= 0 else AC[0]
    e = a.sqrt() * out + (1 - a).sqrt() * x if v_prediction else out
    return (ap / a).sqrt() * x - (ap - a) * e / (a * (1 - ap).sqrt() + (a * (1 - a) * ap).sqrt())


def plms(eps, x, steps, v_prediction=False, window=None):
    """diffusers' PNDMScheduler with skip_prk_steps (SD 1.5's default sampler). With v_prediction the multistep
    combination acts on v, converted to the noise afterwards with the step's sample, as diffusers does. window = (lo,
    hi), a diagnosis and not a sampler: the multistep combination only at steps from t in [lo, hi), elsewhere the call's
    own output (a DDIM step), to see where the combination does its damage."""
    ratio = 1000 // steps
    ts = np.arange(0, steps) * ratio + 1
    ts = np.concatenate([ts[:-1], ts[-2:-1], ts[-1:]])[::-1]
    ets, cur, counter = [], None, 0
    for t in ts:
        t = int(t)
        e = unet_output(eps, x, t, v_prediction)
        prev_t = t - ratio
        if counter != 1:
            ets = ets[-3:] + [e]
        else:
            prev_t, t = t, t + ratio
        if len(ets) == 1 and counter == 0:
            use, cur = e, x
        elif len(ets) == 1 and counter == 1:
            use, x, cur = (e + ets[-1]) / 2, cur, None
        elif window is not None and not window[0] <= t < window[1]:
            use = e
        elif len(ets) == 2:
            use = (3 * ets[-1] - ets[-2]) / 2
        elif len(ets) == 3:
            use = (23 * ets[-1] - 16 * ets[-2] + 5 * ets[-3]) / 12
        else:
            use = (55 * ets[-1] - 59 * ets[-2] + 37 * ets[-3] - 9 * ets[-4]) / 24
        x = pndm_prev_sample(x, t, prev_t, use, v_prediction)
        counter += 1
    return x


def pndm(eps, x, steps, v_prediction=False):
    """diffusers' PNDMScheduler without skip_prk_steps: three Runge-Kutta steps (four calls each, at t, t - h/2, t - h/2,
    t - h) warm up the multistep history, then PLMS. Model outputs are combined as the UNet returns them (v for a v
    UNet) and turned into the noise with the step's start sample and timestep, as diffusers does."""
    ratio, half = 1000 // steps, 1000 // steps // 2
    base = np.arange(0, steps) * ratio + 1
    points = [int(base[steps - 4 + k // 2]) + (half if k % 2 else 0) for k in range(7)]
    prk = [points[(k + 1) // 2] for k in range(12)][::-1]
    output = functools.partial(unet_output, eps, v_prediction=v_prediction)  # (x, t)
    prev_sample = functools.partial(pndm_prev_sample, v_prediction=v_prediction)  # (x, t, prev_t, out)

    ets = []
    for i in range(0, 12, 4):  # Runge-Kutta: start sample x, slopes at t, the midpoint twice, the end
        t, mid, end = prk[i], prk[i + 1], prk[i + 3]
        k1 = output(x, t)
        ets.append(k1)
        k2 = output(prev_sample(x, t, mid, k1), mid)
        k3 = output(prev_sample(x, t, mid, k2), mid)
        k4 = output(prev_sample(x, t, end, k3), end)
        x = prev_sample(x, t, end, (k1 + 2 * k2 + 2 * k3 + k4) / 6)
    for t in base[:steps - 3][::-1]:
        t = int(t)
        ets = ets[-3:] + [output(x, t)]
        use = (55 * ets[-1] - 59 * ets[-2] + 37 * ets[-3] - 9 * ets[-4]) / 24
        x = prev_sample(x, t, t - ratio, use)
    return x


def euler_ancestral(eps, x, steps, seed):
    """diffusers' EulerAncestralDiscreteScheduler, linspace spacing."""
    ts = np.linspace(0, 999, steps)[::-1]
    sig = np.append(np.interp(ts, np.arange(1000), ((1 - AC) / AC).sqrt().numpy()), 0.0)
    g = torch.Generator().manual_seed(seed)
    x = x * float(np.sqrt(sig[0] ** 2 + 1))
    for i, t in enumerate(ts):
        s, nxt = sig[i], sig[i + 1]
        x0 = x - s * eps(x / np.sqrt(s ** 2 + 1), t)
        up = min(nxt, np.sqrt(nxt ** 2 * (s ** 2 - nxt ** 2) / s ** 2)) if nxt > 0 else 0.0
        down = np.sqrt(max(nxt ** 2 - up ** 2, 0))
        x = x + (x - x0) / s * (down - s) + torch.randn(x.shape, generator=g).double() * up
    return x


def dpmpp_2m(eps, x, steps, seed, karras, sde):
    """diffusers' DPMSolverMultistepScheduler, dpmsolver++ or (sde) sde-dpmsolver++, solver_order 2 (midpoint),
    lower_order_final and final_sigmas_type zero; use_karras_sigmas for A1111's "... Karras", from the configured
    sigma_max where the model's scheduler_config.json has one (diffusers' _convert_to_karras). The solver works on
    the denoised estimate x0 (so it does not matter whether the UNet predicts the noise or v); the SDE draws fresh
    noise every step."""
    train = ((1 - AC) / AC).sqrt().numpy()
    if karras:
        ramp = np.linspace(0, 1, steps)
        lo, hi = train[0] ** (1 / 7), (SIGMA_MAX or train[-1]) ** (1 / 7)
        sig = (hi + ramp * (lo - hi)) ** 7
        ts = np.rint(np.interp(np.log(sig), np.log(train), np.arange(1000)))
    else:  # timestep_spacing linspace
        ts = np.linspace(0, 999, steps + 1).round()[::-1][:-1]
        sig = np.interp(ts, np.arange(1000), train)
    sig = np.append(sig, 0.0)
    g = torch.Generator().manual_seed(seed)
    alpha = lambda s: 1 / np.sqrt(1 + s * s)  # noqa: E731 (VP: x = alpha (x0 + s noise))
    lam = lambda s: np.log(alpha(s)) - np.log(s * alpha(s))  # noqa: E731
    prev_x0 = None
    for i, t in enumerate(ts):
        s, nxt = sig[i], sig[i + 1]
        x0 = (x - s * alpha(s) * eps(x, int(t))) / alpha(s)
        if nxt == 0:  # the final first-order step to sigma 0 returns the estimate
            return x0
        h = lam(nxt) - lam(s)
        d = x0 if prev_x0 is None else x0 + 0.5 * (x0 - prev_x0) * h / (lam(s) - lam(sig[i - 1]))
        decay = np.exp(-h) if sde else 1.0  # (sT / sS) e^-h for the SDE, sT / sS for the ODE
        x = (nxt / s) * (alpha(nxt) / alpha(s)) * decay * x + alpha(nxt) * (1 - np.exp(-h) * decay) * d
        if sde:
            x = x + nxt * alpha(nxt) * np.sqrt(1 - np.exp(-2 * h)) * torch.randn(x.shape, generator=g).double()
        prev_x0 = x0
    return x


def lcm(eps, x, steps, seed):
    """diffusers' LCMScheduler (original_inference_steps 50, timestep_scaling 10) with classifier-free guidance in
    eps: each step the denoised estimate (boundary conditions c_skip, c_out), noised afresh to the next timestep."""
    origin = (np.arange(1, 51) * 20 - 1)[::-1]
    ts = origin[np.floor(np.linspace(0, len(origin), num=steps, endpoint=False)).astype(np.int64)]
    g = torch.Generator().manual_seed(seed)
    for i, t in enumerate(ts):
        t = int(t)
        a = AC[t]
        x0 = (x - (1 - a).sqrt() * eps(x, t)) / a.sqrt()
        scaled = t * 10.0
        c_skip, c_out = 0.25 / (scaled ** 2 + 0.25), scaled / (scaled ** 2 + 0.25) ** 0.5
        x = c_out * x0 + c_skip * x
        if i + 1 < len(ts):
            ap = AC[int(ts[i + 1])]
            x = ap.sqrt() * x + (1 - ap).sqrt() * torch.randn(x.shape, generator=g).double()
    return x


def known_sampler(sampler):
    """Whether sample() runs this sampler."""
    return sampler in ("PLMS", "PNDM", "LCM", "Euler a") or sampler.startswith("DPM++ 2M")


def sample(sampler, eps, x, steps, seed, v_prediction, window=None):
    """The clean latents from the noise x with one of the samplers above (DDIM is adapt_common.ddim_loop; window: PLMS
    only, see plms)."""
    if sampler == "PLMS":
        return plms(eps, x, steps, v_prediction, window)
    if sampler == "PNDM":
        return pndm(eps, x, steps, v_prediction)
    if sampler == "LCM":
        return lcm(eps, x, steps, seed)
    if sampler.startswith("DPM++ 2M"):
        return dpmpp_2m(eps, x, steps, seed, sampler.endswith("Karras"), "SDE" in sampler)
    if sampler == "Euler a":
        return euler_ancestral(eps, x, steps, seed)
    raise SystemExit(f"no sampler {sampler!r} here: PLMS, PNDM, Euler a, LCM, DPM++ 2M [SDE] [Karras] (and DDIM "
                     "for the exact denoiser)")


def decoded(vae, sf, x):
    """Scaled latents -> uint8 NHWC images through the VAE decoder."""
    with torch.no_grad():
        img = vae.decode((x / sf).float())
    return ((img.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def all_right(images, combos):
    """Per image: background, object colour and shape all as its combination says (evaluate.classify)."""
    out = []
    for im, (color, shape, bg) in zip(images, combos):
        r = evaluate.classify(im)
        out.append(r["background"] == bg and r["color"] == color and r["shape"] == shape)
    return out


def posterior_mean(x, a, pool, smooth=0.0):
    """E[z | x_t = x] for z drawn from the pool, or (smooth = tau > 0) from the pool blurred by N(0, tau^2): then
    x_t | z_i ~ N(sqrt(a) z_i, a tau^2 + 1 - a) and E[z | x_t, z_i] = z_i + sqrt(a) tau^2 (x - sqrt(a) z_i) / (a tau^2
    + 1 - a). Unblurred, the denoiser snaps to the nearest pool latent at low noise (it memorises), and guidance then
    multiplies the gap between the conditional and the unconditional pool's nearest latents; a UNet generalises."""
    var = a * smooth ** 2 + 1 - a
    d = ((x[None] - a.sqrt() * pool) ** 2).flatten(1).sum(1) / (2 * var)
    w = torch.softmax(-d, 0)
    mean = (w[:, None, None, None] * pool).sum(0)
    return mean + a.sqrt() * smooth ** 2 / var * (x - a.sqrt() * mean) if smooth else mean


def oracle(pools, everything, smooth=0.0):
    """eps2(xx, t) of the exact denoiser for the batch xx = [x; x]: [unconditional; conditional] noise predictions,
    image i conditioned on pools[i] (adapt_common.ddim_loop's interface)."""
    def eps2(xx, t):
        n = xx.shape[0] // 2
        a = AC[int(round(float(t[0]) if torch.is_tensor(t) else t))]
        x = xx[:n].double()
        unc = [(x[i] - a.sqrt() * posterior_mean(x[i], a, everything, smooth)) / (1 - a).sqrt() for i in range(n)]
        con = [(x[i] - a.sqrt() * posterior_mean(x[i], a, pools[i], smooth)) / (1 - a).sqrt() for i in range(n)]
        return torch.stack(unc + con).to(xx.dtype)
    return eps2


def guided(eps2, guidance):
    """eps(x, t) with classifier-free guidance, for the samplers written here."""
    def eps(x, t):
        e_u, e_c = eps2(torch.cat([x, x]), t).chunk(2)
        return e_u + guidance * (e_c - e_u)
    return eps


def model_unet(model, combos, loaded=None):
    """The model's UNet, whether it predicts v, and the text states of the captions and of the empty prompt
    (loaded: adapt_common.load_model(model) when the caller has it already)."""
    from clip_tokenizer import ClipTokenizer
    te, unet = (loaded or adapt_common.load_model(model))[:2]
    tok = ClipTokenizer()
    ids = torch.tensor([tok(dataset.caption(*c)) for c in combos] + [tok("")], dtype=torch.long)
    with torch.no_grad():
        states = te(ids)[0]
    n = len(combos)
    return (unet, getattr(unet, "prediction_type", "epsilon") == "v_prediction", states[:n],
            states[n:].expand(n, -1, -1))


def unet_branches(unet, v_prediction, cond, uncond):
    """branches(x, t) of the model's UNet: its noise predictions for the empty prompt and for the captions (a v
    UNet's outputs converted to noise, as the pipeline combines them)."""
    n = cond.shape[0]

    def branches(x, t):
        a = AC[int(t)]
        with torch.no_grad():
            out_u, out_c = (unet(x.float(), torch.full((n,), float(t)), s).double() for s in (uncond, cond))
        to_eps = (lambda o: a.sqrt() * o + (1 - a).sqrt() * x) if v_prediction else (lambda o: o)  # noqa: E731
        return to_eps(out_u), to_eps(out_c)
    return branches


def unet_guided(unet, v_prediction, cond, uncond, guidance):
    """eps(x, t) of the model's UNet with classifier-free guidance, combined in the noise as the pipeline does."""
    branches = unet_branches(unet, v_prediction, cond, uncond)

    def eps(x, t):
        e_u, e_c = branches(x, t)
        return e_u + guidance * (e_c - e_u)
    return eps


def unet_errors(model, pools, everything, combos, timesteps=(999, 901, 801, 701, 601, 501, 301, 101), reps=4):
    """How far the model's UNet is from the exact denoiser, per timestep: the RMS error of its estimate of the clean
    latents x0 with the empty prompt (unconditional) and with the caption, and of their difference c - u, which
    guidance multiplies by g - 1, next to the exact |c - u|. x_t: pool latents of the 15 captions, noised."""
    unet, v_prediction, cond, uncond = model_unet(model, combos)
    n = len(combos)
    rms = lambda d: d.pow(2).mean().sqrt().item()  # noqa: E731
    g = torch.Generator().manual_seed(3)
    table = {}
    for t in timesteps:
        a = AC[t]
        rows = []
        for _ in range(reps):
            z = torch.stack([p[torch.randint(0, len(p), (1,), generator=g)][0] for p in pools])
            x = a.sqrt() * z + (1 - a).sqrt() * torch.randn(z.shape, generator=g).double()
            exact_u = torch.stack([posterior_mean(x[i], a, everything) for i in range(n)])
            exact_c = torch.stack([posterior_mean(x[i], a, pools[i]) for i in range(n)])
            with torch.no_grad():
                out_u, out_c = (unet(x.float(), torch.full((n,), float(t)), s).double() for s in (uncond, cond))
            to_x0 = ((lambda out: a.sqrt() * x - (1 - a).sqrt() * out) if v_prediction
                     else (lambda out: (x - (1 - a).sqrt() * out) / a.sqrt()))
            u, c = to_x0(out_u), to_x0(out_c)
            rows.append([rms(u - exact_u), rms(c - exact_c), rms((c - u) - (exact_c - exact_u)), rms(exact_c - exact_u)])
        r = np.mean(rows, 0)
        table[t] = [round(float(v), 3) for v in r]
        print(f"t {t} (alpha_bar {float(a):.4f}): UNet x0 RMS error unconditional {r[0]:.3f}, conditional {r[1]:.3f}; "
              f"error of c - u {r[2]:.3f}, exact |c - u| {r[3]:.3f}", flush=True)
    return table


def step_errors(model, pools, everything, combos, steps, guidance, seeds=(1000, 1001)):
    """Does PLMS's multistep combination amplify the UNet's error? Runs PLMS with the model's UNet (guided) and, at every
    call, the exact denoiser at the same x; records the error of the guided output in the form the sampler combines
    (v for a v UNet); prints per call the RMS error, its correlation with the previous call's error, and the RMS of
    the error after PLMS's four-step combination (55, -59, 37, -9)/24: about 3.7x the single error if errors are
    uncorrelated from one call to the next, about 1x if they are the same."""
    unet, v_prediction, cond, uncond = model_unet(model, combos)
    n = len(combos)
    exact = guided(oracle(pools, everything), guidance)
    model_eps = unet_guided(unet, v_prediction, cond, uncond, guidance)
    calls = []

    def eps(x, t):
        a = AC[int(t)]
        e = model_eps(x, t)
        err = e - exact(x, int(t))
        calls.append((int(t), err / a.sqrt() if v_prediction else err))  # d v = d eps / sqrt(alpha_bar) at fixed x
        return e

    for seed in seeds:
        calls.clear()
        x = torch.randn((n, 4, 8, 8), generator=torch.Generator().manual_seed(seed)).double()
        plms(eps, x, steps, v_prediction)
        rms = lambda d: d.pow(2).mean().sqrt().item()  # noqa: E731
        history = []  # what PLMS combines: every call's output but the second (diffusers' warm-up step redoes the first)
        for k, (t, e) in enumerate(calls):
            if k == 1:
                continue
            history.append(e)
            corr = float(torch.nn.functional.cosine_similarity(e.flatten(1), history[-2].flatten(1)).mean()) \
                if len(history) > 1 else float("nan")
            four = len(history) >= 4
            combined = (55 * e - 59 * history[-2] + 37 * history[-3] - 9 * history[-4]) / 24 if four else None
            print(f"seed {seed} call {k} t {t}: RMS error {rms(e):.3f}, cosine with the previous combined call's {corr:.2f}"
                  + (f", four-step combination {rms(combined):.3f} ({rms(combined) / rms(e):.1f}x)" if four else ""),
                  flush=True)


def hybrid_cells(model, pools, everything, combos, cells, seeds, t_min):
    """Which branch of classifier-free guidance does a failing cell need better? Runs each cell four ways on the
    training captions: the UNet, the UNet with the exact denoiser's empty-prompt output (u) or caption output (c) in
    place of its own from t_min up, and the exact denoiser for both from t_min up. Below t_min the exact denoiser
    memorises its pool (the model card), so there the UNet's own outputs are kept for both branches.
    Measured (the sixth base, PLMS 10 steps g7 / g9, 30 images a cell, --hybrid 400): UNet 67 / 63 %, exact u 30 / 17 %,
    exact c 50 / 27 %, both exact 87 / 73 %: the UNet's errors in u and c largely cancel in c - u, which guidance
    multiplies; one branch made exact alone leaves the other's whole error in c - u."""
    loaded = adapt_common.load_model(model)
    unet, v_prediction, cond, uncond = model_unet(model, combos, loaded)
    vae, sf = loaded[2:4]
    exact2 = oracle(pools, everything)
    model_branches = unet_branches(unet, v_prediction, cond, uncond)
    n = len(combos)
    results = {}
    for sampler, steps, guidance in cells:
        for name, exact_u, exact_c in (("UNet", False, False), ("UNet, exact u", True, False),
                                       ("UNet, exact c", False, True), ("exact u and c", True, True)):
            def eps(x, t, exact_u=exact_u, exact_c=exact_c):
                if int(t) < t_min or not (exact_u or exact_c):
                    e_u, e_c = model_branches(x, t)
                elif exact_u and exact_c:
                    e_u, e_c = exact2(torch.cat([x, x]), int(t)).double().chunk(2)
                else:
                    (x_u, x_c), (m_u, m_c) = exact2(torch.cat([x, x]), int(t)).double().chunk(2), model_branches(x, t)
                    e_u, e_c = (x_u, m_c) if exact_u else (m_u, x_c)
                return e_u + guidance * (e_c - e_u)
            ok = []
            for seed in range(1000, 1000 + seeds):
                x = torch.randn((n, 4, 8, 8), generator=torch.Generator().manual_seed(seed)).double()
                ok += all_right(decoded(vae, sf, sample(sampler, eps, x, steps, seed, v_prediction)), combos)
            key = f"{name}, {sampler}, {steps} steps, guidance {guidance:g}"
            results[key] = round(100 * float(np.mean(ok)), 1)
            print(f"{key}: {100 * np.mean(ok):.0f} % all right", flush=True)
    return results


def grid_seed(first_seed, combination, image):
    """QualityGrid.seed: the seed of image `image` of held-out combination `combination`, 1000 apart per
    combination, so no two images of a cell share their initial noise."""
    return first_seed + 1000 * combination + image


def unet_cells(model, checkpoint, cells, seeds, first_seed=1000, window=None):
    """QualityGrid's cells in torch, for a checkpoint that is not exported yet: the model's UNet (or a train_unet.py
    checkpoint's EMA weights) on the held-out combinations, image k of combination i from the Java pipeline's initial
    noise java.util.Random(grid_seed(first_seed, i, k)) (java_random.py; QualityGrid's first seed is 1000), the
    samplers above, evaluate.classify. PLMS and PNDM give QualityGrid's rates (the sixth base, 10 steps, 30 images a
    cell: PLMS g7/g9 60 / 50 %, PNDM g7/g9 70 / 63 % in both; with shared seeds they matched image for image); the
    stochastic samplers draw their noise from torch here, so they agree only in distribution. No DDIM
    (adapt_common.ddim_loop draws its own initial noise)."""
    import java_random
    combos = dataset.heldout_combos()
    loaded = adapt_common.load_model(model)
    unet, v_prediction, cond, uncond = model_unet(model, combos, loaded)
    vae, sf = loaded[2:4]
    if checkpoint:
        ck = torch.load(checkpoint)
        for key, value in (("beta_end", unet.beta_end), ("prediction_type", unet.prediction_type)):
            if key in ck and ck[key] != value:  # the samplers run the model folder's schedule and parametrisation
                raise SystemExit(f"{checkpoint} was trained with {key} {ck[key]}, {model} has {value}: give --model a "
                                 f"folder exported with the same (export.py), or measure an exported model")
        layers = ck.get("unet_cfg", {}).get("transformer_layers_per_block", 1)
        if layers != unet.cfg["transformer_layers_per_block"]:  # a deeper UNet (train_unet.py --transformer-layers)
            deeper = UNet(unet_cfg(layers)).eval()
            deeper.prediction_type, deeper.beta_end = unet.prediction_type, unet.beta_end
            unet = deeper
        unet.load_state_dict(ck["ema_unet"])
    n = len(combos)
    results = {}
    for sampler, steps, guidance in cells:
        eps = unet_guided(unet, v_prediction, cond, uncond, guidance)
        ok = []
        for k in range(seeds):
            noise = np.concatenate([java_random.gaussian_noise(grid_seed(first_seed, i, k), 1, (4, 8, 8))
                                    for i in range(n)]).astype(np.float64)
            x = torch.from_numpy(noise)
            ok += all_right(decoded(vae, sf, sample(sampler, eps, x, steps, first_seed + k, v_prediction, window)),
                            combos)
        results[f"{sampler}, {steps} steps, guidance {guidance:g}"] = round(100 * float(np.mean(ok)), 1)
        print(f"UNet, held-out, {sampler}, {steps} steps, guidance {guidance:g}: {100 * np.mean(ok):.0f} % all right",
              flush=True)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=adapt_common.MODEL)
    ap.add_argument("--vae-checkpoint", default=None, help="a train_vae.py checkpoint instead of --model's VAE")
    ap.add_argument("--scaling-factor", type=float, default=None)
    ap.add_argument("--per-combo", type=int, default=600)
    ap.add_argument("--pool", type=int, default=12000)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=1000, help="with --unet: QualityGrid's --first-seed "
                    "(1000; 1500 draws another set of images, to judge a checkpoint on images its choice did not see)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cells", default=None, help='e.g. "PLMS:10:5,PLMS:10:9" (sampler:steps:guidance; '
                    'DDIM, PLMS, PNDM, Euler a, LCM, DPM++ 2M [SDE] [Karras]) instead of the five measured ones')
    ap.add_argument("--prediction-type", default=None, choices=("epsilon", "v_prediction"),
                    help="what the UNet the exact denoiser stands in for predicts (PLMS and PNDM combine that; the "
                         "--model's own by default, epsilon with --vae-checkpoint)")
    ap.add_argument("--smooth", type=float, default=0.0, help="blur the pools by N(0, tau^2) (a denoiser that "
                    "does not memorise the pool at low noise; 0: the exact, memorising one)")
    ap.add_argument("--errors", action="store_true", help="measure the model's UNet against the exact denoiser "
                    "per timestep (x0 RMS errors, unconditional and conditional) instead of running samplers")
    ap.add_argument("--step-errors", default=None, help="PLMS:10:7: the UNet's error per PLMS call along "
                    "its own trajectory against the exact denoiser, and what the multistep combination makes of it")
    ap.add_argument("--unet", nargs="?", const="", default=None, metavar="CHECKPOINT",
                    help="run --cells (not DDIM) with the model's UNet (or this train_unet.py checkpoint's EMA "
                         "weights) on the held-out captions, as QualityGrid does, instead of the exact denoiser")
    ap.add_argument("--multistep-window", default=None, metavar="LO:HI",
                    help="with --unet, PLMS cells: the multistep combination only at steps from t in [LO, HI), the "
                         "call's own output (a DDIM step) elsewhere: where does the combination do its damage")
    ap.add_argument("--hybrid", type=int, default=None, metavar="T_MIN",
                    help="run --cells four ways on the training captions: the UNet, the UNet with the exact "
                         "denoiser's empty-prompt or caption output from T_MIN up, and with both")
    ap.add_argument("--beta-end", type=float, default=None, help="another scaled_linear schedule's last beta (the "
                    "model's own, from its scheduler_config.json, by default)")
    args = ap.parse_args()
    global AC, SIGMA_MAX
    scheduler = {}  # a --vae-checkpoint has no scheduler_config.json: SD 1.5's schedule, epsilon
    if not args.vae_checkpoint:
        with open(os.path.join(args.model, "scheduler", "scheduler_config.json")) as f:
            scheduler = json.load(f)
    AC = alphas_cumprod(args.beta_end or scheduler.get("beta_end", BETA_END)).double()
    SIGMA_MAX = scheduler.get("sigma_max")
    prediction_type = args.prediction_type or scheduler.get("prediction_type", "epsilon")
    cells = CELLS if not args.cells else [(c.split(":")[0], int(c.split(":")[1]), float(c.split(":")[2]))
                                          for c in args.cells.split(",")]
    window = None
    if args.multistep_window:
        lo, _, hi = args.multistep_window.partition(":")
        if not (lo.isdigit() and hi.isdigit()):
            ap.error(f"--multistep-window takes LO:HI, two timesteps (e.g. 150:2000), not {args.multistep_window!r}")
        if args.unet is None or any(sampler != "PLMS" for sampler, _, _ in cells):
            ap.error("--multistep-window changes PLMS only, with --unet: give --unet and PLMS cells only")
        window = (int(lo), int(hi))
    torch.set_num_threads(args.threads)
    if args.unet is not None:
        print(json.dumps(unet_cells(args.model, args.unet, cells, args.seeds, args.first_seed, window)))
        return
    if args.vae_checkpoint:
        vae = AutoencoderKL(VAE_CFG)
        vae.load_state_dict(torch.load(args.vae_checkpoint)["model"])
        vae.eval()
        sf = args.scaling_factor
    else:
        _, _, vae, sf, _, _ = adapt_common.load_model(args.model)
        if args.scaling_factor:
            sf = args.scaling_factor
    combos = random.Random(0).sample(dataset.train_combos(), 15)
    pools = [adapt_common.make_set(vae, args.per_combo, [c], 100 + i)[0].double() * sf for i, c in enumerate(combos)]
    everything = torch.cat([adapt_common.make_set(vae, args.pool, dataset.train_combos(), 11)[0].double() * sf] + pools)
    if args.step_errors:
        sampler, steps, guidance = args.step_errors.split(":")
        if sampler != "PLMS":  # PNDM's Runge-Kutta warm-up combines its calls otherwise
            raise SystemExit(f"--step-errors measures PLMS (its four-step combination), not {sampler}")
        step_errors(args.model, pools, everything, combos, int(steps), float(guidance))
        return
    if args.errors:
        print(json.dumps(unet_errors(args.model, pools, everything, combos)))
        return
    if args.hybrid is not None:
        print(json.dumps(hybrid_cells(args.model, pools, everything, combos, cells, args.seeds, args.hybrid)))
        return
    results = {}
    for sampler, steps, guidance in cells:
        ok = []
        for seed in range(1000, 1000 + args.seeds):
            eps2 = oracle(pools, everything, args.smooth)
            if sampler == "DDIM":  # the project's DDIM loop (leading spacing, steps_offset 1) and decoding
                img = adapt_common.ddim_loop(eps2, vae, sf, len(combos), seed, steps, guidance, ac=AC.float())
            else:
                x = torch.randn((len(combos), 4, 8, 8), generator=torch.Generator().manual_seed(seed)).double()
                x = sample(sampler, guided(eps2, guidance), x, steps, seed, prediction_type == "v_prediction")
                img = decoded(vae, sf, x)
            ok += all_right(img, combos)
        results[f"{sampler}, {steps} steps, guidance {guidance}"] = round(100 * float(np.mean(ok)), 1)
        print(f"exact denoiser, {sampler}, {steps} steps, guidance {guidance}: {100 * np.mean(ok):.0f} % all right",
              flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
