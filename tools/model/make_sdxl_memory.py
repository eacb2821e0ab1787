"""Writes random-weight UNets with SDXL's shapes at reduced depth, for measuring the memory of one UNet call in the
Java pipeline's ONNX Runtime sessions and extrapolating to the full SDXL UNet (PERFORMANCE.md, "SDXL memory").
Nothing here is committed: the models are 1.5-4 GB each.

  python3 make_sdxl_memory.py OUT --depth D [--depth D ...] [--fp16-weights] [--count-only]

For each depth D it writes OUT/sdxl-d<D>/unet/model.onnx (+ unet/weights.pb, one external weights file) and
unet/config.json. The UNet follows diffusers' UNet2DConditionModel with SDXL base's config: block_out_channels
320/640/1280, down blocks DownBlock2D + 2 x CrossAttnDownBlock2D (no attention at full latent resolution), 2 resnets
per down block and 3 per up block, transformer_layers_per_block 1/2/D (SDXL: D = 10, also in the mid block),
head dim 64 (heads 10 and 20), linear proj_in/proj_out, cross-attention width 2048, time embedding 1280, and the
"text_time" add embedding (text_embeds 1280 + 6 time ids x 256 sinusoidal = 2816 -> 1280). Inputs as optimum
exports them: sample [B,4,h,w], timestep [B] (float32), encoder_hidden_states [B,77,2048], text_embeds [B,1280],
time_ids [B,6]; output out_sample.

--fp16-weights also writes OUT/sdxl-d<D>-fp16w, the same UNet with its weights stored as fp16 behind a Cast to fp32.
--count-only prints the parameter counts (no export), e.g. of the full model: --depth 10 --count-only.
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import argparse
import math
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx_export as ox
import models
from models import count, group_norm, timestep_embedding

HEAD_DIM = 64
CONTEXT = 2048
TEXT_EMBEDS = 1280
TIME_IDS = 6
TIME_ID_DIM = 256


class Linear(nn.Module):
    """nn.Linear with the weight stored as [in, out], as a constant-folded export stores a MatMul's weight, so that the
    export needs no folding (see export())."""

    def __init__(self, cin, cout, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cin, cout) / math.sqrt(cin))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


class GEGLU(models.GEGLU):
    def __init__(self, dim, inner):
        super().__init__(dim, inner)
        self.proj = Linear(dim, inner * 2)


class Attention(models.Attention):
    """diffusers' Attention (models.Attention) with heads of HEAD_DIM channels and pre-transposed weights."""

    def __init__(self, dim, context_dim=None):
        super().__init__(dim, dim // HEAD_DIM, context_dim)
        cd = context_dim or dim
        self.to_q = Linear(dim, dim, bias=False)
        self.to_k = Linear(cd, dim, bias=False)
        self.to_v = Linear(cd, dim, bias=False)
        self.to_out = Linear(dim, dim)


class BasicTransformerBlock(models.BasicTransformerBlock):
    def __init__(self, dim):
        super().__init__(dim, dim // HEAD_DIM, CONTEXT)
        self.attn1 = Attention(dim)
        self.attn2 = Attention(dim, CONTEXT)
        self.ff = nn.Sequential(GEGLU(dim, dim * 4), Linear(dim * 4, dim))


class Transformer2DModel(nn.Module):
    """SDXL's transformer: use_linear_projection (Linear proj_in/proj_out), `depth` transformer blocks."""

    def __init__(self, ch, depth):
        super().__init__()
        self.norm = group_norm(ch, 32, 1e-6)
        self.proj_in = Linear(ch, ch)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(ch) for _ in range(depth)])
        self.proj_out = Linear(ch, ch)

    def forward(self, x, context):
        b, c, hh, ww = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)
        h = self.proj_in(h)
        for blk in self.transformer_blocks:
            h = blk(h, context)
        h = self.proj_out(h)
        return x + h.transpose(1, 2).reshape(b, c, hh, ww)


def config(depth):
    """unet/config.json as diffusers writes SDXL base's, with the deepest level's transformer depth set to `depth`."""
    return {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": ox.DIFFUSERS_VERSION,
        "in_channels": 4, "out_channels": 4, "sample_size": 128, "layers_per_block": 2,
        "block_out_channels": [320, 640, 1280],
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        "mid_block_type": "UNetMidBlock2DCrossAttn",
        "transformer_layers_per_block": [1, 2, depth],
        "attention_head_dim": [5, 10, 20], "num_attention_heads": None,
        "cross_attention_dim": CONTEXT, "use_linear_projection": True, "norm_num_groups": 32,
        "addition_embed_type": "text_time", "addition_time_embed_dim": TIME_ID_DIM,
        "projection_class_embeddings_input_dim": TEXT_EMBEDS + TIME_IDS * TIME_ID_DIM,
        "flip_sin_to_cos": True, "freq_shift": 0, "act_fn": "silu", "norm_eps": 1e-5,
    }


class SdxlUNet(models.UNet):
    """models.UNet with SDXL's config (3 levels, 2 resnets per down block, no attention at full resolution), SDXL's
    transformers (`depth` blocks at the deepest level) and the text_time add embedding."""

    def __init__(self, depth):
        layers = [1, 2, depth]
        cfg = models.UNetConfig(block_out_channels=(320, 640, 1280), layers_per_block=2, cross_attention_dim=CONTEXT,
                                attention_head_dim=None, attn_levels=(False, True, True))
        super().__init__(cfg, transformer=lambda c, level: Transformer2DModel(c, layers[level]))
        temb = 320 * 4
        self.add_linear_1 = nn.Linear(TEXT_EMBEDS + TIME_IDS * TIME_ID_DIM, temb)
        self.add_linear_2 = nn.Linear(temb, temb)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        b = sample.shape[0]
        t = timestep_embedding(timestep.float().expand(b), 320)
        emb = self.time_linear_2(F.silu(self.time_linear_1(t)))
        ids = timestep_embedding(time_ids.flatten(), TIME_ID_DIM).reshape(b, -1)
        add = torch.cat([text_embeds, ids], dim=-1)
        emb = emb + self.add_linear_2(F.silu(self.add_linear_1(add)))
        return self.blocks(sample, emb, encoder_hidden_states)


def export(unet, path):
    """Exports the graph with the weights as graph inputs (export_params=False), then turns each into an initializer
    whose values are written, one tensor at a time, to one external weights file: a plain torch.onnx.export holds
    the weights 4-5 times over (8.7 GB peak for the 1.9 GB depth-0 UNet), this about once."""
    b, hw = 1, 16
    args = (torch.randn(b, 4, hw, hw), torch.full((b,), 500.0), torch.randn(b, 77, CONTEXT),
            torch.randn(b, TEXT_EMBEDS), torch.tensor([[1024.0, 1024.0, 0.0, 0.0, 1024.0, 1024.0]] * b))
    names = ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"]
    axes = {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": {0: "batch_size"},
            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"}, "text_embeds": {0: "batch_size"},
            "time_ids": {0: "batch_size"}, "out_sample": {0: "batch_size", 2: "height", 3: "width"}}
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(unet, args, path, input_names=names, output_names=["out_sample"], dynamic_axes=axes,
                          opset_version=ox.OPSET, do_constant_folding=False, export_params=False,
                          keep_initializers_as_inputs=True)
    model = onnx.load(path)
    params = dict(unet.named_parameters())
    graph_inputs = [i for i in model.graph.input if i.name in names]
    offset = 0
    with open(os.path.join(folder, "weights.pb"), "wb") as weights:
        for i in model.graph.input:
            if i.name not in params:
                continue  # a user input, or a constant the exporter folded (already an initializer)
            data = params[i.name].detach().numpy().astype(np.float32).tobytes()
            t = onnx.TensorProto(name=i.name, data_type=onnx.TensorProto.FLOAT,
                                 dims=list(params[i.name].shape), data_location=onnx.TensorProto.EXTERNAL)
            for k, v in (("location", "weights.pb"), ("offset", str(offset)), ("length", str(len(data)))):
                e = t.external_data.add()
                e.key, e.value = k, v
            weights.write(data)
            offset += len(data)
            model.graph.initializer.append(t)
    del model.graph.input[:]
    model.graph.input.extend(graph_inputs)
    onnx.save(model, path)
    onnx.checker.check_model(path)


def fp16_weights(src, dst):
    """Copies the UNet in folder `src` to `dst` with every fp32 weight stored as fp16 behind a Cast to fp32 (the
    layout of the project's fp16 fixtures, onnx_export.convert_to_fp16_io, which ONNX Runtime's CPU provider runs),
    one tensor at a time; inputs and outputs fp16, cast at the graph boundary."""
    import numpy as np
    from onnx import TensorProto, helper
    os.makedirs(os.path.join(dst, "unet"), exist_ok=True)
    m = onnx.load(os.path.join(src, "unet", "model.onnx"), load_external_data=False)
    g = m.graph
    data = np.memmap(os.path.join(src, "unet", "weights.pb"), dtype=np.uint8, mode="r")
    casts, offset = [], 0
    with open(os.path.join(dst, "unet", "weights.pb"), "wb") as out:
        for t in g.initializer:
            if t.data_type != TensorProto.FLOAT or t.data_location != TensorProto.EXTERNAL:
                continue
            ext = {e.key: e.value for e in t.external_data}
            start = int(ext.get("offset", 0))
            half = np.frombuffer(data[start:start + int(ext["length"])].tobytes(), dtype=np.float32).astype(np.float16)
            name = t.name
            t.name, t.data_type = name + "_fp16", TensorProto.FLOAT16
            del t.external_data[:]
            for k, v in (("location", "weights.pb"), ("offset", str(offset)), ("length", str(half.nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
            out.write(half.tobytes())
            offset += half.nbytes
            casts.append(helper.make_node("Cast", [t.name], [name], to=TensorProto.FLOAT, name=name + "_cast"))
    boundary, tail = [], []
    for i in g.input:
        if i.type.tensor_type.elem_type == TensorProto.FLOAT:
            for n in g.node:
                n.input[:] = [i.name + "_fp32" if x == i.name else x for x in n.input]
            boundary.append(helper.make_node("Cast", [i.name], [i.name + "_fp32"], to=TensorProto.FLOAT))
            i.type.tensor_type.elem_type = TensorProto.FLOAT16
    for o in g.output:
        for n in g.node:
            n.output[:] = [o.name + "_fp32" if x == o.name else x for x in n.output]
        tail.append(helper.make_node("Cast", [o.name + "_fp32"], [o.name], to=TensorProto.FLOAT16))
        o.type.tensor_type.elem_type = TensorProto.FLOAT16
    nodes = casts + boundary + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    onnx.save(m, os.path.join(dst, "unet", "model.onnx"))
    shutil.copy(os.path.join(src, "unet", "config.json"), os.path.join(dst, "unet", "config.json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--depth", type=int, action="append", required=True)
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--fp16-weights", action="store_true",
                    help="also write OUT/sdxl-d<D>-fp16w: weights stored fp16 behind a Cast, fp16 inputs and outputs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    for d in args.depth:
        torch.manual_seed(args.seed)
        unet = SdxlUNet(d).eval()
        deep = sum(count(t) for t in unet.modules() if isinstance(t, BasicTransformerBlock) and t.attn1.heads == 20)
        print(f"depth {d}: {count(unet)} parameters, {deep} in the 1280-wide transformer blocks", flush=True)
        if args.count_only:
            continue
        folder = os.path.join(args.out, f"sdxl-d{d}")
        export(unet, os.path.join(folder, "unet", "model.onnx"))
        del unet
        ox.write_json(os.path.join(folder, "unet", "config.json"), config(d))
        if args.fp16_weights:
            fp16_weights(folder, folder + "-fp16w")
        print("written", folder, flush=True)


if __name__ == "__main__":
    main()
