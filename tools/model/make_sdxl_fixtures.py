"""Writes tiny random-weight SDXL model folders in optimum's SDXL ONNX layout, for tests.

  python3 make_sdxl_fixtures.py [out dir, default src/test/resources/fixtures]
  python3 make_sdxl_fixtures.py --controlnet [out dir]     # only the SDXL ControlNet fixtures (below)

Variants: sdxl-base, sdxl-refiner (text_encoder_2 only, 5 time ids with the aesthetic score), sdxl-turbo (base's
graphs, Turbo's scheduler config: trailing spacing), sdxl-inpaint (9-channel UNet); with --controlnet, sdxl-controlnet (a base in OnnxStack's split ControlNet layout:
controlnet/model.onnx is its UNet taking the residuals, with text_embeds and time_ids) and sdxl-controlnet-scale (an SDXL
ControlNet for it: diffusers' ControlNetModel with addition_embed_type "text_time", a conditioning_scale input). As make_fixtures.py, no vocabulary
is stored: tokenizer/ and tokenizer_2/ hold only their special-token files (tokenizer_2 pads with "!", as SDXL base's),
and tests copy models/tiny-sd-shapes/tokenizer/{vocab.json,merges.txt} in. The weights are random, seeded.

What it follows (diffusers / transformers semantics, scaled down):
- text encoders as CLIPTextModel / CLIPTextModelWithProjection exported by optimum with hidden states on: outputs
  last_hidden_state (final LayerNorm of the last layer), pooler_output (final state at the first end token), and
  hidden_states.0 (embeddings) .. hidden_states.N (after layer N); text_encoder_2 names its projected pooled output
  text_embeds (text_projection, no bias) instead of pooler_output;
- UNet2DConditionModel with addition_embed_type "text_time": add_time_proj = sinusoidal Timesteps(TIME_ID_DIM,
  flip_sin_to_cos, shift 0) of each time id (256 per id in SDXL, TIME_ID_DIM here), flattened per image and
  concatenated after text_embeds, through add_embedding (TimestepEmbedding: linear, SiLU, linear), added to the
  timestep embedding;
- vae scaling_factor 0.13025 in the VAE configs; scheduler as SDXL base's (Euler, leading spacing, steps_offset 1).
"""
import os
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import shutil
import sys

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx_export as ox
from models import AutoencoderKL, TextConfig, TextEncoder, UNet, UNetConfig, VAEConfig, timestep_embedding

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "test", "resources", "fixtures")
WIDTH_1, WIDTH_2, PROJECTION = 4, 6, 8   # CLIP ViT-L 768, OpenCLIP bigG 1280, its projection 1280
LAYERS = 2                              # 12 and 32 in SDXL: penultimate = hidden_states.1 here
TIME_ID_DIM = 8                         # addition_time_embed_dim, 256 in SDXL
SCALING = 0.13025


class SdxlTextEncoder(TextEncoder):
    """CLIPTextModel(WithProjection) with output_hidden_states: every layer's input and output."""

    def __init__(self, cfg, projection_dim=None):
        super().__init__(cfg)
        self.text_projection = nn.Linear(cfg["hidden_size"], projection_dim, bias=False) if projection_dim else None

    def forward(self, input_ids):
        input_ids = input_ids.long()
        n = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:n])
        mask = self.causal_mask[:n, :n]
        states = [x]
        for layer in self.layers:
            x = layer(x, mask)
            states.append(x)
        last = self.final_layer_norm(x)
        idx = input_ids.to(torch.int32).argmax(dim=-1)  # the first end token: the highest id
        pooled = torch.gather(last, 1, idx.long().view(-1, 1, 1).expand(-1, 1, self.cfg["hidden_size"]))[:, 0]
        if self.text_projection is not None:
            return (self.text_projection(pooled), last, *states)
        return (last, pooled, *states)


class SdxlUNet(UNet):
    """UNet with SDXL's added conditioning: text_embeds and time_ids through add_time_proj and add_embedding."""

    def __init__(self, cfg, pooled_dim, time_ids):
        super().__init__(cfg)
        temb = cfg["block_out_channels"][0] * 4
        self.add_embedding_linear_1 = nn.Linear(pooled_dim + time_ids * TIME_ID_DIM, temb)
        self.add_embedding_linear_2 = nn.Linear(temb, temb)
        self._aug = None
        # the added embedding joins the timestep embedding where diffusers adds it: after time_embedding
        self.time_linear_2.register_forward_hook(lambda m, i, out: out + self._aug)

    def added_embedding(self, text_embeds, time_ids):
        b = text_embeds.shape[0]
        t = timestep_embedding(time_ids.flatten(), TIME_ID_DIM, True, 0.0).reshape(b, -1)
        add = torch.cat([text_embeds, t], dim=-1)
        return self.add_embedding_linear_2(F.silu(self.add_embedding_linear_1(add)))

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids, down_residuals=None,
                mid_residual=None):
        self._aug = self.added_embedding(text_embeds, time_ids)
        return super().forward(sample, timestep, encoder_hidden_states, down_residuals=down_residuals,
                               mid_residual=mid_residual)


def text_encoder(width, seed, projection=None):
    torch.manual_seed(seed)
    te = SdxlTextEncoder(TextConfig(hidden_size=width, num_hidden_layers=LAYERS, num_attention_heads=1,
                                    intermediate_size=2 * width), projection)
    return te.eval()


def unet(context, pooled, time_ids, in_channels, seed):
    torch.manual_seed(seed)
    u = SdxlUNet(UNetConfig(block_out_channels=(8, 16), layers_per_block=1, cross_attention_dim=context,
                            attention_head_dim=2, norm_num_groups=4, in_channels=in_channels, sample_size=8),
                 pooled, time_ids)
    return u.eval()


def vae(seed):
    torch.manual_seed(seed)
    return AutoencoderKL(VAEConfig(block_out_channels=(4, 4, 8, 8), layers_per_block=1, norm_num_groups=4,
                                   sample_size=64, scaling_factor=SCALING)).eval()


def export_text_encoder(te, path, projected):
    ids = torch.full((1, 77), 49407, dtype=torch.int64)
    ids[:, 0] = 49406
    ids[:, 1] = 320
    states = ["hidden_states.%d" % i for i in range(LAYERS + 1)]
    outputs = (["text_embeds", "last_hidden_state"] if projected else ["last_hidden_state", "pooler_output"]) + states
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}}
    for o in outputs:
        axes[o] = {0: "batch_size"} if o in ("text_embeds", "pooler_output") else {0: "batch_size",
                                                                                    1: "sequence_length"}
    ox._export(ox.TextEncoderWrapper(te), (ids,), path, ["input_ids"], outputs, axes)
    m = onnx.load(path)  # the pooled width is fixed; torch leaves a generated symbol there: write the number
    for o in m.graph.output:
        if o.name in ("text_embeds", "pooler_output"):
            o.type.tensor_type.shape.dim[1].dim_value = PROJECTION if projected else te.cfg["hidden_size"]
    onnx.save(m, path)


class _UNetIO(torch.nn.Module):
    def __init__(self, u):
        super().__init__()
        self.u = u

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        return self.u(sample, timestep, encoder_hidden_states, text_embeds, time_ids)


def export_unet(u, path, context, pooled, time_ids):
    b = 2
    args = (torch.randn(b, u.cfg["in_channels"], 8, 8), torch.tensor(500.0), torch.randn(b, 77, context),
            torch.randn(b, pooled), torch.tensor([[64.0, 64, 0, 0, 64, 64][:time_ids]] * b))
    axes = {"sample": {0: "batch_size", 2: "height", 3: "width"},
            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
            "text_embeds": {0: "batch_size"}, "time_ids": {0: "batch_size"},
            "out_sample": {0: "batch_size", 2: "height", 3: "width"}}
    ox._export(_UNetIO(u), args, path, ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"],
               ["out_sample"], axes)


def model_index(cls, refiner=False):
    te = [None, None] if refiner else ["transformers", "CLIPTextModel"]
    index = {
        "_class_name": cls, "_diffusers_version": ox.DIFFUSERS_VERSION,
        "feature_extractor": [None, None], "force_zeros_for_empty_prompt": not refiner, "image_encoder": [None, None],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": te,
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": [None, None] if refiner else ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    }
    if cls != "StableDiffusionXLPipeline":
        index["requires_aesthetics_score"] = refiner
    return index


SDXL_SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler", "_diffusers_version": ox.DIFFUSERS_VERSION,
    "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "clip_sample": False,
    "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon",
    "sample_max_value": 1.0, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
    "timestep_spacing": "leading", "trained_betas": None, "use_karras_sigmas": False,
}
# SDXL-Turbo's: Euler ancestral with trailing spacing (1-4 steps from the last training timestep)
TURBO_SCHEDULER = dict(SDXL_SCHEDULER, _class_name="EulerAncestralDiscreteScheduler", timestep_spacing="trailing")


def write_tokenizer_specials(folder, name, pad):
    """Only the special-token files (tests add vocab.json and merges.txt): pad_token as each SDXL tokenizer has it."""
    d = os.path.join(folder, name)
    tok = {"content": None, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
    special = {"bos_token": dict(tok, content="<|startoftext|>"), "eos_token": dict(tok, content="<|endoftext|>"),
               "pad_token": pad, "unk_token": dict(tok, content="<|endoftext|>")}
    ox.write_json(os.path.join(d, "special_tokens_map.json"), special)
    ox.write_json(os.path.join(d, "tokenizer_config.json"),
                  {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
                   "pad_token": pad, "add_prefix_space": False, "errors": "replace"})


def write_variant(out, name, cls, refiner=False, in_channels=4, scheduler=SDXL_SCHEDULER, seed=0):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    te1 = None if refiner else text_encoder(WIDTH_1, seed + 1)
    te2 = text_encoder(WIDTH_2, seed + 2, PROJECTION)
    context = WIDTH_2 if refiner else WIDTH_1 + WIDTH_2
    time_ids = 5 if refiner else 6
    u = unet(context, PROJECTION, time_ids, in_channels, seed + 3)
    v = vae(seed + 4)
    comps = []
    if te1 is not None:
        export_text_encoder(te1, os.path.join(d, "text_encoder", "model.onnx"), False)
        ox.write_json(os.path.join(d, "text_encoder", "config.json"), ox.text_config(te1.cfg))
        write_tokenizer_specials(d, "tokenizer", "<|endoftext|>")
        comps.append("text_encoder")
    export_text_encoder(te2, os.path.join(d, "text_encoder_2", "model.onnx"), True)
    cfg2 = dict(ox.text_config(te2.cfg), architectures=["CLIPTextModelWithProjection"], projection_dim=PROJECTION,
                hidden_act="gelu", pad_token_id=1)
    ox.write_json(os.path.join(d, "text_encoder_2", "config.json"), cfg2)
    write_tokenizer_specials(d, "tokenizer_2", "!")
    export_unet(u, os.path.join(d, "unet", "model.onnx"), context, PROJECTION, time_ids)
    ucfg = dict(ox.unet_config(u.cfg), addition_embed_type="text_time", addition_time_embed_dim=TIME_ID_DIM,
                projection_class_embeddings_input_dim=PROJECTION + time_ids * TIME_ID_DIM)
    ox.write_json(os.path.join(d, "unet", "config.json"), ucfg)
    ox.export_vae_encoder(v, os.path.join(d, "vae_encoder", "model.onnx"), mode="parameters", optimum_axes=True)
    ox.export_vae_decoder(v, os.path.join(d, "vae_decoder", "model.onnx"), optimum_axes=True)
    vcfg = dict(ox.vae_config(v.cfg), force_upcast=True)
    ox.write_json(os.path.join(d, "vae_encoder", "config.json"), vcfg)
    ox.write_json(os.path.join(d, "vae_decoder", "config.json"), vcfg)
    comps += ["text_encoder_2", "unet", "vae_encoder", "vae_decoder"]
    for c in comps:
        ox.compact_graph(os.path.join(d, c, "model.onnx"), fp16_min_elements=100000)
    ox.write_json(os.path.join(d, "scheduler", "scheduler_config.json"), scheduler)
    ox.write_json(os.path.join(d, "model_index.json"), model_index(cls, refiner))


class SdxlControlNet(torch.nn.Module):
    """diffusers' ControlNetModel for an SDXL UNet: make_controlnet_fixture.ControlNet (the UNet's encoder half, the
    control image's conditioning embedding, a 1x1 convolution per skip and for the mid block) whose copy of the UNet
    also has SDXL's added conditioning (text_embeds and time_ids through add_embedding, added to the timestep
    embedding), as diffusers' ControlNetModel.from_unet copies it (addition_embed_type "text_time")."""

    def __init__(self, cfg, pooled_dim, time_ids):
        super().__init__()
        import make_controlnet_fixture as fx
        self.net = fx.ControlNet(cfg)
        self.net.unet = SdxlUNet(cfg, pooled_dim, time_ids)  # the encoder half is what runs (traced)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale, text_embeds,
                time_ids):
        self.net.unet._aug = self.net.unet.added_embedding(text_embeds, time_ids)
        return self.net(sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale)


class _ResidualUNetIO(torch.nn.Module):
    """OnnxStack's ControlNet UNet for SDXL: the UNet with SDXL's inputs and the residuals as extra inputs."""

    def __init__(self, u):
        super().__init__()
        self.u = u

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids, *residuals):
        return self.u(sample, timestep, encoder_hidden_states, text_embeds, time_ids,
                      down_residuals=list(residuals[:-1]), mid_residual=residuals[-1])


def write_controlnet(out, seed=40):
    """sdxl-controlnet (a base folder as sdxl-base, other weights, plus controlnet/model.onnx: the same UNet taking the
    residuals) and sdxl-controlnet-scale (a ControlNet for it)."""
    import make_controlnet_fixture as fx
    write_variant(out, "sdxl-controlnet", "StableDiffusionXLPipeline", seed=seed)
    context, time_ids, b = WIDTH_1 + WIDTH_2, 6, 2
    u = unet(context, PROJECTION, time_ids, 4, seed + 3)  # write_variant's UNet: the same seed, the same weights
    shapes = fx.residual_shapes(u.cfg, b, 8)
    names = ["down_block_%d_additional_residual" % i for i in range(len(shapes) - 1)] + ["mid_block_additional_residual"]
    common = (torch.randn(b, 4, 8, 8), torch.tensor(500.0), torch.randn(b, 77, context))
    sdxl_in = (torch.randn(b, PROJECTION), torch.tensor([[64.0, 64, 0, 0, 64, 64]] * b))
    axes = {"sample": {0: "batch_size", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch_size"},
            "text_embeds": {0: "batch_size"}, "time_ids": {0: "batch_size"}}
    axes.update({n: {0: "batch_size", 2: "height", 3: "width"} for n in names})
    ox._export(_ResidualUNetIO(u), common + sdxl_in + tuple(torch.randn(*s) for s in shapes),
               os.path.join(out, "sdxl-controlnet", "controlnet", "model.onnx"),
               ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"] + names, ["out_sample"],
               dict(axes, out_sample={0: "batch_size", 2: "height", 3: "width"}))
    ox.compact_graph(os.path.join(out, "sdxl-controlnet", "controlnet", "model.onnx"))

    torch.manual_seed(seed + 5)
    net = SdxlControlNet(u.cfg, PROJECTION, time_ids).eval()
    d = os.path.join(out, "sdxl-controlnet-scale")
    shutil.rmtree(d, ignore_errors=True)
    args = common + (torch.rand(b, 3, 64, 64), torch.tensor([0.7], dtype=torch.float64)) + sdxl_in
    ox._export(net, args, os.path.join(d, "model.onnx"),
               ["sample", "timestep", "encoder_hidden_states", "controlnet_cond", "conditioning_scale", "text_embeds",
                "time_ids"], names,
               dict(axes, controlnet_cond={0: "batch_size", 2: "image_height", 3: "image_width"}))
    ox.compact_graph(os.path.join(d, "model.onnx"))


README = """# SDXL test fixtures: tiny random-weight folders in optimum's SDXL ONNX layout

Written by `tools/model/make_sdxl_fixtures.py` (rerun it to regenerate; its docstring says what each graph follows).
As the other fixtures, no vocabulary is stored: `tokenizer/` and `tokenizer_2/` hold only `special_tokens_map.json`
and `tokenizer_config.json` (`tokenizer_2` pads with `!`, id 0, as SDXL's), and a test copies
`models/tiny-sd-shapes/tokenizer/{vocab.json,merges.txt}` into both. Text encoders: 2 layers, so the penultimate
hidden state is `hidden_states.1`; encoder 1 width 4 (CLIP ViT-L: 768), encoder 2 width 6 (bigG: 1280) with a
projection to 8 (1280). UNet as the other fixtures (block_out_channels (8, 16)) plus SDXL's added conditioning
(`addition_time_embed_dim` 8 instead of 256). VAE scaling factor 0.13025. All float32, `input_ids` int64, `timestep`
a float32 scalar (optimum).

| fixture | model_index `_class_name` | text encoders | unet inputs | scheduler |
|---|---|---|---|---|
| `sdxl-base` | StableDiffusionXLPipeline, `force_zeros_for_empty_prompt` true | `text_encoder` (`last_hidden_state`, `pooler_output`, `hidden_states.0..2`, width 4), `text_encoder_2` (`text_embeds` [B,8], `last_hidden_state`, `hidden_states.0..2`, width 6) | `sample` [B,4,h,w], `timestep` [], `encoder_hidden_states` [B,77,10], `text_embeds` [B,8], `time_ids` [B,6] | EulerDiscreteScheduler, leading spacing, steps_offset 1 (SDXL base's) |
| `sdxl-refiner` | StableDiffusionXLImg2ImgPipeline, `force_zeros_for_empty_prompt` false, `requires_aesthetics_score` true | `text_encoder_2` only | `encoder_hidden_states` [B,77,6], `time_ids` **[B,5]** (size, crop, aesthetic score) | as base |
| `sdxl-turbo` | StableDiffusionXLPipeline | as base (the same graphs) | as base | **EulerAncestralDiscreteScheduler, trailing spacing** (SDXL-Turbo's) |
| `sdxl-inpaint` | StableDiffusionXLInpaintPipeline, `force_zeros_for_empty_prompt` true, `requires_aesthetics_score` false | as base | `sample` **[B,9,h,w]** | as base |
| `sdxl-controlnet` | StableDiffusionXLPipeline (other weights than base) | as base | as base; `controlnet/model.onnx` takes also `down_block_0_additional_residual` .. `_3_` and `mid_block_additional_residual` (OnnxStack's split ControlNet layout) | as base |

`sdxl-controlnet-scale` (`make_sdxl_fixtures.py --controlnet`): an SDXL ControlNet for `sdxl-controlnet` (`model.onnx`):
`sample`, `timestep` [], `encoder_hidden_states` [B,77,10], `controlnet_cond` [B,3,H,W] in [0,1], `conditioning_scale`
f64 [1], `text_embeds` [B,8], `time_ids` [B,6] -> the 5 residuals, times the scale.
"""


def main():
    args = [a for a in sys.argv[1:] if a != "--controlnet"]
    out = args[0] if args else DEFAULT_OUT
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    if "--controlnet" in sys.argv:
        write_controlnet(out)
        with open(os.path.join(out, "README-sdxl.md"), "w") as f:
            f.write(README)
        import check_onnx
        for p in ("sdxl-controlnet/controlnet/model.onnx", "sdxl-controlnet-scale/model.onnx"):
            print(p, *check_onnx.io_table(os.path.join(out, p)))
        return
    write_variant(out, "sdxl-base", "StableDiffusionXLPipeline", seed=10)
    write_variant(out, "sdxl-refiner", "StableDiffusionXLImg2ImgPipeline", refiner=True, seed=20)
    write_variant(out, "sdxl-turbo", "StableDiffusionXLPipeline", scheduler=TURBO_SCHEDULER, seed=10)
    write_variant(out, "sdxl-inpaint", "StableDiffusionXLInpaintPipeline", in_channels=9, seed=30)
    with open(os.path.join(out, "README-sdxl.md"), "w") as f:
        f.write(README)
    import check_onnx
    for name in ("sdxl-base", "sdxl-refiner", "sdxl-turbo", "sdxl-inpaint"):
        print("==", name)
        for comp in ("text_encoder", "text_encoder_2", "unet", "vae_encoder", "vae_decoder"):
            p = os.path.join(out, name, comp, "model.onnx")
            if os.path.exists(p):
                print(comp, *check_onnx.io_table(p))


if __name__ == "__main__":
    main()
