"""The IDX file format (MNIST, Fashion-MNIST, EMNIST …): read and write n-dimensional arrays.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the values,
big-endian, row-major::

    byte 0-1   0x00 0x00
    byte 2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte 3     number of dimensions d
    then       d sizes (uint32, big-endian), then prod(sizes) values

MNIST's ``train-images-idx3-ubyte`` is a uint8 array of shape (60000, 28, 28); its labels file is
uint8 of shape (60000,). Files are usually distributed gzipped; :func:`read_idx` recognises gzip by
its magic bytes, whatever the file is called.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

# type code → big-endian NumPy dtype, and back
_CODES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPES = {np.dtype(dt.newbyteorder("=")): code for code, dt in _CODES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"read_idx: {path} looks gzipped but could not be decompressed ({e}); is it truncated?") from None
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a native-endian array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{name}: not an IDX file (the first two bytes must be 0x00 0x00, got {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _CODES:
        raise ValueError(f"{name}: unknown IDX element type 0x{code:02X} (expected one of {[hex(c) for c in _CODES]})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: IDX header claims {ndim} dimensions but the file is only {len(raw)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _CODES[code]
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    expected = header + count * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{name}: IDX header says shape {shape} of {dtype.newbyteorder('=')} ({expected} bytes in all), "
            f"but the file has {len(raw)} bytes; it is truncated or not what its name says"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable, native-endian copy


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a NumPy array of its type and shape."""
    return parse_idx(_read_bytes(path), name=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes (uncompressed) for ``array``."""
    array = np.asarray(array)
    code = _TYPES.get(np.dtype(array.dtype).newbyteorder("="))
    if code is None:
        raise TypeError(
            f"write_idx: IDX cannot store {array.dtype}; use uint8, int8, int16, int32, float32 or float64"
        )
    if array.ndim > 255:
        raise ValueError("write_idx: IDX stores at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=_CODES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file; gzipped when ``compress`` (default: when the name ends in ``.gz``)."""
    data = encode_idx(array)
    if compress is None:
        compress = str(path).endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    Path(path).write_bytes(data)
