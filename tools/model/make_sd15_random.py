"""Writes a random-weight model with Stable Diffusion 1.5's sizes in the diffusers-script ONNX layout, for
memory/speed tests of the Java pipeline (nothing to commit: about 4 GB).

  python3 make_sd15_random.py [out dir, default /work/train/sd15-random] [--scale 0.1]

UNet: block_out_channels 320/640/1280/1280, 2 layers per block, cross-attention dim 768, 8 heads (about
860 M parameters; its weights go to one external data file, unet/weights.pb, as the model is over 2 GB).
Text encoder: 12 layers, width 768, 12 heads. VAE: 128/256/512/512, 2 layers per block.
--scale s multiplies every width by s (rounded to a multiple of 32), for a quick check of the script.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse

import torch

import onnx_export as ox
from models import AutoencoderKL, TextConfig, TextEncoder, UNet, UNetConfig, VAEConfig, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=os.path.join(os.environ.get("TINY_SD_WORK", "/work/train"),
                                                           "sd15-random"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--external-data", action="store_true", help="external weights file even when under 2 GB")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)

    def w(c, mult=32):
        return max(mult, int(round(c * args.scale / mult)) * mult)

    width = w(768, 12 * 4) if args.scale != 1 else 768
    te = TextEncoder(TextConfig(hidden_size=width, num_hidden_layers=12, num_attention_heads=12,
                                intermediate_size=4 * width))
    unet = UNet(UNetConfig(block_out_channels=[w(c) for c in (320, 640, 1280, 1280)], layers_per_block=2,
                           cross_attention_dim=width, attention_head_dim=8, norm_num_groups=32, sample_size=64,
                           attn_levels=(True, True, True, False)))
    vae = AutoencoderKL(VAEConfig(block_out_channels=[w(c) for c in (128, 256, 512, 512)], layers_per_block=2,
                                  norm_num_groups=32, sample_size=512, scaling_factor=0.18215))
    for m in (te, unet, vae):
        m.eval()
    print(f"params: text encoder {count(te)}, unet {count(unet)}, vae encoder {count(vae.encoder)}, "
          f"decoder {count(vae.decoder)}", flush=True)
    big = args.external_data or count(unet) * 4 > 2 ** 31 - 2 ** 24
    ox.export_text_encoder(te, os.path.join(args.out, "text_encoder", "model.onnx"))
    del te
    ox.export_vae_encoder(vae, os.path.join(args.out, "vae_encoder", "model.onnx"), image_hw=64)
    ox.export_vae_decoder(vae, os.path.join(args.out, "vae_decoder", "model.onnx"), latent_hw=8)
    del vae
    ox.export_unet(unet, os.path.join(args.out, "unet", "model.onnx"), latent_hw=8, batch=1, external_data=big)
    ox.write_tokenizer(args.out)
    ox.write_scheduler(args.out)
    ox.write_json(os.path.join(args.out, "model_index.json"), ox.model_index())
    print("written to", args.out)


if __name__ == "__main__":
    main()
