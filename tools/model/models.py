"""Scaled-down Stable Diffusion components with the structure of diffusers' classes.

- TextEncoder: CLIP text transformer (token + position embeddings, causal pre-LN layers, final LayerNorm).
- UNet: UNet2DConditionModel-style (sinusoidal timestep embedding + MLP, ResNet blocks with GroupNorm/SiLU,
  transformer blocks with self- and cross-attention to the text states, down/up sampling with skip connections).
- AutoencoderKL: encoder to a diagonal Gaussian (mean, log-variance) over 4 latent channels, 8x spatial
  down-sampling, and a decoder back to RGB.
Written for this project; only the layer structure follows the public Stable Diffusion design.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 49408
MAX_POS = 77


# ----------------------------------------------------------------------------------------------- text encoder
class TextConfig(dict):
    def __init__(self, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                 vocab_size=VOCAB_SIZE, max_position_embeddings=MAX_POS):
        super().__init__(hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                         num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
                         vocab_size=vocab_size, max_position_embeddings=max_position_embeddings)


class ClipAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x, mask):
        b, n, d = x.shape
        h = self.heads
        q = self.q_proj(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.k_proj(x).reshape(b, n, h, d // h).transpose(1, 2)
        v = self.v_proj(x).reshape(b, n, h, d // h).transpose(1, 2)
        w = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h)) + mask
        o = w.softmax(-1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(b, n, d))


class ClipLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.layer_norm1 = nn.LayerNorm(d)
        self.self_attn = ClipAttention(d, cfg["num_attention_heads"])
        self.layer_norm2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg["intermediate_size"])
        self.fc2 = nn.Linear(cfg["intermediate_size"], d)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        h = self.fc1(self.layer_norm2(x))
        h = h * torch.sigmoid(1.702 * h)  # quick_gelu, as CLIP
        return x + self.fc2(h)


class TextEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["hidden_size"]
        self.token_embedding = nn.Embedding(cfg["vocab_size"], d)
        self.position_embedding = nn.Embedding(cfg["max_position_embeddings"], d)
        self.layers = nn.ModuleList([ClipLayer(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.final_layer_norm = nn.LayerNorm(d)
        n = cfg["max_position_embeddings"]
        self.register_buffer("causal_mask", torch.full((n, n), -1e9).triu(1), persistent=False)
        self.register_buffer("position_ids", torch.arange(n), persistent=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.01)

    def forward(self, input_ids):
        input_ids = input_ids.long()
        n = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:n])
        mask = self.causal_mask[:n, :n]
        for layer in self.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        # pooled output: the state at the (first) end token, which has the highest id (as CLIP)
        idx = input_ids.to(torch.int32).argmax(dim=-1)
        pooled = torch.gather(x, 1, idx.long().view(-1, 1, 1).expand(-1, 1, self.cfg["hidden_size"]))[:, 0]
        return x, pooled


# ----------------------------------------------------------------------------------------------- shared blocks
def group_norm(ch, groups, eps=1e-5):
    return nn.GroupNorm(min(groups, ch), ch, eps=eps)


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb_ch=None, groups=32, eps=1e-5):
        super().__init__()
        self.norm1 = group_norm(cin, groups, eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_ch, cout) if temb_ch else None
        self.norm2 = group_norm(cout, groups, eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Downsample2D(nn.Module):
    def __init__(self, ch, pad_asym=False):
        super().__init__()
        self.pad_asym = pad_asym
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=0 if pad_asym else 1)

    def forward(self, x):
        if self.pad_asym:  # the VAE encoder pads right/bottom only, as SD's
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Attention(nn.Module):
    """Multi-head attention (self if context is None, else cross)."""

    def __init__(self, dim, heads, context_dim=None):
        super().__init__()
        self.heads = heads
        cd = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(cd, dim, bias=False)
        self.to_v = nn.Linear(cd, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, context=None):
        ctx = x if context is None else context
        b, n, d = x.shape
        h = self.heads
        q = self.to_q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.to_k(ctx).reshape(b, -1, h, d // h).transpose(1, 2)
        v = self.to_v(ctx).reshape(b, -1, h, d // h).transpose(1, 2)
        w = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        o = w.softmax(-1) @ v
        return self.to_out(o.transpose(1, 2).reshape(b, n, d))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, g = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(g)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(GEGLU(dim, dim * 4), nn.Linear(dim * 4, dim))

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer2DModel(nn.Module):
    def __init__(self, ch, heads, context_dim, groups=32, layers=1):
        super().__init__()
        self.norm = group_norm(ch, groups, 1e-6)
        self.proj_in = nn.Conv2d(ch, ch, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(ch, heads, context_dim) for _ in range(layers)])
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x, context):
        b, c, hh, ww = x.shape
        h = self.proj_in(self.norm(x))
        h = h.flatten(2).transpose(1, 2)  # B, HW, C
        for blk in self.transformer_blocks:
            h = blk(h, context)
        h = h.transpose(1, 2).reshape(b, c, hh, ww)
        return x + self.proj_out(h)


# ----------------------------------------------------------------------------------------------- UNet
class UNetConfig(dict):
    def __init__(self, block_out_channels=(96, 192), layers_per_block=2, cross_attention_dim=64,
                 attention_head_dim=4, norm_num_groups=32, in_channels=4, out_channels=4, sample_size=8,
                 attn_levels=None, timestep_cond_dim=None, transformer_layers_per_block=1):
        n = len(block_out_channels)
        attn_levels = list(attn_levels) if attn_levels is not None else [True] * n
        super().__init__(
            in_channels=in_channels, out_channels=out_channels, sample_size=sample_size,
            block_out_channels=list(block_out_channels), layers_per_block=layers_per_block,
            cross_attention_dim=cross_attention_dim, attention_head_dim=attention_head_dim,
            norm_num_groups=norm_num_groups, flip_sin_to_cos=True, freq_shift=0,
            down_block_types=["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attn_levels],
            up_block_types=["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attn_levels)],
            mid_block_type="UNetMidBlock2DCrossAttn", act_fn="silu", norm_eps=1e-5,
            time_cond_proj_dim=timestep_cond_dim, transformer_layers_per_block=transformer_layers_per_block,
        )


def timestep_embedding(t, dim, flip_sin_to_cos=True, shift=0.0, max_period=10000.0):
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - shift)
    args = t.float()[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


class UNet(nn.Module):
    def __init__(self, cfg, transformer=None):
        """transformer(channels, level): the attention module of a block at that level (0 = full latent resolution);
        SD's Transformer2DModel by default."""
        super().__init__()
        self.cfg = cfg
        ch = cfg["block_out_channels"]
        g = cfg["norm_num_groups"]
        heads = cfg["attention_head_dim"]  # SD 1.x's config calls the number of heads "attention_head_dim"
        ctx = cfg["cross_attention_dim"]
        L = cfg["layers_per_block"]
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.time_linear_1 = nn.Linear(ch[0], temb)
        self.time_linear_2 = nn.Linear(temb, temb)
        self.cond_proj = nn.Linear(cfg["time_cond_proj_dim"], ch[0], bias=False) if cfg.get("time_cond_proj_dim") else None
        attn_down = [t.startswith("CrossAttn") for t in cfg["down_block_types"]]
        layers = cfg.get("transformer_layers_per_block", 1)  # diffusers' key; the same depth at every level
        transformer = transformer or (lambda c, level: Transformer2DModel(c, heads, ctx, g, layers))

        self.down = nn.ModuleList()
        skip_ch = [ch[0]]
        cin = ch[0]
        for i, c in enumerate(ch):
            blk = nn.Module()
            blk.resnets = nn.ModuleList()
            blk.attentions = nn.ModuleList()
            for j in range(L):
                blk.resnets.append(ResnetBlock2D(cin, c, temb, g))
                if attn_down[i]:
                    blk.attentions.append(transformer(c, i))
                cin = c
                skip_ch.append(c)
            blk.downsample = Downsample2D(c) if i < len(ch) - 1 else None
            if blk.downsample is not None:
                skip_ch.append(c)
            self.down.append(blk)

        self.mid_res1 = ResnetBlock2D(ch[-1], ch[-1], temb, g)
        self.mid_attn = transformer(ch[-1], len(ch) - 1)
        self.mid_res2 = ResnetBlock2D(ch[-1], ch[-1], temb, g)

        self.up = nn.ModuleList()
        rch = list(reversed(ch))
        attn_up = list(reversed(attn_down))
        cin = ch[-1]
        for i, c in enumerate(rch):
            blk = nn.Module()
            blk.resnets = nn.ModuleList()
            blk.attentions = nn.ModuleList()
            for j in range(L + 1):
                s = skip_ch.pop()
                blk.resnets.append(ResnetBlock2D(cin + s, c, temb, g))
                if attn_up[i]:
                    blk.attentions.append(transformer(c, len(ch) - 1 - i))
                cin = c
            blk.upsample = Upsample2D(c) if i < len(ch) - 1 else None
            self.up.append(blk)

        self.conv_norm_out = group_norm(ch[0], g)
        self.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)

    def time_embedding(self, sample, timestep, timestep_cond=None):
        if timestep.dim() == 0:
            timestep = timestep[None]
        timestep = timestep.float().expand(sample.shape[0])
        t = timestep_embedding(timestep, self.cfg["block_out_channels"][0],
                               self.cfg["flip_sin_to_cos"], self.cfg["freq_shift"])
        t = t.to(sample.dtype)
        if self.cond_proj is not None and timestep_cond is not None:
            t = t + self.cond_proj(timestep_cond)
        return self.time_linear_2(F.silu(self.time_linear_1(t)))

    def down_and_mid(self, x, emb, ctx):
        """The encoder half from conv_in's output: (the skip connections, the mid block's output). A ControlNet
        (controlnet.py) runs the same half of its own copy."""
        skips = [x]
        for blk in self.down:
            for j, res in enumerate(blk.resnets):
                x = res(x, emb)
                if len(blk.attentions):
                    x = blk.attentions[j](x, ctx)
                skips.append(x)
            if blk.downsample is not None:
                x = blk.downsample(x)
                skips.append(x)
        x = self.mid_res1(x, emb)
        x = self.mid_attn(x, ctx)
        x = self.mid_res2(x, emb)
        return skips, x

    def forward(self, sample, timestep, encoder_hidden_states, timestep_cond=None, down_residuals=None,
                mid_residual=None):
        """down_residuals / mid_residual: a ControlNet's outputs, added to the skips and the mid block's output
        (diffusers' down_block_additional_residuals, mid_block_additional_residual)."""
        emb = self.time_embedding(sample, timestep, timestep_cond)
        return self.blocks(sample, emb, encoder_hidden_states, down_residuals, mid_residual)

    def blocks(self, sample, emb, ctx, down_residuals=None, mid_residual=None):
        """conv_in, the down blocks, the mid block (plus a ControlNet's residuals), the up blocks and conv_out, given
        the time embedding (also used by make_sdxl_memory.py's SDXL-shaped UNet)."""
        skips, x = self.down_and_mid(self.conv_in(sample), emb, ctx)
        if down_residuals is not None:
            skips = [s + r for s, r in zip(skips, down_residuals)]
        if mid_residual is not None:
            x = x + mid_residual
        for blk in self.up:
            for j, res in enumerate(blk.resnets):
                x = res(torch.cat([x, skips.pop()], dim=1), emb)
                if len(blk.attentions):
                    x = blk.attentions[j](x, ctx)
            if blk.upsample is not None:
                x = blk.upsample(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


# ----------------------------------------------------------------------------------------------- VAE
class VAEConfig(dict):
    def __init__(self, block_out_channels=(32, 64, 128, 128), layers_per_block=1, latent_channels=4,
                 norm_num_groups=16, in_channels=3, out_channels=3, sample_size=64, scaling_factor=1.0):
        super().__init__(
            in_channels=in_channels, out_channels=out_channels, latent_channels=latent_channels,
            block_out_channels=list(block_out_channels), layers_per_block=layers_per_block,
            norm_num_groups=norm_num_groups, sample_size=sample_size, scaling_factor=scaling_factor,
            act_fn="silu",
            down_block_types=["DownEncoderBlock2D"] * len(block_out_channels),
            up_block_types=["UpDecoderBlock2D"] * len(block_out_channels),
        )


class VAEAttention(nn.Module):
    """Single-head self-attention over all positions with a residual, as the VAE mid block's."""

    def __init__(self, ch, groups):
        super().__init__()
        self.group_norm = group_norm(ch, groups, 1e-6)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.Linear(ch, ch)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).flatten(2).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        a = ((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(c))).softmax(-1)
        o = self.to_out(a @ v).transpose(1, 2).reshape(b, c, h, w)
        return x + o


class VAEMid(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.res1 = ResnetBlock2D(ch, ch, None, groups, 1e-6)
        self.attn = VAEAttention(ch, groups)
        self.res2 = ResnetBlock2D(ch, ch, None, groups, 1e-6)

    def forward(self, x):
        return self.res2(self.attn(self.res1(x)))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = cfg["block_out_channels"]
        g = cfg["norm_num_groups"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch[0]
        for i, c in enumerate(ch):
            blk = nn.Module()
            blk.resnets = nn.ModuleList()
            for j in range(cfg["layers_per_block"]):
                blk.resnets.append(ResnetBlock2D(cin, c, None, g, 1e-6))
                cin = c
            blk.downsample = Downsample2D(c, pad_asym=True) if i < len(ch) - 1 else None
            self.down.append(blk)
        self.mid = VAEMid(ch[-1], g)
        self.conv_norm_out = group_norm(ch[-1], g, 1e-6)
        self.conv_out = nn.Conv2d(ch[-1], 2 * cfg["latent_channels"], 3, padding=1)
        self.quant_conv = nn.Conv2d(2 * cfg["latent_channels"], 2 * cfg["latent_channels"], 1)

    def forward(self, x):
        """Returns the latent distribution's parameters [B, 2*latent, h, w] (mean, log-variance)."""
        x = self.conv_in(x)
        for blk in self.down:
            for r in blk.resnets:
                x = r(x)
            if blk.downsample is not None:
                x = blk.downsample(x)
        x = self.mid(x)
        x = self.conv_out(F.silu(self.conv_norm_out(x)))
        return self.quant_conv(x)


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = list(reversed(cfg["block_out_channels"]))
        g = cfg["norm_num_groups"]
        lc = cfg["latent_channels"]
        self.post_quant_conv = nn.Conv2d(lc, lc, 1)
        self.conv_in = nn.Conv2d(lc, ch[0], 3, padding=1)
        self.mid = VAEMid(ch[0], g)
        self.up = nn.ModuleList()
        cin = ch[0]
        for i, c in enumerate(ch):
            blk = nn.Module()
            blk.resnets = nn.ModuleList()
            for j in range(cfg["layers_per_block"] + 1):
                blk.resnets.append(ResnetBlock2D(cin, c, None, g, 1e-6))
                cin = c
            blk.upsample = Upsample2D(c) if i < len(ch) - 1 else None
            self.up.append(blk)
        self.conv_norm_out = group_norm(ch[-1], g, 1e-6)
        self.conv_out = nn.Conv2d(ch[-1], cfg["out_channels"], 3, padding=1)

    def forward(self, z):
        x = self.conv_in(self.post_quant_conv(z))
        x = self.mid(x)
        for blk in self.up:
            for r in blk.resnets:
                x = r(x)
            if blk.upsample is not None:
                x = blk.upsample(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class AutoencoderKL(nn.Module):
    def __init__(self, cfg, dec_cfg=None):
        super().__init__()
        self.cfg = cfg
        self.dec_cfg = dec_cfg or cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(self.dec_cfg)

    def encode(self, x):
        h = self.encoder(x)
        lc = self.cfg["latent_channels"]
        mean, logvar = h[:, :lc], h[:, lc:]
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z):
        return self.decoder(z)


def count(m):
    return sum(p.numel() for p in m.parameters())


if __name__ == "__main__":
    import time
    torch.set_num_threads(2)
    te = TextEncoder(TextConfig())
    un = UNet(UNetConfig())
    vae = AutoencoderKL(VAEConfig())
    print("text", count(te), "unet", count(un), "vae enc", count(vae.encoder), "dec", count(vae.decoder))
    ids = torch.randint(0, 49408, (4, 77))
    hs, pooled = te(ids)
    out = un(torch.randn(4, 4, 8, 8), torch.tensor([1., 2, 3, 4]), hs)
    m, lv = vae.encode(torch.randn(4, 3, 64, 64))
    print(hs.shape, pooled.shape, out.shape, m.shape, vae.decode(m).shape)
