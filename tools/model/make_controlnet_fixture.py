"""Writes the ControlNet test fixtures in OnnxStack's split layout (REFERENCE.md section 11), random weights:

  python3 make_controlnet_fixture.py [out dir, default src/test/resources/fixtures]

- controlnet/            a complete micro SD 1.x model folder (no tokenizer/, as every fixture) whose UNet has SD 1.x's
                         skip layout (4 levels, 2 layers each: 12 skips + the mid block), with unet/model.onnx and
                         controlnet/model.onnx: the same UNet (same weights) taking the 13 residuals as extra inputs
                         down_block_0_additional_residual ... down_block_11_additional_residual,
                         mid_block_additional_residual -> out_sample.
- controlnet-scale/      a ControlNet for it (model.onnx): sample, timestep, encoder_hidden_states, controlnet_cond
                         f32 [B,3,H,W] (image size, values in [0, 1]), conditioning_scale f64 [1] -> the 13 residuals,
                         already multiplied by the scale (OnnxStack's newer exports).
- controlnet-noscale/    another ControlNet (other weights) without the conditioning_scale input (older exports: the
                         caller multiplies the residuals).
- controlnet-wide/       a ControlNet made for another base: text width 6 (encoder_hidden_states [B,77,6]).
- controlnet-channels/   a ControlNet made for another base: block channels (8, 8, 16, 16).

The ControlNet is diffusers' ControlNetModel: the base UNet's encoder half (conv_in, time embedding, down blocks, mid
block) of its own, the control image through ControlNetConditioningEmbedding (3x3 convolutions, three of them with
stride 2, so image size / 8) added to conv_in's output, and one 1x1 convolution per skip and for the mid block. diffusers
initialises those convolutions (and the embedding's last) with zeros; here they are random so that the residuals
change the image.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import shutil
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx_export as ox
from make_fixtures import write_fixture
from models import AutoencoderKL, TextConfig, TextEncoder, UNet, UNetConfig, VAEConfig

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures")
LATENT = 8  # 64 x 64 images
RESIDUALS = ["down_block_%d_additional_residual" % i for i in range(12)] + ["mid_block_additional_residual"]


def unet_config(width=4, channels=(4, 4, 8, 8)):
    # SD 1.x: cross-attention on the first three levels, none on the last; 2 layers per block -> 12 skips
    return UNetConfig(block_out_channels=channels, layers_per_block=2, cross_attention_dim=width,
                      attention_head_dim=2, norm_num_groups=4, sample_size=LATENT,
                      attn_levels=(True, True, True, False))


class ConditioningEmbedding(nn.Module):
    """diffusers' ControlNetConditioningEmbedding: image -> latent-size features (three stride-2 convolutions)."""

    def __init__(self, out_channels, channels=(4, 4, 8, 8)):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for a, b in zip(channels[:-1], channels[1:]):
            self.blocks.append(nn.Conv2d(a, a, 3, padding=1))
            self.blocks.append(nn.Conv2d(a, b, 3, padding=1, stride=2))
        self.conv_out = nn.Conv2d(channels[-1], out_channels, 3, padding=1)

    def forward(self, x):
        x = F.silu(self.conv_in(x))
        for b in self.blocks:
            x = F.silu(b(x))
        return self.conv_out(x)


class ControlNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.unet = UNet(cfg)  # only its encoder half is used (traced), the up blocks are not exported
        ch = cfg["block_out_channels"]
        self.cond_embedding = ConditioningEmbedding(ch[0])
        skip_ch = [ch[0]]
        for i, c in enumerate(ch):
            skip_ch += [c] * cfg["layers_per_block"] + ([c] if i < len(ch) - 1 else [])
        self.skip_convs = nn.ModuleList(nn.Conv2d(c, c, 1) for c in skip_ch)
        self.mid_conv = nn.Conv2d(ch[-1], ch[-1], 1)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=None):
        emb = self.unet.time_embedding(sample, timestep)
        x = self.unet.conv_in(sample) + self.cond_embedding(controlnet_cond)
        skips, mid = self.unet.down_and_mid(x, emb, encoder_hidden_states)
        out = [conv(s) for conv, s in zip(self.skip_convs, skips)] + [self.mid_conv(mid)]
        if conditioning_scale is not None:
            scale = conditioning_scale.float()
            out = [o * scale for o in out]
        return tuple(out)


class ResidualUNet(nn.Module):
    """OnnxStack's ControlNetUNet2DConditionModel: the UNet with the 13 residuals as inputs."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, *residuals):
        return self.unet(sample, timestep, encoder_hidden_states, down_residuals=list(residuals[:-1]),
                         mid_residual=residuals[-1])


def _axes(names):
    return {n: {0: "batch", 2: "height", 3: "width"} for n in names}


def residual_shapes(cfg, batch, hw):
    ch = cfg["block_out_channels"]
    shapes, size = [(batch, ch[0], hw, hw)], hw
    for i, c in enumerate(ch):
        shapes += [(batch, c, size, size)] * cfg["layers_per_block"]
        if i < len(ch) - 1:
            size //= 2
            shapes.append((batch, c, size, size))
    return shapes + [(batch, ch[-1], size, size)]


def export_residual_unet(unet, path, batch=2, residual_names=RESIDUALS):
    cfg = unet.cfg
    args = (torch.randn(batch, 4, LATENT, LATENT), torch.full((batch,), 500.0),
            torch.randn(batch, 77, cfg["cross_attention_dim"]))
    args += tuple(torch.randn(*s) for s in residual_shapes(cfg, batch, LATENT))
    axes = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
            "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}}
    axes.update(_axes(residual_names))
    ox._export(ResidualUNet(unet), args, path, ["sample", "timestep", "encoder_hidden_states"] + residual_names,
               ["out_sample"], axes)
    ox.compact_graph(path)


def export_controlnet(net, path, with_scale, batch=2, residual_names=RESIDUALS):
    cfg = net.unet.cfg
    names = ["sample", "timestep", "encoder_hidden_states", "controlnet_cond"]
    args = (torch.randn(batch, 4, LATENT, LATENT), torch.full((batch,), 500.0),
            torch.randn(batch, 77, cfg["cross_attention_dim"]), torch.rand(batch, 3, 8 * LATENT, 8 * LATENT))
    if with_scale:
        names.append("conditioning_scale")
        args += (torch.tensor([0.7], dtype=torch.float64),)
    axes = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
            "encoder_hidden_states": {0: "batch"}, "controlnet_cond": {0: "batch", 2: "image_height",
                                                                       3: "image_width"}}
    axes.update(_axes(residual_names))
    ox._export(net, args, path, names, residual_names, axes)
    ox.compact_graph(path)


def controlnet(seed, **kw):
    torch.manual_seed(seed)
    net = ControlNet(unet_config(**kw))
    net.eval()
    return net


README = """

## ControlNet fixtures (OnnxStack's split layout)

Written by `tools/model/make_controlnet_fixture.py` (see its docstring). `controlnet` is a complete model folder
(tokenizer/ left out, as above) whose UNet has SD 1.x's skip layout: block_out_channels (4, 4, 8, 8), 2 layers per
block, cross-attention on the first three levels (size step 64: 64x64 images, 8x8 latents), text width 4. Besides
`unet/model.onnx` it has `controlnet/model.onnx`, the same UNet with the same weights taking the 13 residuals.
The other folders hold one ControlNet each (`model.onnx`).

| fixture | inputs | outputs |
|---|---|---|
| `controlnet/controlnet` | `sample` f32 [B,4,h,w], `timestep` f32 [B], `encoder_hidden_states` f32 [B,77,4], `down_block_0_additional_residual` ... `down_block_11_additional_residual` f32 [B,4\\|8,h/2^k,w/2^k], `mid_block_additional_residual` f32 [B,8,h/8,w/8] | `out_sample` f32 [B,4,h,w] |
| `controlnet-scale` | `sample`, `timestep`, `encoder_hidden_states` as above, `controlnet_cond` f32 [B,3,H,W] (image size), `conditioning_scale` **f64 [1]** | the 13 residuals, times the scale |
| `controlnet-noscale` | as `controlnet-scale` without `conditioning_scale` (other weights) | the 13 residuals (unscaled) |
| `controlnet-wide` | `encoder_hidden_states` f32 [B,77,**6**] (a ControlNet for another base) | as above |
| `controlnet-channels` | as `controlnet-noscale`, block channels **(8, 8, 16, 16)** (a ControlNet for another base) | residuals with 8/16 channels |
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    torch.manual_seed(21)
    te = TextEncoder(TextConfig(hidden_size=4, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8))
    unet = UNet(unet_config())
    vae = AutoencoderKL(VAEConfig(block_out_channels=(4, 4, 8, 8), layers_per_block=1, norm_num_groups=4,
                                  sample_size=64, scaling_factor=0.18215))
    for m in (te, unet, vae):
        m.eval()
    write_fixture(out, "controlnet", te, unet, vae)
    export_residual_unet(unet, os.path.join(out, "controlnet", "controlnet", "model.onnx"))

    for name, seed, with_scale, kw in (("controlnet-scale", 22, True, {}), ("controlnet-noscale", 23, False, {}),
                                       ("controlnet-wide", 24, False, {"width": 6}),
                                       ("controlnet-channels", 25, False, {"channels": (8, 8, 16, 16)})):
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        export_controlnet(controlnet(seed, **kw), os.path.join(d, "model.onnx"), with_scale)

    readme = os.path.join(out, "README.md")
    with open(readme) as f:
        text = f.read()
    marker = "\n\n## ControlNet fixtures"
    if marker in text:
        text = text[:text.index(marker)]
    with open(readme, "w") as f:
        f.write(text.rstrip("\n") + "\n" + README)


if __name__ == "__main__":
    main()
