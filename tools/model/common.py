"""Shared settings: model sizes, noise schedule, checkpoint helpers."""
import os
import random

import numpy as np
import torch

from models import TextConfig, UNetConfig, VAEConfig

WORK = os.environ.get("TINY_SD_WORK", "/work/train")

# The embedded model (models/tiny-sd-shapes). Sizes chosen to stay under 40 MB of fp32 weights.
TEXT_CFG = TextConfig(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=192)
UNET_ARGS = dict(block_out_channels=(64, 128), layers_per_block=1, cross_attention_dim=48, attention_head_dim=4,
                 norm_num_groups=8, sample_size=8)
UNET_CFG = UNetConfig(**UNET_ARGS)


def unet_cfg(transformer_layers=1):
    """The embedded UNet's configuration with N transformer blocks per attention (train_unet.py
    --transformer-layers; the shipped bases have 1)."""
    return UNetConfig(**UNET_ARGS, transformer_layers_per_block=transformer_layers)
VAE_CFG = VAEConfig(block_out_channels=(16, 32, 64, 96), layers_per_block=1, norm_num_groups=4, sample_size=64)

# SD 1.5 noise schedule (scaled_linear), the same as scheduler_config.json; a base may end at another beta_end
BETA_START, BETA_END, NUM_TRAIN_TIMESTEPS = 0.00085, 0.012, 1000


def alphas_cumprod(beta_end=BETA_END):
    betas = torch.linspace(BETA_START ** 0.5, beta_end ** 0.5, NUM_TRAIN_TIMESTEPS, dtype=torch.float32) ** 2
    return torch.cumprod(1.0 - betas.double(), 0).float()


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def lr_at(step, total, base, warmup, final_frac=0.1):
    import math
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))
