"""Writes tiny random-weight model folders for tests of the layouts real users bring.

  python3 make_fixtures.py [out dir, default src/test/resources/fixtures]

Each fixture is a complete model folder except tokenizer/ (tests copy models/tiny-sd-shapes/tokenizer in,
to keep the 1.5 MB vocabulary out of every fixture). The weights are random: fixtures only need to run.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import shutil
import sys

import torch

import onnx_export as ox
from models import AutoencoderKL, TextConfig, TextEncoder, UNet, UNetConfig, VAEConfig

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures")


def tiny(width=4, in_channels=4, cond_dim=None, seed=0):
    torch.manual_seed(seed)
    te = TextEncoder(TextConfig(hidden_size=width, num_hidden_layers=1, num_attention_heads=1,
                                intermediate_size=2 * width))
    unet = UNet(UNetConfig(block_out_channels=(8, 16), layers_per_block=1, cross_attention_dim=width,
                           attention_head_dim=2, norm_num_groups=4, in_channels=in_channels, sample_size=8,
                           timestep_cond_dim=cond_dim))
    vae = AutoencoderKL(VAEConfig(block_out_channels=(4, 4, 8, 8), layers_per_block=1, norm_num_groups=4,
                                  sample_size=64, scaling_factor=0.18215))
    for m in (te, unet, vae):
        m.eval()
    return te, unet, vae


def write_fixture(out, name, te, unet, vae, ids_dtype=torch.int32, timestep_dtype=torch.float32,
                  scalar_timestep=False, vae_mode="mean", cond_dim=None, index=None, scheduler=None,
                  configs=False, optimum=False, fp16=False):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    ox.export_text_encoder(te, os.path.join(d, "text_encoder", "model.onnx"), ids_dtype=ids_dtype)
    ox.export_unet(unet, os.path.join(d, "unet", "model.onnx"), timestep_dtype=timestep_dtype,
                   scalar_timestep=scalar_timestep, timestep_cond_dim=cond_dim, optimum_axes=optimum)
    ox.export_vae_encoder(vae, os.path.join(d, "vae_encoder", "model.onnx"), mode=vae_mode, optimum_axes=optimum)
    ox.export_vae_decoder(vae, os.path.join(d, "vae_decoder", "model.onnx"), optimum_axes=optimum)
    for c in ("text_encoder", "unet", "vae_encoder", "vae_decoder"):
        p = os.path.join(d, c, "model.onnx")
        if fp16:
            ox.convert_to_fp16_io(p)
        ox.compact_graph(p, fp16_min_elements=None if fp16 else 100000)
    ox.write_scheduler(d, scheduler)
    ox.write_json(os.path.join(d, "model_index.json"), index or ox.model_index())
    if configs:
        ox.write_json(os.path.join(d, "text_encoder", "config.json"), ox.text_config(te.cfg))
        ox.write_json(os.path.join(d, "unet", "config.json"), ox.unet_config(unet.cfg))
        ox.write_json(os.path.join(d, "vae_encoder", "config.json"), ox.vae_config(vae.cfg))
        ox.write_json(os.path.join(d, "vae_decoder", "config.json"), ox.vae_config(vae.cfg))


README = """# Test fixtures: tiny random-weight model folders

Written by `tools/model/make_fixtures.py` (rerun it to regenerate). The weights are random: these folders
only need to load and run, not to make pictures. Every folder is a complete model folder **except
`tokenizer/`**, left out to keep the 1.5 MB CLIP vocabulary from being copied six times: a test copies
`models/tiny-sd-shapes/tokenizer/` into the fixture folder (or a temporary copy of it) before loading it.

All fixtures: text encoder 1 layer (its 49408-row token embedding table is stored as fp16 behind a Cast
node, to halve its size; inputs and outputs keep the types in the table), node and intermediate tensor names
shortened (weight names kept), UNet block_out_channels (8, 16) (size step 16: latent sizes that are
multiples of 2, images multiples of 16), VAE 8x down-sampling with 4 latent channels. Sizes in the table:
B batch, h/w latent size, H/W = 8h/8w image size, D text width.

| fixture | layout | text_encoder | unet | vae_encoder | vae_decoder | scheduler / model_index |
|---|---|---|---|---|---|---|
| `optimum` | optimum (component `config.json` files present; axes named `batch_size`) | `input_ids` int64 [B,77] -> `last_hidden_state` f32 [B,77,4], `pooler_output` f32 [B,4] | `sample` f32 [B,4,h,w], `timestep` f32 **scalar (rank 0)**, `encoder_hidden_states` f32 [B,77,4] -> `out_sample` f32 [B,4,h,w] | `sample` f32 [B,3,H,W] -> `latent_parameters` f32 [B,8,h,w] (mean = channels 0-3, log-variance = 4-7) | `latent_sample` f32 [B,4,h,w] -> `sample` f32 [B,3,H,W] | PNDM (SD 1.5); `_class_name` StableDiffusionPipeline; vae `scaling_factor` 0.18215 in the configs |
| `int64-timestep` | diffusers script, no component configs | `input_ids` int32 [B,77] -> D=4 | `timestep` **int64 [B]**, otherwise as the embedded model | `latent_sample` f32 [B,4,h,w] | as above | PNDM; OnnxStableDiffusionPipeline |
| `fp16` | diffusers script, no component configs | `input_ids` int32 [B,77] -> `last_hidden_state` **f16** [B,77,4], `pooler_output` f16 | `sample` f16, `timestep` **f16 [B]**, `encoder_hidden_states` f16 -> `out_sample` f16 | `sample` f16 -> `latent_sample` f16 | `latent_sample` f16 -> `sample` f16 | PNDM; OnnxStableDiffusionPipeline. Weights stored fp16 (cast to fp32 inside the graph, so every execution provider runs it) |
| `inpaint9` | diffusers script, no component configs | int32, D=4 | `sample` f32 **[B,9,h,w]** -> `out_sample` [B,4,h,w]; `timestep` f32 [B] | `latent_sample` | as above | PNDM; `_class_name` **OnnxStableDiffusionInpaintPipeline** |
| `lcm` | diffusers script I/O, component configs present (`unet/config.json` has `time_cond_proj_dim` 256) | int32, D=4 | adds **`timestep_cond` f32 [B,256]** (guidance embedding); `timestep` f32 [B] | `latent_sample` | as above | **LCMScheduler** (original_inference_steps 50, timestep_spacing leading) |
| `v-prediction` | diffusers script, no component configs | int32, **D=6** (width read from the model) | as the embedded model, `encoder_hidden_states` [B,77,6] | `latent_sample` | as above | **EulerDiscreteScheduler, prediction_type v_prediction** (SD 2.x style) |

The diffusers script declares the channel axis of `sample` / `latent_sample` inputs dynamic: read the
UNet's input channel count from `model_index.json` (`_class_name`) or from the first convolution, not from
the input shape.

SDXL (base, refiner, Turbo, inpainting): `README-sdxl.md`, written by `make_sdxl_fixtures.py`.
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    te, unet, vae = tiny(seed=1)
    write_fixture(out, "optimum", te, unet, vae, ids_dtype=torch.int64, scalar_timestep=True,
                  vae_mode="parameters", index=ox.optimum_model_index(), configs=True, optimum=True)
    te, unet, vae = tiny(seed=2)
    write_fixture(out, "int64-timestep", te, unet, vae, timestep_dtype=torch.int64)
    te, unet, vae = tiny(seed=3)
    write_fixture(out, "fp16", te, unet, vae, fp16=True)
    te, unet, vae = tiny(in_channels=9, seed=4)
    write_fixture(out, "inpaint9", te, unet, vae, index=ox.model_index("OnnxStableDiffusionInpaintPipeline"))
    te, unet, vae = tiny(cond_dim=256, seed=5)
    write_fixture(out, "lcm", te, unet, vae, cond_dim=256, scheduler=ox.LCM_SCHEDULER,
                  index=ox.model_index(scheduler="LCMScheduler"), configs=True)
    te, unet, vae = tiny(width=6, seed=6)
    write_fixture(out, "v-prediction", te, unet, vae, scheduler=ox.V_PRED_SCHEDULER,
                  index=ox.model_index(scheduler="EulerDiscreteScheduler"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README)
    import check_onnx
    for name in sorted(os.listdir(out)):
        if os.path.isdir(os.path.join(out, name)):
            print("==", name)
            check_onnx.smoke(os.path.join(out, name))


if __name__ == "__main__":
    main()
