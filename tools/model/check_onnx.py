"""A small numpy interpreter for the ONNX operators our exports use, to check exported graphs against torch
without ONNX Runtime (which Debian does not package for Python). Also prints each model's inputs/outputs.

  python3 check_onnx.py FOLDER      # prints the I/O table and runs each graph once on random inputs
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import sys

import numpy as np
import onnx
from onnx import numpy_helper

DT = {1: np.float32, 10: np.float16, 11: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}


def _erf(x):
    # Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, plenty for a check
    z = np.abs(x.astype(np.float64))
    t = 1.0 / (1.0 + 0.3275911 * z)
    p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (np.sign(x) * (1.0 - p * np.exp(-z * z))).astype(x.dtype)


def _conv(x, w, b, strides, pads, group):
    n, c, h, ww = x.shape
    o, ci, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    sh, sw = strides
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    assert group == 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
    out = np.einsum("nckluv,ockl->nouv", cols, w, optimize=True)
    if b is not None:
        out = out + b[None, :, None, None]
    return out.astype(x.dtype)


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run(model, feeds):
    env = dict(feeds)
    return run_graph(model.graph, env)


_INIT_CACHE = {}


def run_graph(graph, env):
    key = id(graph)
    if key not in _INIT_CACHE:
        _INIT_CACHE[key] = (graph, {i.name: numpy_helper.to_array(i) for i in graph.initializer})
    env.update(_INIT_CACHE[key][1])
    for node in graph.node:
        a = _attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Identity":
            y = x[0]
        elif op == "Cast":
            y = x[0].astype(DT[a["to"]])
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "GatherElements":
            y = np.take_along_axis(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1]):
                y = np.expand_dims(y, ax if ax >= 0 else ax + y.ndim + 1)
        elif op == "Squeeze":
            y = np.squeeze(x[0], axis=tuple(int(v) for v in x[1])) if len(x) > 1 and x[1] is not None else np.squeeze(x[0])
        elif op == "Slice":
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(max(min(s, 2 ** 62), -2 ** 62)), int(max(min(e, 2 ** 62), -2 ** 62)), int(st))
            y = x[0][tuple(sl)]
        elif op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power,
                 "Equal": np.equal, "Less": np.less, "Greater": np.greater}[op]
            y = f(x[0], x[1])
            if op == "Div" and np.issubdtype(x[0].dtype, np.integer):
                y = np.floor_divide(x[0], x[1])
            if op not in ("Equal", "Less", "Greater"):
                y = y.astype(x[0].dtype)
        elif op == "Where":
            y = np.where(x[0], x[1], x[2])
        elif op == "Expand":
            y = x[0] * np.ones(tuple(int(v) for v in x[1]), dtype=x[0].dtype)
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full(tuple(int(s) for s in x[0]), v.flatten()[0], dtype=v.dtype)
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B) + (a.get("beta", 1.0) * x[2] if len(x) > 2 else 0)
            y = y.astype(x[0].dtype)
        elif op == "Softmax":
            ax = a.get("axis", -1)
            e = np.exp(x[0] - x[0].max(axis=ax, keepdims=True))
            y = e / e.sum(axis=ax, keepdims=True)
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-x[0]))
        elif op in ("Sin", "Cos", "Exp", "Sqrt", "Neg", "Tanh", "Log"):
            y = getattr(np, {"Neg": "negative"}.get(op, op.lower()))(x[0])
        elif op == "Clip":
            lo = x[1] if len(x) > 1 and x[1] is not None else -np.inf
            hi = x[2] if len(x) > 2 and x[2] is not None else np.inf
            y = np.clip(x[0], lo, hi).astype(x[0].dtype)
        elif op == "Erf":
            y = _erf(x[0])
        elif op == "ArgMax":
            y = np.argmax(x[0], axis=a.get("axis", 0))
            if a.get("keepdims", 1):
                y = np.expand_dims(y, a.get("axis", 0))
            y = y.astype(np.int64)
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            m = x[0].mean(axis=ax, keepdims=True)
            v = ((x[0] - m) ** 2).mean(axis=ax, keepdims=True)
            y = (x[0] - m) / np.sqrt(v + a.get("epsilon", 1e-5)) * x[1] + (x[2] if len(x) > 2 else 0)
            y = y.astype(x[0].dtype)
        elif op == "InstanceNormalization":
            axes = tuple(range(2, x[0].ndim))
            m = x[0].mean(axis=axes, keepdims=True)
            v = ((x[0] - m) ** 2).mean(axis=axes, keepdims=True)
            sh = (1, -1) + (1,) * (x[0].ndim - 2)
            y = ((x[0] - m) / np.sqrt(v + a.get("epsilon", 1e-5)) * x[1].reshape(sh) + x[2].reshape(sh))
            y = y.astype(x[0].dtype)
        elif op == "Conv":
            k = x[1].shape[2:]
            pads = a.get("pads", [0] * 4)
            y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a.get("strides", [1, 1]), pads, a.get("group", 1))
        elif op == "Pad":
            pads = [int(p) for p in x[1]]
            n = x[0].ndim
            y = np.pad(x[0], [(pads[i], pads[i + n]) for i in range(n)], constant_values=0)
        elif op == "Resize":
            scales = x[2] if len(x) > 2 and x[2] is not None and x[2].size else None
            if scales is None:
                sizes = x[3]
                scales = np.array(sizes, np.float32) / np.array(x[0].shape, np.float32)
            assert a.get("mode", b"nearest") in (b"nearest", "nearest")
            y = x[0]
            for ax, s in enumerate(scales):
                if s != 1:
                    idx = np.floor(np.arange(int(y.shape[ax] * s)) / s).astype(np.int64)
                    y = np.take(y, idx, axis=ax)
        elif op == "Split":
            ax = a.get("axis", 0)
            split = x[1] if len(x) > 1 and x[1] is not None else [x[0].shape[ax] // len(node.output)] * len(node.output)
            y = np.split(x[0], np.cumsum(split)[:-1], axis=ax)
        elif op == "If":
            branch = a["then_branch"] if bool(np.asarray(x[0]).all()) else a["else_branch"]
            y = run_graph(branch, dict(env))
        else:
            raise NotImplementedError(op)
        outs = y if isinstance(y, list) else [y]
        for name, val in zip(node.output, outs):
            env[name] = np.asarray(val)
    return [env[o.name] for o in graph.output]


def io_table(path):
    m = onnx.load(path, load_external_data=False)
    names = lambda vs: [(v.name, onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type),
                         [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in vs]
    init = {i.name for i in m.graph.initializer}
    return names([i for i in m.graph.input if i.name not in init]), names(m.graph.output)


def check_folder(folder, vae, te, unet, tol=2e-3):
    """Runs each exported graph with the numpy interpreter and compares with the torch modules."""
    import torch
    rng = np.random.default_rng(0)
    ids = np.full((2, 77), 49407, np.int32)
    ids[:, 0] = 49406
    ids[0, 1:4] = [320, 736, 2446]
    ids[1, 1:3] = [320, 1746]
    worst = {}
    m = onnx.load(os.path.join(folder, "text_encoder", "model.onnx"))
    hs, pooled = run(m, {"input_ids": ids})
    with torch.no_grad():
        ths, tpooled = te(torch.from_numpy(ids))
    worst["text_encoder"] = max(np.abs(hs - ths.numpy()).max(), np.abs(pooled - tpooled.numpy()).max())
    lat = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
    t = np.array([981.0, 1.0], np.float32)
    m = onnx.load(os.path.join(folder, "unet", "model.onnx"))
    (o,) = run(m, {"sample": lat, "timestep": t, "encoder_hidden_states": hs})
    with torch.no_grad():
        to = unet(torch.from_numpy(lat), torch.from_numpy(t), ths)
    worst["unet"] = np.abs(o - to.numpy()).max()
    img = rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)
    m = onnx.load(os.path.join(folder, "vae_encoder", "model.onnx"))
    (z,) = run(m, {"sample": img})
    with torch.no_grad():
        tz = vae.encode(torch.from_numpy(img))[0]
    worst["vae_encoder"] = np.abs(z - tz.numpy()).max()
    m = onnx.load(os.path.join(folder, "vae_decoder", "model.onnx"))
    (y,) = run(m, {"latent_sample": lat[:1]})
    with torch.no_grad():
        ty = vae.decode(torch.from_numpy(lat[:1]))
    worst["vae_decoder"] = np.abs(y - ty.numpy()).max()
    for k, v in worst.items():
        print(f"{k}: max |onnx - torch| = {v:.2e} {'OK' if v < tol else 'MISMATCH'}")
    return all(v < tol for v in worst.values())


def smoke(folder, run_graphs=True):
    """Prints the I/O table and runs every model.onnx in folder once on random inputs of its declared types."""
    rng = np.random.default_rng(0)
    for comp in ("text_encoder", "unet", "vae_encoder", "vae_decoder"):
        p = os.path.join(folder, comp, "model.onnx")
        if not os.path.exists(p):
            continue
        ins, outs = io_table(p)
        print(comp, "inputs", ins, "outputs", outs)
        if not run_graphs:
            continue
        feeds = {}
        for name, dt, shape in ins:
            shape = [2 if isinstance(s, str) else s for s in shape]
            if name == "input_ids":
                shape = [2, 77]
                a = np.full(shape, 49407)
                a[:, 0] = 49406
                a[:, 1] = 320
            elif name == "timestep":
                a = np.full(shape, 500)
            elif name in ("sample", "latent_sample") and comp.startswith("vae"):
                shape = [1, 3 if comp == "vae_encoder" else 4, 64 if comp == "vae_encoder" else 8,
                         64 if comp == "vae_encoder" else 8]
                a = rng.uniform(-1, 1, shape)
            elif name == "sample":
                shape = [2, 4, 8, 8]
                a = rng.standard_normal(shape)
            elif name == "encoder_hidden_states":
                shape[1] = 77
                a = rng.standard_normal(shape)
            else:
                a = rng.standard_normal(shape)
            feeds[name] = a.astype(DT[onnx.TensorProto.DataType.Value(dt)])
        m = onnx.load(p)
        if comp == "unet":  # the UNet's input channel count: from its first convolution's weight
            first = next(n for n in m.graph.node if n.op_type == "Conv")
            wname = first.input[1]
            cast = next((n for n in m.graph.node if n.op_type == "Cast" and n.output[0] == wname), None)
            wname = cast.input[0] if cast is not None else wname
            w = next((i for i in m.graph.initializer if i.name == wname), None)
            if w is not None:
                feeds["sample"] = rng.standard_normal([2, w.dims[1], 8, 8]).astype(feeds["sample"].dtype)
        res = run(m, feeds)
        print("   ran:", [(o[0], r.dtype.name, list(r.shape), bool(np.isfinite(r.astype(np.float64)).all()))
                          for o, r in zip(outs, res)])


if __name__ == "__main__":
    smoke(sys.argv[1])
