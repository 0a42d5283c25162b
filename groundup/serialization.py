"""Saving and loading tensors as safetensors files: no pickle, atomic writes, checked reads.

The safetensors format is an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian bytes. It cannot run code when
loaded, and PyTorch/Hugging Face tools read it, so a ``state_dict`` saved here loads into PyTorch by
name (and the other way round).

``save_file``/``load_file`` handle a flat ``{name: tensor}`` dict, like ``safetensors.numpy``.
``save``/``load`` handle a whole nested structure (a checkpoint with a model ``state_dict``, an
optimizer's state, an epoch counter, RNG state …): tensors go into the tensor section under their
path, and everything else is kept as JSON in the header's ``__metadata__``. Every write goes to a
temporary file in the same folder, is flushed to disk, then renamed over the target, so an
interrupted save never leaves a partial file behind.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from groundup.tensor import Tensor

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024
_META_KEY = "groundup"


class SafetensorsError(ValueError):
    """A file is not a valid safetensors file (truncated, corrupt, or of an unsupported dtype)."""


def _as_array(name: str, value: Any) -> np.ndarray:
    arr = value.data if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"save_file: value for {name!r} must be a Tensor or NumPy array, got {type(value).__name__}")
    if arr.dtype not in _CODES:
        raise TypeError(f"save_file: {name!r} has dtype {arr.dtype}, which safetensors cannot store here")
    return arr


def _atomic_write(path: str | os.PathLike, chunks: list[bytes | memoryview]) -> None:
    """Write ``chunks`` to ``path`` via a temp file + fsync + rename: all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_file(tensors: dict[str, Any], filename: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write ``{name: tensor}`` to ``filename`` in safetensors format, atomically."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file: expected a dict of name -> tensor, got {type(tensors).__name__}")
    header: dict[str, Any] = {}
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_file: metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    arrays, offset = [], 0
    for name in sorted(tensors):
        if not isinstance(name, str) or name == "__metadata__":
            raise TypeError(f"save_file: tensor names must be strings other than '__metadata__', got {name!r}")
        arr = _as_array(name, tensors[name])
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
            arr = arr.copy(order="C")
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        header[name] = {"dtype": _CODES[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # pad so the data section starts 8-byte aligned
    chunks: list[bytes | memoryview] = [struct.pack("<Q", len(head)), head]
    chunks += [memoryview(a).cast("B") if a.size else b"" for a in arrays]
    _atomic_write(filename, chunks)


def _read_header(buf: bytes | memoryview, filename: Any) -> tuple[dict, int]:
    if len(buf) < 8:
        raise SafetensorsError(f"load_file: {filename}: file is too short to be safetensors ({len(buf)} bytes)")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise SafetensorsError(
            f"load_file: {filename}: header length {n} exceeds the file size {len(buf)} (truncated or corrupt)"
        )
    try:
        header = json.loads(bytes(buf[8 : 8 + n]))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"load_file: {filename}: header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"load_file: {filename}: header must be a JSON object")
    return header, 8 + n


def load_file(filename: str | os.PathLike) -> dict[str, Tensor]:
    """Read a safetensors file into ``{name: Tensor}``; any inconsistency raises SafetensorsError."""
    tensors, _ = _load(filename)
    return tensors


def _load(filename: str | os.PathLike) -> tuple[dict[str, Tensor], dict[str, str]]:
    with open(filename, "rb") as f:
        buf = f.read()
    header, start = _read_header(buf, filename)
    metadata = header.pop("__metadata__", None) or {}
    data_len = len(buf) - start
    out: dict[str, Tensor] = {}
    spans = []
    for name, info in header.items():
        try:
            code, shape, (lo, hi) = info["dtype"], [int(s) for s in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"load_file: {filename}: malformed entry for tensor {name!r}: {info!r}") from None
        if code not in _DTYPES:
            raise SafetensorsError(f"load_file: {filename}: tensor {name!r} has unsupported dtype {code!r}")
        dt = np.dtype(_DTYPES[code]).newbyteorder("<")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (0 <= lo <= hi <= data_len) or hi - lo != count * dt.itemsize or any(s < 0 for s in shape):
            raise SafetensorsError(
                f"load_file: {filename}: tensor {name!r} (dtype {code}, shape {shape}) has byte range "
                f"[{lo}, {hi}) that does not fit its size or the {data_len}-byte data section "
                "(truncated or corrupt file)"
            )
        spans.append((lo, hi, name))
        arr = np.frombuffer(buf, dtype=dt, count=count, offset=start + lo).reshape(tuple(shape))
        out[name] = Tensor._wrap(arr.astype(dt.newbyteorder("="), copy=True))
    spans.sort()
    for (_, a_hi, a), (b_lo, _, b) in zip(spans, spans[1:]):
        if b_lo < a_hi:
            raise SafetensorsError(f"load_file: {filename}: tensors {a!r} and {b!r} overlap")
    return out, metadata


# ------------------------------------------------------------------ nested structures
def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _encode(obj: Any, path: str, tensors: dict[str, Any]) -> Any:
    """JSON-able form of ``obj`` with tensors moved into ``tensors`` under their path."""
    if isinstance(obj, (Tensor, np.ndarray)):
        path = path or "tensor"
        if path in tensors:
            raise ValueError(f"save: two entries map to the same tensor name {path!r}; rename a key")
        tensors[path] = obj
        return {"__tensor__": path}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), path, tensors)
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, _join(path, i), tensors) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"__dict__": {k: _encode(v, _join(path, k), tensors) for k, v in obj.items()}}
        pairs = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, bool)) and k is not None:
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__} at {path!r}")
            pairs.append([k, _encode(v, _join(path, k), tensors)])
        return {"__items__": pairs}
    raise TypeError(
        f"save: cannot store {type(obj).__name__} at {path or 'the top level'!r}; only tensors, arrays, "
        "numbers, strings, None and lists/tuples/dicts of them can be saved (no pickle)"
    )


def _decode(obj: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, tensors) for v in obj["__tuple__"])
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__dict__" in obj:
            return {k: _decode(v, tensors) for k, v in obj["__dict__"].items()}
        if "__items__" in obj:
            return {k: _decode(v, tensors) for k, v in obj["__items__"]}
        raise SafetensorsError(f"load: unrecognised entry in the saved structure: {sorted(obj)}")
    return obj


def save(obj: Any, f: str | os.PathLike) -> None:
    """Save a nested structure of tensors, numbers, strings, lists and dicts (like ``torch.save``,
    but as a safetensors file: no pickle, atomic). A plain ``{name: tensor}`` dict such as a
    ``state_dict`` is stored with its names as the tensor keys, so other safetensors readers and
    PyTorch can load it by name.
    """
    tensors: dict[str, Any] = {}
    if isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items()):
        structure: Any = {"__dict__": {k: {"__tensor__": k} for k in obj}}
        tensors = dict(obj)
    else:
        structure = _encode(obj, "", tensors)
    save_file(tensors, f, metadata={_META_KEY: json.dumps(structure)})


def load(f: str | os.PathLike) -> Any:
    """Load what :func:`save` wrote; a safetensors file from elsewhere loads as ``{name: Tensor}``."""
    tensors, metadata = _load(f)
    if _META_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[_META_KEY])
    except json.JSONDecodeError as e:
        raise SafetensorsError(f"load: {f}: the saved structure is not valid JSON ({e})") from None
    try:
        return _decode(structure, tensors)
    except KeyError as e:
        raise SafetensorsError(f"load: {f}: the structure refers to a missing tensor {e}") from None
