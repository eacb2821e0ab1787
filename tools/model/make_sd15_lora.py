"""Writes a random LoRA of SD 1.5's size for an exported model, for the LoRA patch benchmark (nothing to commit).

  python3 make_sd15_lora.py [model dir, default /work/train/sd15-random] [out file] [--rank 64]

kohya layout, fp16, rank 64 on every attention (to_q/to_k/to_v/to_out) and feed-forward projection of the UNet
and every q/k/v/out_proj, fc1, fc2 of the text encoder (about 150 MB at rank 64 for SD 1.5), keyed by the
exported graph's node names. --conv adds every convolution of the UNet (LoCon: down [rank, in, kh, kw], up
[out, rank, 1, 1]), as LCM-LoRA for SD 1.5 has (its resnets' conv1/conv2/conv_shortcut, down/up samplers).
"""
import argparse
import os

import numpy as np
import onnx

from make_lora_fixture import save_safetensors

PROJECTIONS = ("to_q", "to_k", "to_v", "to_out", "proj", "ff", "q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="/work/train/sd15-random")
    ap.add_argument("out", nargs="?", default="/work/train/sd15-lora-r64.safetensors")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--conv", action="store_true", help="also every Conv of the UNet (LoCon)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    tensors = {}
    for comp, prefix in (("unet", "lora_unet_"), ("text_encoder", "lora_te_")):
        m = onnx.load(os.path.join(args.model, comp, "model.onnx"), load_external_data=False)
        dims = {i.name: list(i.dims) for i in m.graph.initializer}
        for n in m.graph.node:
            if args.conv and comp == "unet" and n.op_type == "Conv" and n.input[1] in dims:
                out_c, in_c, kh, kw = dims[n.input[1]]
                key = prefix + n.name.lstrip("/").rsplit("/", 1)[0].replace("/", "_").replace(".", "_")
                tensors[key + ".lora_down.weight"] = (rng.standard_normal((args.rank, in_c, kh, kw)) * 0.01
                                                      ).astype(np.float16)
                tensors[key + ".lora_up.weight"] = (rng.standard_normal((out_c, args.rank, 1, 1)) * 0.01
                                                    ).astype(np.float16)
                tensors[key + ".alpha"] = np.array(args.rank / 2, dtype=np.float16)
                continue
            if n.op_type != "MatMul" or len(n.input) < 2 or n.input[1] not in dims:
                continue
            path = n.name.lstrip("/").rsplit("/", 1)[0]
            if not any(p in path.split("/")[-1] or p in path for p in PROJECTIONS):
                continue
            d_in, d_out = dims[n.input[1]]  # MatMul weights are stored [in, out]
            key = prefix + path.replace("/", "_").replace(".", "_")
            tensors[key + ".lora_down.weight"] = (rng.standard_normal((args.rank, d_in)) * 0.01).astype(np.float16)
            tensors[key + ".lora_up.weight"] = (rng.standard_normal((d_out, args.rank)) * 0.01).astype(np.float16)
            tensors[key + ".alpha"] = np.array(args.rank / 2, dtype=np.float16)
    save_safetensors(args.out, tensors)
    print(len(tensors) // 3, "modules,", os.path.getsize(args.out) // 2**20, "MB:", args.out)


if __name__ == "__main__":
    main()
