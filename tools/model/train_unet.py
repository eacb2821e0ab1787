"""Trains the UNet and the text encoder together on cached VAE latents (epsilon or v prediction).

- Latents: the VAE encoder's posterior (mean, log-variance) of a fixed, seeded set of training images
  (training combinations only), cached once; each step draws a fresh posterior sample and scales it
  by scaling_factor = 1 / std(latents), as Stable Diffusion does with 0.18215.
- Noise schedule: SD 1.5's scaled_linear betas (0.00085 .. 0.012, 1000 steps), or another last beta with --beta-end
  (by default the --init-model's); the export declares it in scheduler_config.json, which every sampler reads.
- The caption is replaced by the empty prompt for 10 % of samples (--drop), so classifier-free guidance works.
- Loss: MSE on the noise, weighted by min(SNR, 5) / SNR (min-SNR weighting, faster convergence); with
  --prediction-type v_prediction (SD 2.x's parametrisation, v = sqrt(alpha_bar) noise - sqrt(1 - alpha_bar) x0) MSE on
  v weighted by min(SNR, 5) / (SNR + 1), the same weight on the x0 error. Epsilon's x0 estimate at high noise is its
  error times sqrt(1 - alpha_bar) / sqrt(alpha_bar) (about 13 at t = 951): guidance and multistep samplers (PLMS)
  multiply that further; v's x0 error there is the model's own (issue 12's grid).
- --stable-target K (Xu et al. 2023, "Stable Target Field for Reduced Variance Score Estimation"): the target is
  not the one clean latent a noised sample came from but the posterior mean over a reference set that contains it
  (weights softmax(-|x_t - sqrt(alpha_bar) z_j|^2 / 2 (1 - alpha_bar))): the caption's cached latents for the
  caption, K random cached latents for the empty prompt. At low noise that is the sample's own latent (the usual
  target); at high noise, where one clean latent says almost nothing about x_t, it is the mean the UNet has to learn,
  without the noise. Every sample is trained with its caption and with the empty prompt at the same x_t, and
  --difference-weight adds the error of (caption - empty), the part classifier-free guidance multiplies by g - 1.
- --end-to-end PLMS:10,PNDM:10 (the seventh base): trains through the samplers. Each step runs one of them from K
  starts (noise, a training caption, guidance 3-9) with the UNet being trained, gradients through every call, and adds
  the error of its final latents against where the EMA UNet's guided DDIM at 50 steps takes the same start. The
  multistep samplers amplify UNet errors that change from call to call; this trains the UNet on what they do with
  its outputs, where --trajectories and --multistep-weight trained single calls or one combination.
- An exponential moving average of the weights (UNet and text encoder) is kept and exported.
- --init-model DIR starts from an exported model's UNet and text encoder (read back from its ONNX files);
  --freeze-text-encoder keeps that text encoder as it is (issue 12's second base model: a new VAE latent space,
  the first model's captions encoder, so embeddings trained on it keep their meaning).
Seeded and resumable.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads collapse on a shared, busy machine
import argparse
import copy
import os
import random
import time

import numpy as np
import torch

import dataset
from clip_tokenizer import ClipTokenizer
from common import BETA_END, BETA_START, TEXT_CFG, VAE_CFG, WORK, alphas_cumprod, lr_at, save_atomic, seed_all, unet_cfg
from models import AutoencoderKL, BasicTransformerBlock, TextEncoder, UNet, count


def cache_latents(vae_path, out, n, seed, batch=100):
    if os.path.exists(out):
        return torch.load(out)
    vae = AutoencoderKL(VAE_CFG)
    import adapt_common
    ck = adapt_common.vae_checkpoint(vae_path)
    vae.load_state_dict(ck["model"])
    vae.eval()
    rng = random.Random(seed)
    combos = dataset.train_combos()
    index = {c: i for i, c in enumerate(dataset.all_combos())}
    means, logvars, labels = [], [], []
    t0 = time.time()
    with torch.no_grad():
        for k in range(0, n, batch):
            imgs, cs = dataset.make_batch(rng, combos, min(batch, n - k))
            m, lv = vae.encode(torch.from_numpy(dataset.to_tensor_range(imgs)))
            means.append(m)
            logvars.append(lv)
            labels += [index[c] for c in cs]
    mean = torch.cat(means)
    logvar = torch.cat(logvars)
    std = mean.std().item()
    sf = ck.get("scaling_factor", float(f"{1.0 / std:.5g}"))  # an exported model's own, else 1 / std
    data = {"mean": mean, "logvar": logvar, "label": torch.tensor(labels), "scaling_factor": sf,
            "latent_std": std, "latent_mean": mean.mean().item()}
    print(f"cached {n} latents in {time.time() - t0:.0f} s: std {std:.4f} mean {mean.mean().item():.4f} "
          f"posterior std {(0.5 * logvar).exp().mean().item():.4f} -> scaling_factor {sf}", flush=True)
    save_atomic(data, out)
    return data


def stable_target(x_t, a, z, reference):
    """The posterior mean of the clean latent given x_t over a reference set plus the sample's own z (None: none): z [B,4,h,w],
    reference [K,4*h*w] shared by the batch or [B,K,4*h*w] per sample (scaled latents), a = alpha_bar [B,1,1,1].
    Squared distances as |x|^2 - 2 s x.r + s^2 |r|^2 (float64: no [B,K,4*h*w] difference tensor on every step)."""
    x, ref = x_t.flatten(1).double(), reference.double()
    s, var2 = a.view(-1, 1).double().sqrt(), 2 * (1 - a.view(-1, 1).double())
    shared = ref.dim() == 2
    cross = x @ ref.T if shared else torch.einsum("bd,bkd->bk", x, ref)
    d_ref = ((x * x).sum(1, keepdim=True) - 2 * s * cross + s * s * (ref * ref).sum(-1)) / var2
    if z is None:  # a point off the forward process (a sampler's trajectory): the reference set alone
        w = torch.softmax(-d_ref, 1)
    else:
        z0 = z.flatten(1).double()
        w = torch.softmax(-torch.cat([((x - s * z0) ** 2).sum(1, keepdim=True) / var2, d_ref], 1), 1)
    w_ref = w if z is None else w[:, 1:]
    mean = w_ref @ ref if shared else torch.einsum("bk,bkd->bd", w_ref, ref)
    if z is not None:
        mean = w[:, :1] * z0 + mean
    return mean.to(x_t.dtype).view_as(x_t)


def deepen(unet, layers):
    """A copy of `unet` with `layers` transformer blocks in each attention: its own blocks first, then new ones
    whose attention and feed-forward output projections are zero, so each is the identity (x + 0) and the copy
    computes exactly what `unet` does until training moves them."""
    have = unet.cfg.get("transformer_layers_per_block", 1)
    if layers < have:
        raise SystemExit(f"--transformer-layers {layers}: the UNet to start from already has {have} blocks per "
                         "attention")
    deeper = UNet(unet_cfg(layers))
    missing, unexpected = deeper.load_state_dict(unet.state_dict(), strict=False)
    assert not unexpected and all(".transformer_blocks." in k for k in missing), (missing, unexpected)
    with torch.no_grad():
        for name, module in deeper.named_modules():
            if isinstance(module, BasicTransformerBlock) and int(name.rsplit(".", 1)[-1]) >= have:
                for out in (module.attn1.to_out, module.attn2.to_out, module.ff[1]):
                    out.weight.zero_()
                    out.bias.zero_()
    for key in ("prediction_type", "beta_end"):
        if hasattr(unet, key):
            setattr(deeper, key, getattr(unet, key))
    deeper.train()
    return deeper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--drop", type=float, default=0.1)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--n-latents", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vae", default=os.path.join(WORK, "vae.pt"),
                    help="train_vae.py's checkpoint or an exported model folder (its VAE read back from ONNX)")
    ap.add_argument("--latents", default=os.path.join(WORK, "latents.pt"))
    ap.add_argument("--out", default=os.path.join(WORK, "unet.pt"))
    ap.add_argument("--init-model", default=None, help="exported model folder to start from")
    ap.add_argument("--init-checkpoint", default=None, metavar="PT",
                    help="with --init-model: start from this train_unet.py checkpoint's averaged (EMA) weights "
                         "instead of the folder's, with a fresh optimiser and step count (a new run from where another "
                         "ended; resuming keeps that run's options and schedule), at its depth (a deepened run's "
                         "needs no --transformer-layers)")
    ap.add_argument("--freeze-text-encoder", action="store_true")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--prediction-type", choices=("epsilon", "v_prediction"), default=None,
                    help="what the UNet predicts (default: the --init-model's, else epsilon); the export writes it "
                         "to scheduler_config.json")
    ap.add_argument("--snr-floor", type=float, default=0.0,
                    help="weight min(max(SNR, floor), 5) instead of min(SNR, 5): 1 trains the noisiest steps, where "
                         "the picture is decided and guidance multiplies the error, as an x0 loss of weight 1")
    ap.add_argument("--beta-end", type=float, default=None,
                    help="the scaled_linear schedule's last beta (default: the --init-model's, else SD 1.5's 0.012; "
                         "more puts more noise on every timestep), written to scheduler_config.json by export.py")
    ap.add_argument("--stable-target", type=int, default=0,
                    help="K > 0: stable target field, the posterior mean over the caption's cached latents and (empty "
                         "prompt) K random cached latents (K >= the cache's size: all of them) as the target; each "
                         "sample with both prompts (--drop unused)")
    ap.add_argument("--difference-weight", type=float, default=0.0,
                    help="with --stable-target: weight of the error of the caption's minus the empty prompt's output")
    ap.add_argument("--focus-t", default=None, metavar="T:P",
                    help="draw a share P of the timesteps from T..999 instead of 0..999 (e.g. 400:0.8: more training "
                         "where the picture is decided; the rest stays uniform so the last steps do not drift)")
    ap.add_argument("--trajectories", default=None, metavar="SAMPLER:STEPS[,...]",
                    help="with --stable-target: also train on the points the model's own samplers visit (e.g. "
                         "PLMS:10,PNDM:10, guidance 3-9 on training captions, renewed every --trajectory-every steps), "
                         "towards the exact posterior mean there: the points a few-step sampler reaches are off the "
                         "forward process, where the plain targets never train the UNet")
    ap.add_argument("--trajectory-share", type=float, default=0.5,
                    help="weight P of the loss on the trajectories' points (round(P x batch) of them each step, "
                         "beside the batch, whose loss gets weight 1 - P)")
    ap.add_argument("--trajectory-guidance", default=None, metavar="G[,...]",
                    help="the guidance scales the trajectories are run at, as many trajectories each (default 3,5,7,9; "
                         "7,9: only where PLMS at 10 steps fails)")
    ap.add_argument("--trajectory-every", type=int, default=250, help="steps between renewals of the trajectories")
    ap.add_argument("--trajectory-target", choices=("posterior", "ddim"), default="posterior",
                    help="posterior: the exact posterior mean at the points from t 300 up; ddim: at the points from t "
                         "100 to 499, where PLMS's last steps combine the UNet's outputs, the clean latents that plain "
                         "DDIM steps of the EMA UNet (the same guidance, 100 apart) reach from there, for both prompts "
                         "(the model card: the multistep combination is harmless there on a trajectory that DDIM "
                         "finishes)")
    ap.add_argument("--trajectory-difference", choices=("same", "guidance"), default="same",
                    help="the weight of the caption-minus-empty error at the trajectories' points: same: "
                         "--difference-weight; guidance: the point's guidance minus 1, the factor guidance multiplies "
                         "that error by (a g 9 point's guided output is off by 8 times it)")
    ap.add_argument("--multistep-weight", type=float, default=0.0, metavar="W",
                    help="with --stable-target: add W times the error PLMS makes when it combines the UNet's guided "
                         "outputs at four timesteps 100 apart (weights 55, -59, 37, -9 over 24) on the forward process "
                         "of one clean latent and one noise, at a guidance drawn from 3-9 (divided by it)")
    ap.add_argument("--end-to-end", default=None, metavar="SAMPLER:STEPS[,...]",
                    help="with --stable-target: add the error of these samplers' final latents (run with the UNet "
                         "being trained, gradients through every call) against the UNet's own DDIM at "
                         "--end-to-end-teacher-steps from the same noise, caption and guidance (3-9); samplers take "
                         "turns, one a step")
    ap.add_argument("--end-to-end-weight", type=float, default=1.0, metavar="W")
    ap.add_argument("--end-to-end-batch", type=int, default=8, metavar="K", help="sampler runs a step")
    ap.add_argument("--end-to-end-pool", type=int, default=384, metavar="N",
                    help="(noise, caption, guidance, teacher's latents) kept, drawn from, renewed every "
                         "--end-to-end-every steps with the EMA UNet")
    ap.add_argument("--end-to-end-every", type=int, default=100)
    ap.add_argument("--end-to-end-teacher-steps", type=int, default=50)
    ap.add_argument("--transformer-layers", type=int, default=None, metavar="N",
                    help="with --init-model: N transformer blocks in each attention (diffusers' "
                         "transformer_layers_per_block); the added blocks start as the identity (their output "
                         "projections zero), so training starts from the base's outputs")
    ap.add_argument("--input-perturbation", type=float, default=0.0, metavar="GAMMA",
                    help="with --stable-target: the UNet sees x_t + sqrt(1 - alpha_bar) GAMMA xi, the targets stay "
                         "those of x_t (DDPM-IP, Ning et al. 2023: exposure bias; 0.1 in the paper)")
    ap.add_argument("--max-minutes", type=float, default=1e9, help="stop early (checkpoint kept, rerun resumes)")
    args = ap.parse_args()
    if args.focus_t is not None:
        try:
            lo, share = args.focus_t.split(":")
            args.focus_t = (int(lo), float(share))
        except ValueError:
            ap.error(f"--focus-t is T:P, e.g. 400:0.8, not {args.focus_t}")
        if not (0 <= args.focus_t[0] < 1000 and 0 <= args.focus_t[1] <= 1):
            ap.error(f"--focus-t needs 0 <= T < 1000 and 0 <= P <= 1, not {args.focus_t[0]}:{args.focus_t[1]}")
    if args.trajectories and not args.stable_target:
        ap.error("--trajectories needs --stable-target K: the target at a trajectory's point is the posterior mean")
    if args.trajectories:
        import oracle_grid
        for spec in args.trajectories.split(","):
            sampler, _, steps = spec.rpartition(":")
            if not (oracle_grid.known_sampler(sampler) and steps.isdigit() and int(steps) > 0):
                ap.error(f"--trajectories takes SAMPLER:STEPS[,...] with a sampler of oracle_grid.py (PLMS, PNDM, "
                         f"Euler a, LCM, DPM++ 2M [SDE] [Karras]), e.g. PLMS:10,PNDM:10, not {spec!r}")
        if not 0 < args.trajectory_share <= 1 or args.trajectory_every < 1:
            ap.error("--trajectory-share needs 0 < P <= 1 and --trajectory-every at least 1 step")
    if args.multistep_weight and (not args.stable_target or args.trajectories):
        ap.error("--multistep-weight needs --stable-target K (its targets are the posterior means) and no --trajectories")
    if args.end_to_end:
        import oracle_grid
        if not args.stable_target or args.trajectories or args.multistep_weight:
            ap.error("--end-to-end is added to the stable loss: give --stable-target K, and no --trajectories or "
                     "--multistep-weight")
        for spec in args.end_to_end.split(","):
            sampler, _, steps = spec.rpartition(":")
            if not (oracle_grid.known_sampler(sampler) and steps.isdigit() and int(steps) > 0):
                ap.error(f"--end-to-end takes SAMPLER:STEPS[,...] with a sampler of oracle_grid.py (PLMS, PNDM, "
                         f"Euler a, LCM, DPM++ 2M [SDE] [Karras]), e.g. PLMS:10,PNDM:10, not {spec!r}")
        if min(args.end_to_end_batch, args.end_to_end_pool, args.end_to_end_every,
               args.end_to_end_teacher_steps) < 1 or args.end_to_end_teacher_steps > 1000:
            ap.error("--end-to-end-batch, -pool, -every and -teacher-steps: each at least 1 (teacher steps at most "
                     "1000)")
    if args.trajectory_target != "posterior" and not args.trajectories:
        ap.error(f"--trajectory-target {args.trajectory_target} is the target at the points of --trajectories: give "
                 "those too (e.g. --trajectories PLMS:10,PNDM:10)")
    if args.trajectory_guidance is not None and not args.trajectories:
        ap.error("--trajectory-guidance is the guidance of --trajectories: give those too")
    try:
        trajectory_guidance = [float(g) for g in (args.trajectory_guidance or "3,5,7,9").split(",")]
    except ValueError:
        ap.error(f"--trajectory-guidance takes guidance scales separated by commas, e.g. 7,9, not "
                 f"{args.trajectory_guidance}")
    if any(g < 1 for g in trajectory_guidance):
        ap.error("--trajectory-guidance: each scale at least 1 (1: no guidance)")
    if args.trajectory_difference != "same" and not args.trajectories:
        ap.error("--trajectory-difference weighs the points of --trajectories: give those too")
    if args.init_checkpoint and not args.init_model:
        ap.error("--init-checkpoint needs --init-model DIR too (the model folder the checkpoint was trained from: "
                 "its scheduler, VAE scaling and configuration)")
    if args.input_perturbation and (not args.stable_target or args.input_perturbation < 0):
        ap.error("--input-perturbation GAMMA needs GAMMA >= 0 and --stable-target K (it perturbs that loss's x_t)")
    if args.difference_weight and not args.stable_target:
        ap.error("--difference-weight needs --stable-target K: the difference is taken between a sample's caption and "
                 "empty-prompt outputs, which only the stable target trains together")
    # the run's command line, so that a log says how its checkpoint was made
    print("arguments:", " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
                                 for k, v in vars(args).items() if v is not None and v is not False), flush=True)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    data = cache_latents(args.vae, args.latents, args.n_latents, args.seed + 1000)
    sf = data["scaling_factor"]

    tok = ClipTokenizer()
    captions = [dataset.caption(*c) for c in dataset.all_combos()]
    cap_ids = torch.tensor([tok(c) for c in captions], dtype=torch.long)
    empty_ids = torch.tensor(tok(""), dtype=torch.long)

    if args.freeze_text_encoder and not args.init_model:
        ap.error("--freeze-text-encoder keeps a trained text encoder: give it with --init-model DIR")
    if args.init_model:
        import adapt_common
        te, unet = adapt_common.load_model(args.init_model)[:2]  # read back frozen: make them trainable again
        te.train()
        unet.train()
        for p in unet.parameters():
            p.requires_grad_(True)
        for p in te.parameters():
            p.requires_grad_(not args.freeze_text_encoder)
        if args.init_checkpoint:  # its averaged weights, at its depth (deeper than the base's if it was deepened)
            if not os.path.isfile(args.init_checkpoint):
                ap.error(f"--init-checkpoint {args.init_checkpoint}: no such file (give a train_unet.py checkpoint, "
                         "a run's --out)")
            start = torch.load(args.init_checkpoint)
            if not isinstance(start, dict) or "ema_unet" not in start:
                ap.error(f"--init-checkpoint {args.init_checkpoint} is not a train_unet.py checkpoint (no EMA UNet)")
            depth = start["unet_cfg"].get("transformer_layers_per_block", 1)
            if depth != unet.cfg.get("transformer_layers_per_block", 1):
                unet = deepen(unet, depth)
            unet.load_state_dict(start["ema_unet"])
            te.load_state_dict(start["ema_text_encoder"])
            for key in ("prediction_type", "beta_end"):  # what the checkpoint was trained for, as when resuming
                if key in start:
                    setattr(unet, key, start[key])
            print(f"starting from {args.init_checkpoint}'s averaged weights (its step {start['step']})", flush=True)
        if args.transformer_layers is not None:
            unet = deepen(unet, args.transformer_layers)
    else:
        te = TextEncoder(TEXT_CFG)
        unet = UNet(unet_cfg(args.transformer_layers or 1))
    # a frozen text encoder is neither optimised nor averaged (its EMA would drift from it by rounding, about 1e-6)
    params = list(unet.parameters()) + ([] if args.freeze_text_encoder else list(te.parameters()))
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    ema_te, ema_unet = copy.deepcopy(te), copy.deepcopy(unet)
    for p in list(ema_te.parameters()) + list(ema_unet.parameters()):
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(args.seed)
    step = 0
    resumed = None
    if os.path.exists(args.out):
        ck = resumed = torch.load(args.out)
        te.load_state_dict(ck["text_encoder"])
        unet.load_state_dict(ck["unet"])
        ema_te.load_state_dict(ck["ema_text_encoder"])
        ema_unet.load_state_dict(ck["ema_unet"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        gen.set_state(ck["gen"])
        print(f"resumed at step {step}", flush=True)
    print(f"params: text encoder {count(te)}, unet {count(unet)}; scaling_factor {sf}", flush=True)
    # The noise schedule and what the UNet predicts follow the run being resumed, else the base of --init-model,
    # else SD 1.5's: a retrain from a base keeps its schedule unless told otherwise; a resumed run cannot change it.
    before = {"beta_end": BETA_END, "prediction_type": "epsilon"}  # checkpoints and bases older than the options
    if resumed is not None:
        base = {k: resumed.get(k, v) for k, v in before.items()}
    elif args.init_model:
        base = {k: getattr(unet, k, v) for k, v in before.items()}  # adapt_common.load_model read its scheduler
    else:
        base = before
    for key, value in base.items():
        given = getattr(args, key)
        if resumed is not None and given is not None and given != value:
            ap.error(f"{args.out} was trained with --{key.replace('_', '-')} {value}: resume it with that, or give "
                     f"another --out to start a new run")
        setattr(args, key, value if given is None else given)
    print(f"noise schedule: scaled_linear {BETA_START}..{args.beta_end}; the UNet predicts {args.prediction_type}",
          flush=True)

    ac = alphas_cumprod(args.beta_end)
    snr = ac / (1 - ac)
    v_prediction = args.prediction_type == "v_prediction"
    weight = torch.clamp(snr, min=args.snr_floor, max=5.0) / (snr + 1 if v_prediction else snr)
    n = data["mean"].shape[0]
    ema_params = list(ema_unet.parameters()) + ([] if args.freeze_text_encoder else list(ema_te.parameters()))

    def save():
        save_atomic({"text_encoder": te.state_dict(), "unet": unet.state_dict(),
                     "ema_text_encoder": ema_te.state_dict(), "ema_unet": ema_unet.state_dict(),
                     "opt": opt.state_dict(), "step": step, "gen": gen.get_state(), "scaling_factor": sf,
                     "prediction_type": args.prediction_type, "beta_end": args.beta_end,
                     "text_cfg": dict(TEXT_CFG), "unet_cfg": dict(unet.cfg)}, args.out)

    if args.stable_target:
        reference = (data["mean"] * sf).flatten(1)  # [n, 256] the cached latents' means, scaled
        labels = data["label"]
        per_label = min(int((labels == k).sum()) for k in labels.unique())
        by_label = torch.zeros(int(labels.max()) + 1, per_label, reference.shape[1])
        for k in labels.unique():  # the first per_label latents of each caption (they are in random order)
            by_label[k] = reference[(labels == k).nonzero().squeeze(1)[:per_label]]
        print(f"stable target field: {per_label} latents per caption, {min(args.stable_target, n)} for the empty "
              "prompt", flush=True)
    t0 = time.time()
    last_save = time.time()
    hist = []

    def empty_reference():
        """The empty prompt's reference set: K random cached latents, or with K >= the cache's size all of them (no
        draw). With 2048 of 20000 the empty prompt's target at t 500-700 is 0.10-0.12 RMS from the whole cache's, as
        large as the trained UNet's error there, and nearer the sample's own latent than the caption's target (227
        latents of its caption against about 27): a caption-minus-empty difference that guidance multiplies by g - 1
        and the whole cache does not have (t 301: 0.052 against 0.019 RMS; the model card, tenth session)."""
        if args.stable_target >= n:
            return reference
        return reference[torch.randint(0, n, (args.stable_target,), generator=gen)]

    def timesteps():
        """A batch of timesteps: uniform, or with --focus-t a share of them from T up (the same draws without it)."""
        t = torch.randint(0, len(ac), (args.batch,), generator=gen)
        if args.focus_t is not None:
            lo, share = args.focus_t
            focus = torch.rand(args.batch, generator=gen) < share
            t = torch.where(focus, lo + torch.randint(0, len(ac) - lo, (args.batch,), generator=gen), t)
        return t

    def clean_latents(k):
        """k cached latents drawn at random: their indices and a sample of each one's posterior, scaled."""
        idx = torch.randint(0, n, (k,), generator=gen)
        mean, logvar = data["mean"][idx], data["logvar"][idx]
        return idx, (mean + torch.randn(mean.shape, generator=gen) * (0.5 * logvar).exp()) * sf

    def plain_loss():
        """The usual target: the noise (or v) of the one clean latent; --drop of the captions empty."""
        idx, z = clean_latents(args.batch)
        ids = cap_ids[data["label"][idx]].clone()
        drop = torch.rand(args.batch, generator=gen) < args.drop
        ids[drop] = empty_ids
        t = timesteps()
        noise = torch.randn(z.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * z + (1 - a).sqrt() * noise
        with torch.set_grad_enabled(not args.freeze_text_encoder):
            hs, _ = te(ids)
        pred = unet(x_t, t.float(), hs)
        target = a.sqrt() * noise - (1 - a).sqrt() * z if v_prediction else noise
        per = ((pred - target) ** 2).flatten(1).mean(1)
        loss = (per * weight[t]).mean()
        return loss, [loss.item(), per.mean().item()]

    def two_prompt_outputs(x_t, t, a, labels, z_cond, z_empty, x_in=None):
        """The errors of the UNet's outputs at x_t (or, --input-perturbation, at x_in) with each sample's caption and
        with the empty prompt against the targets that make its clean-latent estimates at x_t z_cond and z_empty."""
        k = x_t.shape[0]
        x_in = x_t if x_in is None else x_in
        ids = torch.cat([cap_ids[labels], empty_ids.expand(k, -1)])
        with torch.set_grad_enabled(not args.freeze_text_encoder):
            hs, _ = te(ids)
        pred = unet(torch.cat([x_in, x_in]), torch.cat([t, t]).float(), hs)
        targets = [(a.sqrt() * x_t - zz) / (1 - a).sqrt() if v_prediction else (x_t - a.sqrt() * zz) / (1 - a).sqrt()
                   for zz in (z_cond, z_empty)]
        p_cond, p_empty = pred.chunk(2)
        return p_cond - targets[0], p_empty - targets[1]

    def two_prompt_errors(x_t, t, a, labels, z_cond, z_empty, x_in=None):
        """Per sample, the mean squared error of the two outputs (two_prompt_outputs) and the error of their
        difference (what guidance multiplies)."""
        e_cond, e_empty = two_prompt_outputs(x_t, t, a, labels, z_cond, z_empty, x_in)
        per = ((e_cond ** 2).flatten(1).mean(1) + (e_empty ** 2).flatten(1).mean(1)) / 2
        diff = ((e_cond - e_empty) ** 2).flatten(1).mean(1)
        return per, diff

    def stable_loss():
        """--stable-target: the posterior mean over the reference sets, each sample with its caption and the empty
        prompt at the same x_t, and the error of their difference."""
        idx, z = clean_latents(args.batch)
        t = timesteps()
        noise = torch.randn(z.shape, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * z + (1 - a).sqrt() * noise
        others = empty_reference()
        with torch.no_grad():
            z_cond = stable_target(x_t, a, z, by_label[data["label"][idx]])
            z_empty = stable_target(x_t, a, z, others)
        x_in = x_t + (1 - a).sqrt() * args.input_perturbation * torch.randn(z.shape, generator=gen) \
            if args.input_perturbation else None
        per, diff = two_prompt_errors(x_t, t, a, data["label"][idx], z_cond, z_empty, x_in)
        loss = ((per + args.difference_weight * diff) * weight[t]).mean()
        return loss, [loss.item(), per.mean().item(), diff.mean().item()]

    plms_weights = torch.tensor([-9.0, 37.0, -59.0, 55.0]) / 24  # oldest (highest t) call first

    def multistep_loss():
        """--multistep-weight: PLMS's four-step combination of the guided error, which amplifies errors that change
        from call to call (the model card: PLMS at 10 steps). Groups of four points t, t - 100, t - 200, t - 300 of
        one clean latent noised with one noise, each with its caption and the empty prompt."""
        k = max(1, args.batch // 4)
        idx, z = clean_latents(k)
        noise = torch.randn(z.shape, generator=gen)
        top = torch.randint(300, len(ac), (k,), generator=gen)
        t = torch.cat([top - 100 * j for j in range(4)])  # [4k]: group member j of every group, then j + 1
        zz, nn_, lab = z.repeat(4, 1, 1, 1), noise.repeat(4, 1, 1, 1), data["label"][idx].repeat(4)
        a = ac[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * zz + (1 - a).sqrt() * nn_
        others = empty_reference()
        with torch.no_grad():
            z_cond = stable_target(x_t, a, zz, by_label[lab])
            z_empty = stable_target(x_t, a, zz, others)
        e_cond, e_empty = two_prompt_outputs(x_t, t, a, lab, z_cond, z_empty)
        g = 3 + 6 * torch.rand(k, generator=gen)
        guided = e_cond + (g.repeat(4) - 1).view(-1, 1, 1, 1) * (e_cond - e_empty)  # the guided output's error
        combined = (plms_weights.view(4, 1, 1, 1, 1) * guided.view(4, k, *guided.shape[1:])).sum(0)
        return ((combined / g.view(-1, 1, 1, 1)) ** 2).flatten(1).mean(1).mean()

    def stable_and_multistep_loss():
        loss, stats = stable_loss()
        extra = multistep_loss()
        return loss + args.multistep_weight * extra, stats + [extra.item()]

    trajectory = {}  # the points the samplers visited: x [N,4,h,w], t [N], label [N]

    def renew_trajectories():
        """Runs the --trajectories samplers with the EMA UNet and CFG on random training captions at guidance 3-9 and
        keeps every point the UNet was called at (oracle_grid.py's samplers, which match the Java pipeline's)."""
        import oracle_grid
        oracle_grid.AC = ac.double()
        xs, ts, labels, gs = [], [], [], []
        n_traj = 96
        with torch.no_grad():
            uncond = te(empty_ids[None])[0]
        for spec in args.trajectories.split(","):
            sampler, steps = spec.rsplit(":", 1)
            for guidance in trajectory_guidance:
                lab = data["label"][torch.randint(0, n, (n_traj,), generator=gen)]
                with torch.no_grad():
                    cond = te(cap_ids[lab])[0]
                eps = oracle_grid.unet_guided(ema_unet, v_prediction, cond, uncond.expand(n_traj, -1, -1), guidance)

                def recording(x, t, eps=eps, lab=lab, guidance=guidance):
                    xs.append(x.float().clone())
                    ts.append(torch.full((x.shape[0],), int(t)))
                    labels.append(lab)
                    gs.append(torch.full((x.shape[0],), guidance))
                    return eps(x, t)
                x = torch.randn((n_traj, 4, 8, 8), generator=gen).double()
                seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
                oracle_grid.sample(sampler, recording, x, int(steps), seed, v_prediction)
        x, t, label, g = torch.cat(xs), torch.cat(ts), torch.cat(labels), torch.cat(gs)
        # the v target (sqrt(a) x - z) / sqrt(1 - a) of a point off the forward process grows without bound as a -> 1:
        # no points below t 100 (sqrt(1 - a) 0.34 there)
        if args.trajectory_target == "ddim":
            keep = (t >= 100) & (t < 500)
            x, t, label, g = x[keep], t[keep], label[keep], g[keep]
            trajectory.update(x=x, t=t, label=label, g=g, target=ddim_ends(x, t, label, g, uncond))
        else:  # nor below t 300, where the posterior mean snaps to one training latent
            keep = t >= 300
            trajectory.update(x=x[keep], t=t[keep], label=label[keep], g=g[keep])
        print(f"trajectories: {trajectory['x'].shape[0]} points from {args.trajectories}", flush=True)

    def ddim_ends(x, t, label, g, uncond):
        """The clean latents plain guided DDIM steps of the EMA UNet reach from each point (x, t): steps 100 apart down
        to the last timestep >= 1, then to alpha_bar[0], as the samplers' last step (set_alpha_to_one false)."""
        import oracle_grid  # its AC is this run's schedule (renew_trajectories set it)
        ends = torch.empty_like(x)
        for tt in t.unique():
            rows = (t == tt).nonzero().squeeze(1)
            with torch.no_grad():
                cond = te(cap_ids[label[rows]])[0]
            eps = oracle_grid.unet_guided(ema_unet, v_prediction, cond, uncond.expand(len(rows), -1, -1),
                                          g[rows].double().view(-1, 1, 1, 1))
            ends[rows] = oracle_grid.ddim(eps, x[rows].double(), list(range(int(tt), 0, -100)), ac).float()
        return ends

    def trajectory_loss(k):
        """k points of the trajectories, each with its caption and the empty prompt, towards their targets: the
        posterior means, or (--trajectory-target ddim) where DDIM takes them, for both prompts."""
        pick = torch.randint(0, trajectory["x"].shape[0], (k,), generator=gen)
        x_t, t, lab = trajectory["x"][pick], trajectory["t"][pick], trajectory["label"][pick]
        a = ac[t].view(-1, 1, 1, 1)
        if args.trajectory_target == "ddim":
            z_cond = z_empty = trajectory["target"][pick]
        else:
            others = empty_reference()
            z_cond = stable_target(x_t, a, None, by_label[lab])
            z_empty = stable_target(x_t, a, None, others)
        per, diff = two_prompt_errors(x_t, t, a, lab, z_cond, z_empty)
        w_diff = trajectory["g"][pick] - 1 if args.trajectory_difference == "guidance" else args.difference_weight
        return ((per + w_diff * diff) * weight[t]).mean()

    def mixed_loss():
        """--trajectories: the stable loss on the forward process and on the samplers' points, by their shares."""
        if step % args.trajectory_every == 0 or not trajectory:
            renew_trajectories()
        loss, stats = stable_loss()
        k = max(1, round(args.batch * args.trajectory_share))
        on_path = trajectory_loss(k)
        share = args.trajectory_share
        return (1 - share) * loss + share * on_path, stats + [on_path.item()]

    pool = {}  # --end-to-end: noise x [N,4,h,w], label [N], guidance g [N], the teacher's final latents [N,4,h,w]

    def renew_pool():
        """Noise, training captions and guidance 3-9, and where the EMA UNet's guided DDIM takes each: the final
        latents a sampler at few steps should reach from the same start."""
        import oracle_grid
        oracle_grid.AC = ac.double()
        began = time.time()
        k = args.end_to_end_pool
        x = torch.randn((k, 4, 8, 8), generator=gen)
        label = data["label"][torch.randint(0, n, (k,), generator=gen)]
        g = 3 + 6 * torch.rand(k, generator=gen)
        with torch.no_grad():
            cond, uncond = te(cap_ids[label])[0], te(empty_ids[None])[0].expand(k, -1, -1)
        eps = oracle_grid.unet_guided(ema_unet, v_prediction, cond, uncond, g.double().view(-1, 1, 1, 1))
        s = args.end_to_end_teacher_steps
        ts = [int(t) for t in (np.arange(0, s) * (1000 // s) + 1)[::-1]]  # leading spacing, as the grid's DDIM
        target = oracle_grid.ddim(eps, x.double(), ts, ac)
        pool.update(x=x, label=label, g=g, target=target.float())
        print(f"end-to-end pool: {k} DDIM {s}-step runs of the EMA UNet, {time.time() - began:.0f} s", flush=True)

    def end_to_end_loss():
        """A sampler of --end-to-end (one a step, in turn) from k pooled starts with the UNet being trained, gradients
        through every call, against the teacher's final latents."""
        import oracle_grid
        if step % args.end_to_end_every == 0 or not pool:
            renew_pool()
        specs = args.end_to_end.split(",")
        sampler, steps = specs[step % len(specs)].rsplit(":", 1)
        k = args.end_to_end_batch
        pick = torch.randint(0, args.end_to_end_pool, (k,), generator=gen)
        x, label, g = pool["x"][pick], pool["label"][pick], pool["g"][pick].view(-1, 1, 1, 1)
        with torch.no_grad():
            hs = torch.cat([te(empty_ids[None])[0].expand(k, -1, -1), te(cap_ids[label])[0]])

        def eps(x, t):  # oracle_grid's samplers call eps(x, t): the guided noise, here with gradients
            a = ac[int(t)]
            out = unet(torch.cat([x, x]).float(), torch.full((2 * k,), float(t)), hs)
            if v_prediction:
                out = a.sqrt() * out + (1 - a).sqrt() * torch.cat([x, x])
            e_u, e_c = out.chunk(2)
            return e_u + g * (e_c - e_u)
        seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
        final = oracle_grid.sample(sampler, eps, x, int(steps), seed, v_prediction)
        return ((final - pool["target"][pick]) ** 2).flatten(1).mean(1).mean()

    def stable_and_end_to_end_loss():
        loss, stats = stable_loss()
        extra = end_to_end_loss()
        return loss + args.end_to_end_weight * extra, stats + [extra.item()]

    batch_loss = stable_and_end_to_end_loss if args.end_to_end else mixed_loss if args.trajectories else \
        stable_and_multistep_loss if args.multistep_weight else stable_loss if args.stable_target else plain_loss
    extra_name = "multistep" if args.multistep_weight else "end-to-end" if args.end_to_end else "on the trajectories"
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        loss, stats = batch_loss()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema_params, params):
                pe.mul_(d).add_(p.detach(), alpha=1 - d)
        hist.append(stats)
        if step % 100 == 0 or step == args.steps:
            h = np.mean(hist, 0)
            hist = []
            print(f"step {step} loss {h[0]:.4f} mse {h[1]:.4f}" + (f" difference {h[2]:.4f}" if len(h) > 2 else "")
                  + (f" {extra_name} {h[3]:.4f}" if len(h) > 3 else "")
                  + f" lr {opt.param_groups[0]['lr']:.2e} {(time.time() - t0) / 60:.1f} min", flush=True)
        if time.time() - last_save > 180:
            save()
            last_save = time.time()
        if (time.time() - t0) / 60 > args.max_minutes:
            print("max minutes reached, stopping (rerun to resume)", flush=True)
            break
    save()
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
