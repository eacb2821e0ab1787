"""Writes the textual-inversion reference fixture: embedding files for the LoRA fixture's base model, and that
model's text encoder with the same vectors written into its token embedding table.

  python3 make_ti_fixture.py [out dir, default src/test/resources/fixtures/ti]

Run after make_lora_fixture.py (the base model is fixtures/lora/base; its 49408 x 4 token table is fp16 behind a
Cast, so the Java side must replace an fp16 initializer that is cast, the harder case).

out/embeddings/shapeword.safetensors       A1111/kohya layout: emb_params [2, 4], F16
out/embeddings/learned_embeds.safetensors  diffusers layout: {"<blob>": [4]}, F32 (trigger: the token <blob>)
out/embeddings/oldstyle.safetensors        A1111 .pt converted: string_to_param.* [3, 4], F32
out/embeddings/pair.safetensors            SDXL: clip_l [2, 4], clip_g [2, 8]; clip_l applies to this model
out/embeddings/wide.safetensors            emb_params [1, 8]: another width, refused when its word is used
out/embeddings/pickled.pt                  a pickle file (never read), refused when its word is used
out/reference/text_encoder/model.onnx      the base text encoder with the rows of unused single-token words
                                           replaced by the embeddings' vectors (numpy, on the ONNX table)
out/prompts.json                           [prompt with trigger words, the same prompt with the replaced words]
The Java test (TextualInversionReferenceTest) generates with base + embeddings from the first prompt and with the
reference from the second, and compares the images.
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from clip_tokenizer import ClipTokenizer
from make_lora_fixture import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures")
WIDTH = 4
# rare words, one CLIP token each, that the prompts below do not otherwise use
STAND_INS = {"shapeword": ["zebra", "violin"], "<blob>": ["tulip"], "oldstyle": ["anchor", "lemon", "cactus"],
             "pair": ["penguin", "banjo"]}


def table(model):
    """The token table initializer (behind a Cast in the fixtures) and the name the Gather reads."""
    inits = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Gather" and "token_embedding" in n.name:
            data = n.input[0]
            for c in model.graph.node:
                if c.op_type == "Cast" and c.output[0] == data:
                    data = c.input[0]
            return inits[data]
    raise SystemExit("no token table")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(FIXTURES, "ti")
    shutil.rmtree(out, ignore_errors=True)
    emb_dir = os.path.join(out, "embeddings")
    os.makedirs(emb_dir)
    tok = ClipTokenizer()
    rng = np.random.default_rng(21)

    def vectors(n, width=WIDTH):
        # large enough to move the tiny model's image; fp16-exact, so the fp16 table stores them unchanged
        return (rng.standard_normal((n, width)) * 3).astype(np.float16).astype(np.float32)

    emb = {"shapeword": vectors(2), "<blob>": vectors(1), "oldstyle": vectors(3), "pair": vectors(2)}
    save_safetensors(os.path.join(emb_dir, "shapeword.safetensors"), {"emb_params": emb["shapeword"].astype(np.float16)})
    save_safetensors(os.path.join(emb_dir, "learned_embeds.safetensors"), {"<blob>": emb["<blob>"][0]})
    save_safetensors(os.path.join(emb_dir, "oldstyle.safetensors"), {"string_to_param.*": emb["oldstyle"]})
    save_safetensors(os.path.join(emb_dir, "pair.safetensors"), {"clip_l": emb["pair"], "clip_g": vectors(2, 8)})
    save_safetensors(os.path.join(emb_dir, "wide.safetensors"), {"emb_params": vectors(1, 8)})
    with open(os.path.join(emb_dir, "pickled.pt"), "wb") as f:
        f.write(b"\x80\x02}q\x00.")  # an empty pickled dict: never unpickled, refused by its name

    base = os.path.join(FIXTURES, "lora", "base", "text_encoder", "model.onnx")
    model = onnx.load(base)
    t = table(model)
    values = numpy_helper.to_array(t).copy()
    for word, stand_ins in STAND_INS.items():
        for k, w in enumerate(stand_ins):
            ids = tok.encode(w)[1:-1]
            assert len(ids) == 1, f"{w} is {len(ids)} tokens"
            values[ids[0]] = emb[word][k].astype(values.dtype)
    t.CopyFrom(numpy_helper.from_array(values, t.name))
    ref = os.path.join(out, "reference", "text_encoder")
    os.makedirs(ref)
    onnx.save(model, os.path.join(ref, "model.onnx"))

    def ref_prompt(p):
        for word, stand_ins in STAND_INS.items():
            p = p.replace(word, " ".join(stand_ins))
        return p

    prompts = [
        ["a shapeword circle", ""],
        ["(shapeword:1.4) on a <blob> square, [oldstyle]", "pair"],
        ["a red circle, learned_embeds and pair", "(oldstyle:1.2)"],
    ]
    cases = [{"prompt": p, "negative": n, "reference_prompt": ref_prompt(p), "reference_negative": ref_prompt(n)}
             for p, n in prompts]
    # learned_embeds (the diffusers file's name) is a trigger too, for the <blob> vector
    for c in cases:
        c["reference_prompt"] = c["reference_prompt"].replace("learned_embeds", " ".join(STAND_INS["<blob>"]))
    with open(os.path.join(out, "prompts.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
