"""Exports the trained model to models/tiny-sd-shapes in the diffusers ONNX layout (opset 17).

  text_encoder/model.onnx  input_ids int32 [B,77] -> last_hidden_state f32 [B,77,D], pooler_output f32 [B,D]
  unet/model.onnx          sample f32 [B,4,h,w], timestep f32 [B], encoder_hidden_states f32 [B,77,D]
                           -> out_sample f32 [B,4,h,w]   (epsilon or v, as the UNet was trained: train_unet.py
                              --prediction-type, written to scheduler_config.json)
  vae_encoder/model.onnx   sample f32 [B,3,H,W] in [-1,1] -> latent_sample f32 [B,4,H/8,W/8]
                           (the MEAN of the latent distribution, unscaled: multiply by scaling_factor)
  vae_decoder/model.onnx   latent_sample f32 [B,4,h,w] (unscaled: divide by scaling_factor first)
                           -> sample f32 [B,3,8h,8w] in about [-1,1]
plus tokenizer/, scheduler/, model_index.json, each component's config.json and heldout.json.
"""
import argparse
import os

import numpy as np
import torch

import dataset
import onnx_export as ox
from common import TEXT_CFG, UNET_CFG, VAE_CFG, WORK
from models import AutoencoderKL, TextEncoder, UNet, count


def load(vae_path, unet_path, ema=True):
    import adapt_common
    ck_v = adapt_common.vae_checkpoint(vae_path)  # a checkpoint, or a model folder whose VAE is kept
    vae_cfg = dict(VAE_CFG)
    vae_cfg.update(ck_v.get("cfg", {}))
    vae = AutoencoderKL(vae_cfg)
    vae.load_state_dict(ck_v["model"])
    ck_u = torch.load(unet_path)
    te = TextEncoder(ck_u.get("text_cfg", TEXT_CFG))
    unet = UNet(ck_u.get("unet_cfg", UNET_CFG))
    te.load_state_dict(ck_u["ema_text_encoder" if ema else "text_encoder"])
    unet.load_state_dict(ck_u["ema_unet" if ema else "unet"])
    for m in (vae, te, unet):
        m.eval()
    unet.prediction_type = ck_u.get("prediction_type", "epsilon")
    unet.beta_end = ck_u.get("beta_end", ox.EMBEDDED_SCHEDULER["beta_end"])
    return vae, te, unet, ck_u["scaling_factor"], ck_u["step"], ck_v.get("step")  # no step: read back from ONNX


def export_all(vae, te, unet, sf, out, extra_card=None):
    os.makedirs(out, exist_ok=True)
    ox.export_text_encoder(te, os.path.join(out, "text_encoder", "model.onnx"))
    ox.export_unet(unet, os.path.join(out, "unet", "model.onnx"))
    ox.export_vae_encoder(vae, os.path.join(out, "vae_encoder", "model.onnx"), mode="mean")
    ox.export_vae_decoder(vae, os.path.join(out, "vae_decoder", "model.onnx"))
    ox.write_tokenizer(out)
    # sigma_max: Karras schedules (Euler, Heun, DPM-Solver, UniPC read it, in diffusers and here) start at sigma 6,
    # not at this schedule's largest (65.9 at beta_end 0.02), where 10 Karras steps spend three above sigma 20 and
    # DPM++ 2M SDE Karras fails from guidance 5 on, nor at SD 1.5's 14.6 (fails from guidance 7; the model card)
    ox.write_scheduler(out, dict(ox.EMBEDDED_SCHEDULER,
                                 prediction_type=getattr(unet, "prediction_type", "epsilon"),
                                 beta_end=getattr(unet, "beta_end", ox.EMBEDDED_SCHEDULER["beta_end"]),
                                 sigma_max=ox.EMBEDDED_SIGMA_MAX))
    ox.write_json(os.path.join(out, "model_index.json"), ox.model_index(scheduler="DDIMScheduler"))
    ox.write_json(os.path.join(out, "text_encoder", "config.json"), ox.text_config(te.cfg))
    ox.write_json(os.path.join(out, "unet", "config.json"), ox.unet_config(unet.cfg))
    vcfg = dict(vae.cfg, scaling_factor=sf)
    ox.write_json(os.path.join(out, "vae_encoder", "config.json"), ox.vae_config(vcfg))
    ox.write_json(os.path.join(out, "vae_decoder", "config.json"), ox.vae_config(vcfg))
    ox.write_json(os.path.join(out, "heldout.json"), dataset.heldout_json())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", default=os.path.join(WORK, "vae.pt"))
    ap.add_argument("--unet", default=os.path.join(WORK, "unet.pt"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "models", "tiny-sd-shapes"))
    ap.add_argument("--no-ema", action="store_true")
    ap.add_argument("--check", action="store_true", help="compare the ONNX graphs with torch (numpy interpreter)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    vae, te, unet, sf, ustep, vstep = load(args.vae, args.unet, not args.no_ema)
    print(f"params: text {count(te)} unet {count(unet)} vae encoder {count(vae.encoder)} decoder "
          f"{count(vae.decoder)}; unet step {ustep}, vae step {vstep}, scaling_factor {sf}")
    export_all(vae, te, unet, sf, args.out)
    total = 0
    for root, _, files in os.walk(args.out):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"exported to {os.path.abspath(args.out)}: {total / 1e6:.1f} MB")
    if args.check:
        import check_onnx
        check_onnx.check_folder(args.out, vae, te, unet)


if __name__ == "__main__":
    main()
