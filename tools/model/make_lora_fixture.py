"""Writes the LoRA reference fixture: a tiny random model, LoRA files for it, and the same LoRAs merged in torch.

  python3 make_lora_fixture.py [out dir, default src/test/resources/fixtures/lora]

out/base/            the model (no tokenizer/, as every fixture); node names kept, since LoRA keys are matched
                     through them; unet/ keeps its weights in an external data file (weights.pb)
out/kohya.safetensors    kohya layout (lora_te_/lora_unet_, lora_down/lora_up, alpha) on every MatMul, Gemm and
                         Conv (1x1 and 3x3) weight of the text encoder and the UNet; fp16 values
out/peft.safetensors     diffusers/PEFT layout (text_encoder./unet. lora_A/lora_B, no alpha) on every other one;
                         fp32 values
out/merged-kohya/        text_encoder/ and unet/ with kohya at weight 1 merged in torch: W += (alpha/r) up @ down
out/merged-stacked/      kohya at 0.6 and peft at -0.8, merged in torch
The Java test (LoraReferenceTest) runs base + LoRA and compares with the merged exports.

The LoRA keys are the exported graph's node paths, which is what they are on a real diffusers export
(/down_blocks.0/.../to_q/MatMul <-> lora_unet_down_blocks_0_..._to_q). The tiny models' own module paths differ
from the node paths, so each graph weight is paired with its torch parameter by value.
"""
import json
import os
import shutil
import struct
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import onnx
import torch
from onnx import numpy_helper

import onnx_export as ox
from make_fixtures import tiny

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures", "lora")
RANK = 2


def save_safetensors(path, tensors, metadata=None):
    """A safetensors file of our own writing (the format: 8-byte LE header length, JSON header, raw LE data)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype("float32"): "F32", np.dtype("float16"): "F16"}[arr.dtype]
        b = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def export(te, unet, vae, d, with_vae):
    ox.export_text_encoder(te, os.path.join(d, "text_encoder", "model.onnx"))
    ox.export_unet(unet, os.path.join(d, "unet", "model.onnx"))
    comps = ["text_encoder", "unet"]
    if with_vae:
        ox.export_vae_encoder(vae, os.path.join(d, "vae_encoder", "model.onnx"))
        ox.export_vae_decoder(vae, os.path.join(d, "vae_decoder", "model.onnx"))
        comps += ["vae_encoder", "vae_decoder"]
    for c in comps:
        ox.compact_graph(os.path.join(d, c, "model.onnx"), fp16_min_elements=100000, rename=False)


def targets(onnx_path, module):
    """(node path, torch parameter) for every MatMul/Gemm/Conv whose weight is an initializer."""
    m = onnx.load(onnx_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    params = list(module.named_parameters())
    out = []
    for n in m.graph.node:
        if n.op_type not in ("MatMul", "Gemm", "Conv") or len(n.input) < 2 or n.input[1] not in inits:
            continue
        w = inits[n.input[1]]
        found = None
        for pname, p in params:
            if not pname.endswith("weight"):
                continue
            a = p.detach().numpy()
            if a.shape == w.shape and np.array_equal(a, w) and (n.op_type != "MatMul" or a.shape[0] != a.shape[1]
                                                               or not np.array_equal(a, a.T)):
                found = p if n.op_type != "MatMul" else None
            if n.op_type == "MatMul" and a.T.shape == w.shape and np.array_equal(a.T, w):
                found = p
            if found is not None:
                break
        assert found is not None, f"no torch parameter for {n.name}"
        out.append((n.name.lstrip("/").rsplit("/", 1)[0], found))
    return out


def make_lora(tgts, rng, every=1, start=0, scale=0.3):
    """{path: (down, up)} for every `every`-th target; conv down is [r, in, kh, kw], up [out, r, 1, 1]."""
    lora = {}
    for k, (path, p) in enumerate(tgts):
        if (k - start) % every:
            continue
        shape = tuple(p.shape)
        out = shape[0]
        r = min(RANK, out)
        down = rng.standard_normal((r,) + shape[1:]).astype(np.float32) * scale
        up = rng.standard_normal((out, r) + ((1, 1) if len(shape) == 4 else ())).astype(np.float32) * scale
        lora[path] = (down, up)
    return lora


def merge(tgts, lora, weight, alpha=None):
    with torch.no_grad():
        for path, p in tgts:
            if path not in lora:
                continue
            down, up = lora[path]
            r = down.shape[0]
            scale = weight * (alpha if alpha is not None else r) / r
            delta = up.reshape(up.shape[0], r) @ down.reshape(r, -1)
            p += torch.from_numpy(scale * delta.reshape(tuple(p.shape)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    shutil.rmtree(out, ignore_errors=True)
    te, unet, vae = tiny(seed=13)
    base = os.path.join(out, "base")
    export(te, unet, vae, base, with_vae=True)
    # the base UNet keeps its weights in an external data file (as SD-size exports must), the text encoder inline:
    # LoRA weights replace initializers of both kinds
    unet_path = os.path.join(base, "unet", "model.onnx")
    onnx.save(onnx.load(unet_path), unet_path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.pb", size_threshold=0)
    ox.write_scheduler(base, None)
    ox.write_json(os.path.join(base, "model_index.json"), ox.model_index())
    te_t = targets(os.path.join(base, "text_encoder", "model.onnx"), te)
    unet_t = targets(os.path.join(base, "unet", "model.onnx"), unet)
    rng = np.random.default_rng(13)
    alpha = 1.0
    kohya = {"te": make_lora(te_t, rng), "unet": make_lora(unet_t, rng)}
    peft = {"te": make_lora(te_t, rng, every=2), "unet": make_lora(unet_t, rng, every=2, start=1)}

    tensors = {}
    for comp, prefix in (("te", "lora_te_"), ("unet", "lora_unet_")):
        for path, (down, up) in kohya[comp].items():
            key = prefix + path.replace("/", "_").replace(".", "_")
            # fp16 in the file, as most published LoRAs; the merge uses the same rounded values
            kohya[comp][path] = (down.astype(np.float16).astype(np.float32), up.astype(np.float16).astype(np.float32))
            tensors[key + ".lora_down.weight"] = down.astype(np.float16)
            tensors[key + ".lora_up.weight"] = up.astype(np.float16)
            tensors[key + ".alpha"] = np.array(alpha, dtype=np.float16)
    save_safetensors(os.path.join(out, "kohya.safetensors"), tensors, {"ss_network_dim": str(RANK)})
    tensors = {}
    for comp, prefix in (("te", "text_encoder."), ("unet", "unet.")):
        for path, (down, up) in peft[comp].items():
            key = prefix + path.replace("/", ".")
            tensors[key + ".lora_A.weight"] = down
            tensors[key + ".lora_B.weight"] = up
    save_safetensors(os.path.join(out, "peft.safetensors"), tensors)

    state = ({k: v.clone() for k, v in te.state_dict().items()}, {k: v.clone() for k, v in unet.state_dict().items()})
    merge(te_t, kohya["te"], 1.0, alpha)
    merge(unet_t, kohya["unet"], 1.0, alpha)
    export(te, unet, vae, os.path.join(out, "merged-kohya"), with_vae=False)
    te.load_state_dict(state[0])
    unet.load_state_dict(state[1])
    merge(te_t, kohya["te"], 0.6, alpha)
    merge(unet_t, kohya["unet"], 0.6, alpha)
    merge(te_t, peft["te"], -0.8)
    merge(unet_t, peft["unet"], -0.8)
    export(te, unet, vae, os.path.join(out, "merged-stacked"), with_vae=False)
    print("targets: text encoder", len(te_t), "unet", len(unet_t))


if __name__ == "__main__":
    main()
