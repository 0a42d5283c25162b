"""safetensors files: round trips, compatibility with the reference implementation, corrupt files,
atomic writes, and nested checkpoint structures."""

import os
import struct

import numpy as np
import pytest

import groundup as gu
from groundup.serialization import SafetensorsError, load_file, save_file


def _sample():
    rng = np.random.default_rng(0)
    return {
        "w": gu.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        "b64": gu.tensor(rng.standard_normal(5)),
        "idx": gu.tensor([1, 2, 3]),
        "mask": gu.tensor([True, False]),
        "half": gu.tensor([1.5, -2.0], dtype=gu.float16),
        "scalar": gu.tensor(3.0),
        "empty": gu.zeros(0, 2),
        "u8": gu.tensor(np.arange(6, dtype=np.uint8).reshape(2, 3)),
    }


def test_roundtrip_preserves_dtype_shape_values(tmp_path):
    t = _sample()
    save_file(t, tmp_path / "a.safetensors", metadata={"k": "v"})
    back = load_file(tmp_path / "a.safetensors")
    assert set(back) == set(t)
    for k in t:
        assert back[k].dtype is t[k].dtype and back[k].shape == t[k].shape
        np.testing.assert_array_equal(back[k].numpy(), t[k].numpy())


def test_non_contiguous_input_is_saved_correctly(tmp_path):
    x = gu.arange(12.0).reshape(3, 4).T
    save_file({"x": x}, tmp_path / "x.safetensors")
    np.testing.assert_array_equal(load_file(tmp_path / "x.safetensors")["x"].numpy(), x.numpy())


def test_files_interoperate_with_reference_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    t = {k: v for k, v in _sample().items()}
    save_file(t, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    for k in t:
        np.testing.assert_array_equal(theirs[k], t[k].numpy())
    st.save_file({k: v.numpy() for k, v in t.items()}, str(tmp_path / "theirs.safetensors"))
    ours = load_file(tmp_path / "theirs.safetensors")
    for k in t:
        np.testing.assert_array_equal(ours[k].numpy(), t[k].numpy())


def test_torch_loads_a_groundup_state_dict_by_name(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    sd = {"weight": gu.randn(2, 3), "bias": gu.randn(2)}
    gu.save(sd, tmp_path / "m.safetensors")
    lin = torch.nn.Linear(3, 2)
    lin.load_state_dict(st.load_file(str(tmp_path / "m.safetensors")))
    np.testing.assert_array_equal(lin.weight.detach().numpy(), sd["weight"].numpy())


@pytest.mark.parametrize("damage", ["truncate_data", "truncate_header", "short", "bad_json", "bad_offsets", "bad_dtype"])
def test_corrupt_files_raise_clear_errors(tmp_path, damage):
    path = tmp_path / "f.safetensors"
    save_file({"a": gu.ones(4, 4), "b": gu.zeros(3)}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = raw[8 : 8 + n]
    if damage == "truncate_data":
        raw = raw[:-10]
    elif damage == "truncate_header":
        raw = raw[: 8 + n // 2]
    elif damage == "short":
        raw = raw[:5]
    elif damage == "bad_json":
        raw = raw[:8] + b"[" + header[1:] + raw[8 + n :]
    elif damage == "bad_offsets":
        raw = raw[:8] + header.replace(b"[0,64]", b"[0,60]") + raw[8 + n :]
    elif damage == "bad_dtype":
        raw = raw[:8] + header.replace(b'"F32"', b'"X32"', 1) + raw[8 + n :]
    path.write_bytes(raw)
    with pytest.raises(SafetensorsError, match="load_file: .*f.safetensors"):
        load_file(path)


def test_interrupted_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save_file({"a": gu.ones(2)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_file({"a": gu.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_nested_checkpoint_structure_roundtrip(tmp_path):
    gu.manual_seed(3)
    ckpt = {
        "model": {"0.weight": gu.randn(2, 2), "0.bias": gu.zeros(2)},
        "optimizer": {"state": {0: {"step": gu.tensor(5.0), "exp_avg": gu.ones(2, 2)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}]},
        "epoch": 7,
        "rng": gu.get_rng_state(),
        "history": [1.5, float("inf"), None, "text"],
        "array": np.arange(3),
    }
    gu.save(ckpt, tmp_path / "c.safetensors")
    back = gu.load(tmp_path / "c.safetensors")
    assert back["epoch"] == 7 and back["history"][1] == float("inf") and back["history"][2:] == [None, "text"]
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(back["optimizer"]["state"]) == [0]
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["exp_avg"].numpy(), np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(back["model"]["0.weight"].numpy(), ckpt["model"]["0.weight"].numpy())
    np.testing.assert_array_equal(back["array"].numpy(), np.arange(3))
    gu.set_rng_state(back["rng"])
    a = gu.randn(3).numpy()
    gu.set_rng_state(ckpt["rng"])
    np.testing.assert_array_equal(a, gu.randn(3).numpy())


def test_save_refuses_objects_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match="cannot store object"):
        gu.save({"x": object()}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    save_file({"a": gu.ones(2)}, tmp_path / "plain.safetensors")
    out = gu.load(tmp_path / "plain.safetensors")
    assert list(out) == ["a"]
