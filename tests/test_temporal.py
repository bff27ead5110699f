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
