import pytest
import torch

from videoldm_ref.temporal import AlphaBlender


def test_alpha_mix_closed_form():
    b = AlphaBlender(alpha=0.3)
    s, t = torch.randn(6, 2, 3, 3), torch.randn(6, 2, 3, 3)
    assert b.alpha.item() == pytest.approx(0.3, abs=1e-6)
    assert torch.allclose(b(s, t), 0.3 * s + 0.7 * t, atol=1e-6)


def test_image_only_frames_are_exactly_spatial_even_with_nan_temporal():
    b = AlphaBlender()
    s, t = torch.randn(4, 5), torch.full((4, 5), float("nan"))
    out = b(s, t, torch.ones(2, 2, dtype=torch.bool))
    assert torch.equal(out, s)
    mixed = b(s, torch.zeros(4, 5), torch.tensor([[True, False], [False, True]]))
    assert torch.equal(mixed[0], s[0]) and torch.equal(mixed[3], s[3])
    assert torch.allclose(mixed[1], b.alpha * s[1])


def test_gradient_reaches_the_mix_factor_only_through_mixed_frames():
    b = AlphaBlender()
    b(torch.zeros(2, 3), torch.ones(2, 3), torch.ones(1, 2, dtype=torch.bool)).sum().backward()
    assert b.mix_factor.grad == 0
    b.mix_factor.grad = None
    b(torch.zeros(2, 3), torch.ones(2, 3)).sum().backward()
    assert b.mix_factor.grad != 0


def test_bad_inputs():
    b = AlphaBlender()
    with pytest.raises(ValueError, match="temporal: expected the shape"):
        b(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="image_only_indicator: expected"):
        b(torch.zeros(6, 3), torch.zeros(6, 3), torch.zeros(2, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="spatial"):
        b([0.0], torch.zeros(1))
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="alpha"):
            AlphaBlender(bad)


# --- temporal conv and attention blocks ---------------------------------------------------------------------------
from diffusers.models.attention_processor import Attention
from torch import nn

from videoldm_ref.temporal import (TemporalAttention, TemporalAttentionBlock, TemporalConvBlock, check_frames,
                                   window_mask)


def test_check_frames_names_the_argument():
    assert check_frames(torch.zeros(6, 2, 3, 3), 3) == (2, 3)
    with pytest.raises(ValueError, match="num_frames"):
        check_frames(torch.zeros(7, 2, 3, 3), 3)
    with pytest.raises(ValueError, match="x"):
        check_frames(torch.zeros(6, 2, 3), 3)


def _change_from_one_pixel(block, videos, size, frame, pixel):
    """Randomise `block` (a fresh one must be the identity), drop its GroupNorms (whose clip-wide statistics reach
    everywhere), nudge one pixel of `frame` (a row of the (B*6, 8, size, size) input) and return where the output moved:
    `(B*6, size, size)`."""
    torch.manual_seed(0)
    x, temb = torch.randn(videos * 6, 8, size, size), torch.randn(videos * 6, 16)
    assert torch.equal(block(x, 6, temb), x)
    for p in block.parameters():
        nn.init.normal_(p, std=0.2)
    block.norm1, block.norm2 = nn.Identity(), nn.Identity()
    x2 = x.clone()
    x2[(frame, slice(None), *pixel)] += 1
    return (block(x2, 6, temb) - block(x, 6, temb)).abs().amax(1)


def test_conv_block_starts_as_identity_and_mixes_only_neighbouring_frames():
    d = _change_from_one_pixel(TemporalConvBlock(8, 16, groups=4), 3, 5, 6 + 3, (2, 2))   # video 1, frame 3
    # the receptive field is exactly +-2 frames at the same pixel
    assert d[6 + 1:6 + 6, 2, 2].min() > 0 and d[6 + 0, 2, 2] == 0
    d[6 + 1:6 + 6, 2, 2] = 0
    assert d.max() == 0                                                 # nothing else moved


def test_spatial_kernel_reaches_exactly_its_neighbours_in_the_neighbouring_frames():
    d = _change_from_one_pixel(TemporalConvBlock(8, 16, groups=4, spatial_kernel=3), 2, 9, 3, (4, 4))  # video 0
    # two (3, 3, 3) convolutions: +-2 frames and +-2 pixels, nothing beyond, the other video untouched
    assert d[1:6, 2:7, 2:7].min() > 0
    d[1:6, 2:7, 2:7] = 0
    assert d.max() == 0


def test_conv_block_context_is_per_video_and_starts_at_zero():
    torch.manual_seed(0)
    block = TemporalConvBlock(8, 16, groups=4, context_dim=6)
    x, temb, ctx = torch.randn(2 * 4, 8, 3, 3), torch.randn(2 * 4, 16), torch.randn(2, 5, 6)
    assert torch.equal(block(x, 4, temb, ctx), x)                       # zero-initialised: the identity
    nn.init.normal_(block.conv2.weight, std=0.1)
    nn.init.normal_(block.context_proj.weight, std=0.5)
    ctx2 = ctx.clone()
    ctx2[1] += 1                                                        # change the second video's caption only
    d = (block(x, 4, temb, ctx2) - block(x, 4, temb, ctx)).abs().flatten(1).amax(1)
    assert d[:4].max() == 0 and d[4:].min() > 1e-3
    with pytest.raises(ValueError, match="context: expected"):
        block(x, 4, temb)
    with pytest.raises(ValueError, match="context: expected"):
        block(x, 4, temb, ctx[:1])


def test_conv_block_bad_inputs():
    block = TemporalConvBlock(8, 16, groups=4)
    with pytest.raises(ValueError, match="temb"):
        block(torch.randn(4, 8, 2, 2), 2)
    with pytest.raises(ValueError, match="groups"):
        TemporalConvBlock(10, groups=4)
    for k in (0, 2, 9):
        with pytest.raises(ValueError, match="spatial_kernel"):
            TemporalConvBlock(8, groups=4, spatial_kernel=k)
    assert torch.equal(TemporalConvBlock(8, groups=4)(torch.ones(4, 8, 2, 2), 2), torch.ones(4, 8, 2, 2))


@pytest.mark.parametrize("context", [False, True])
def test_attention_matches_diffusers_and_chunking_changes_nothing(context):
    torch.manual_seed(0)
    ours = TemporalAttention(32, 24 if context else None, head_dim=8, max_rows=4)
    ref = Attention(32, 24 if context else None, heads=4, dim_head=8)
    ref.load_state_dict({k.replace("to_out.", "to_out.0."): v for k, v in ours.state_dict().items()})
    x, ctx = torch.randn(11, 6, 32), (torch.randn(11, 5, 24) if context else None)
    with torch.no_grad():
        out = ours(x, ctx)
        assert (out - ref(x, ctx)).abs().max() < 1e-5
        ours.max_rows = 65_536
        assert torch.allclose(out, ours(x, ctx), atol=1e-6)


def test_window_mask_is_banded():
    m = window_mask(5, 1)
    assert m.tolist() == [[abs(i - j) <= 1 for j in range(5)] for i in range(5)]
    assert window_mask(5, None) is None and window_mask(5, 4) is None and window_mask(5, 9) is None   # nothing masked
    assert window_mask(5, 3).sum() == 23
    with pytest.raises(ValueError, match="window"):
        window_mask(5, 0)


def test_attention_block_identity_windows_and_videos_independent():
    torch.manual_seed(0)
    block = TemporalAttentionBlock(16, 12, head_dim=8, window=2, max_rows=5)
    x, ctx = torch.randn(2 * 7, 16, 3, 2), torch.randn(2, 4, 12)
    assert torch.equal(block(x, 7, ctx), x)
    nn.init.normal_(block.proj_out.weight, std=0.2)
    x2 = x.clone()
    x2[0] += 1                                                          # video 0, frame 0
    changed = (block(x2, 7, ctx) - block(x, 7, ctx)).flatten(1).abs().amax(1)
    assert changed[:3].min() > 0 and changed[3:].max() == 0             # window 2: frames 0-2 only
    ctx2 = ctx.clone()
    ctx2[1] += 1                                                        # video 1's caption
    changed = (block(x, 7, ctx2) - block(x, 7, ctx)).flatten(1).abs().amax(1)
    assert changed[:7].max() == 0 and changed[7:].min() > 0


def test_spatial_position_tells_pixels_apart_and_nothing_else_changes():
    torch.manual_seed(0)
    plain = TemporalAttentionBlock(16, 12, head_dim=8)
    placed = TemporalAttentionBlock(16, 12, head_dim=8, spatial_position=True)
    placed.load_state_dict(plain.state_dict(), strict=False)            # the same weights, plus xy_embed
    x, ctx = torch.randn(2 * 5, 16, 1, 1).expand(-1, -1, 4, 6).contiguous(), torch.randn(2, 3, 12)
    assert torch.equal(placed(x, 5, ctx), x)                            # zero-initialised: the identity
    nn.init.normal_(plain.proj_out.weight, std=0.2)
    placed.proj_out.weight.data.copy_(plain.proj_out.weight)
    flat, where = plain(x, 5, ctx), placed(x, 5, ctx)
    # every pixel holds the same input: without positions every pixel gives the same output, with them they differ
    assert (flat - flat[..., :1, :1]).abs().max() < 1e-5 and (where - where[..., :1, :1]).abs().amax() > 1e-3
    with torch.no_grad():
        placed.xy_embed[-1].weight.zero_(); placed.xy_embed[-1].bias.zero_()
    assert torch.allclose(placed(x, 5, ctx), flat, atol=1e-6)


def test_attention_block_bad_context():
    block = TemporalAttentionBlock(16, 12, head_dim=8)
    x = torch.randn(2 * 3, 16, 2, 2)
    for bad in (None, torch.randn(3, 4, 12), torch.randn(2, 12)):
        with pytest.raises(ValueError, match="context"):
            block(x, 3, bad)
    assert torch.equal(TemporalAttentionBlock(16, head_dim=8)(x, 3), x)  # no cross-attention, no context needed


def test_frame_norm_makes_the_conv_block_exactly_local():
    torch.manual_seed(0)
    block = TemporalConvBlock(8, groups=4, frame_norm=True)
    nn.init.normal_(block.conv2.weight, std=0.2)
    x = torch.randn(9, 8, 4, 4)
    x2 = x.clone()
    x2[0] += 1
    d = (block(x2, 9) - block(x, 9)).flatten(1).abs().amax(1)
    assert d[:3].min() > 0 and d[3:].max() == 0                         # two kernel-3 convolutions: 2 frames away
    clip_norm = TemporalConvBlock(8, groups=4)
    clip_norm.load_state_dict(block.state_dict())
    assert (clip_norm(x2, 9) - clip_norm(x, 9)).flatten(1).abs().amax(1)[3:].max() > 0   # clip statistics: global


# ---- where the frames are: absolute, relative, rotary, none
from videoldm_ref.temporal import POSITIONS, RelativePositionBias, rotary_angles, rotate


def test_rotary_is_complex_rotation_and_keeps_norms():
    x = torch.randn(3, 2, 7, 16, dtype=torch.float64)
    cos, sin = rotary_angles(7, 16, base=100.0)
    turned = rotate(x, cos.double(), sin.double())
    ref = torch.view_as_complex(torch.stack(x.chunk(2, -1), -1).contiguous()) * torch.exp(
        1j * torch.arange(7.0, dtype=torch.float64)[:, None] * 100.0 ** (-torch.arange(0, 16, 2) / 16))
    assert torch.allclose(torch.cat([ref.real, ref.imag], -1), turned, atol=1e-12)
    assert torch.allclose(turned.norm(dim=-1), x.norm(dim=-1))


def test_rotary_logits_depend_on_distance_only():
    q, k = torch.randn(4, 12, 8, dtype=torch.float64), torch.randn(4, 12, 8, dtype=torch.float64)
    cos, sin = (a.double() for a in rotary_angles(12, 8))
    logits = lambda qs, ks: (rotate(q[:, :1], cos[qs:qs + 1], sin[qs:qs + 1])
                             @ rotate(k[:, :1], cos[ks:ks + 1], sin[ks:ks + 1]).transpose(1, 2))
    for i, j in [(0, 3), (2, 9), (7, 1)]:                              # the same pair of vectors at i, j and shifted
        for s in (1, 2):
            assert torch.allclose(logits(i, j), logits(i + s, j + s), atol=1e-10)
    assert not torch.allclose(logits(0, 3), logits(0, 4), atol=1e-3)   # but the distance matters


def test_relative_bias_is_toeplitz_zero_at_start_and_a_function_of_distance():
    bias = RelativePositionBias(heads=3, hidden=8)
    assert bias(5).shape == (3, 5, 5) and bias(5).abs().max() == 0
    torch.nn.init.normal_(bias.mlp[-1].weight)
    b = bias(9)
    for d in range(-8, 9):
        diag = torch.diagonal(b, offset=d, dim1=1, dim2=2)             # key - query = d
        assert torch.allclose(diag, diag[:, :1].expand_as(diag))
    x = torch.tensor([[3.0]]).sign() * torch.tensor([[3.0]]).abs().log1p()
    assert torch.allclose(b[:, 0, 3], bias.mlp(x)[0])
    assert bias.to(torch.bfloat16)(4).dtype == torch.bfloat16            # a model cast to bf16 without autocast


@pytest.mark.parametrize("position", POSITIONS)
def test_each_position_starts_as_identity_and_relative_ones_run_convolutionally(position):
    torch.manual_seed(0)
    block = TemporalAttentionBlock(16, context_dim=6, head_dim=8, window=2, position=position)
    x, ctx = torch.randn(20, 16, 2, 2), torch.randn(1, 3, 6)
    assert torch.equal(block(x, 20, ctx), x)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.3)
    out = block(x, 20, ctx)
    for f in (4, 9, 17):                                               # frame f against the 5 frames around it
        crop = block(x[f - 2:f + 3], 5, ctx)[2]
        assert torch.allclose(out[f], crop, atol=1e-5) == (position != "absolute")
    block.window = None                                                # without a window, order matters
    out = block(x, 20, ctx)                                            # with any positions but none
    swapped = block(x[[1, 0, *range(2, 20)]], 20, ctx)
    if position == "none":
        assert torch.allclose(swapped[0], out[1], atol=1e-5)
    else:
        assert not torch.allclose(swapped[0], out[1], atol=1e-3)


def test_position_bad_inputs():
    with pytest.raises(ValueError, match="position"):
        TemporalAttentionBlock(16, position="learned")
    with pytest.raises(ValueError, match="head_dim"):
        TemporalAttentionBlock(12, head_dim=3, position="rotary")       # 4 heads of 3 channels
    with pytest.raises(ValueError, match="dim"):
        rotary_angles(4, 5)
    with pytest.raises(ValueError, match="num_frames"):
        RelativePositionBias(2)(0)


# ---- frames placed in time: the stride
from videoldm_ref.temporal import check_stride, frame_times


def test_frame_times_closed_form_and_what_reads_them():
    assert torch.equal(frame_times(5, 0.25), torch.arange(5.0) * 0.25)
    assert torch.equal(frame_times(3, torch.tensor([1.0, 2.0])), torch.tensor([[0.0, 1, 2], [0, 2, 4]]))
    cos, sin = rotary_angles(9, 8, stride=0.5)                         # every other frame: the frames of stride 1
    assert torch.allclose(cos[::2], rotary_angles(5, 8)[0]) and torch.allclose(sin[::2], rotary_angles(5, 8)[1])
    assert rotary_angles(4, 8, stride=torch.tensor([1.0, 3.0]))[0].shape == (2, 4, 4)
    bias = RelativePositionBias(heads=2)
    torch.nn.init.normal_(bias.mlp[-1].weight)
    assert torch.allclose(bias(9, stride=0.5)[:, ::2, ::2], bias(5))
    per_video = bias(4, stride=torch.tensor([1.0, 0.5]))
    assert per_video.shape == (2, 2, 4, 4) and torch.equal(per_video[1], bias(4, stride=0.5))


@pytest.mark.parametrize("position", ["absolute", "relative", "rotary"])
def test_one_stride_per_video_is_each_video_alone_and_chunking_changes_nothing(position):
    torch.manual_seed(0)
    block = TemporalAttentionBlock(16, context_dim=6, head_dim=8, window=2, position=position)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x, ctx, strides = torch.randn(3 * 5, 16, 2, 2), torch.randn(3, 2, 6), torch.tensor([1.0, 0.3, 2.0])
    both = block(x, 5, ctx, stride=strides)
    alone = torch.cat([block(x[5 * i:5 * i + 5], 5, ctx[i:i + 1], stride=float(s)) for i, s in enumerate(strides)])
    assert torch.allclose(both, alone, atol=1e-5)
    assert torch.equal(block(x, 5, ctx, stride=1.0), block(x, 5, ctx))   # stride 1: the block as it was
    assert not torch.allclose(block(x, 5, ctx, stride=0.3), block(x, 5, ctx), atol=1e-4)
    block.attn.max_rows = 5                                            # rows in chunks: per-row masks sliced with them
    assert torch.allclose(block(x, 5, ctx, stride=strides), both, atol=1e-5)


def test_stride_bad_inputs():
    x = torch.randn(2 * 4, 16, 2, 2)
    block = TemporalAttentionBlock(16, head_dim=8, position="relative")
    for bad in (0.0, -1.0, float("nan"), float("inf"), torch.tensor([1.0, 0.0])):
        with pytest.raises(ValueError, match="stride"):
            block(x, 4, stride=bad)
    with pytest.raises(ValueError, match="stride"):
        block(x, 4, stride=torch.ones(3))                              # 3 strides for 2 videos
    with pytest.raises(TypeError, match="stride"):
        block(x, 4, stride="fast")
    with pytest.raises(TypeError, match="stride"):
        check_stride(True, 2)
    assert check_stride([1.0, 0.5], 2).tolist() == [1.0, 0.5]           # one per video, as a list
    with pytest.raises(TypeError, match="stride"):
        check_stride([True, 1.0], 2)
    with pytest.raises(ValueError, match="stride"):
        TemporalAttentionBlock(16, head_dim=8, position="none")(x, 4, stride=0.5)
    with pytest.raises(ValueError, match="stride"):
        frame_times(3, torch.ones(2, 2))
