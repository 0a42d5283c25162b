"""Variable-length batches for the recurrent layers, as ``torch.nn.utils.rnn``.

A batch of sequences of lengths ``L_0 ≥ L_1 ≥ … ≥ L_{B-1}`` is *packed* by laying its valid time steps
out time-major: step 0 of every sequence, then step 1 of every sequence still running, and so on.
``batch_sizes[t] = #{b : L_b > t}`` says how many rows belong to step ``t``; since the lengths are sorted,
those rows are always the first ``batch_sizes[t]`` sequences, so a recurrent layer can run step ``t`` on a
prefix of its batch and never touches padding. Unsorted batches are sorted first; ``sorted_indices`` records
the permutation and ``unsorted_indices`` its inverse.

Packing and padding are both single gathers (advanced indexing) built from ``cat``, so autograd carries
gradients between padded tensors, packed data and the original sequences; padding positions get none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from groundup.creation import full, tensor
from groundup.functions.movement import cat, stack
from groundup.tensor import Tensor


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """A packed batch: ``data`` ``(sum(lengths), *)`` holds the valid steps time-major, ``batch_sizes``
    (int64, one entry per time step) how many sequences each step has, ``sorted_indices`` the order in
    which the original batch was sorted by decreasing length (None if it already was) and
    ``unsorted_indices`` its inverse. Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0..n-1`` (``inv[perm[i]] = i``), or None for None."""
    if permutation is None:
        return None
    perm = np.asarray(permutation.numpy(), dtype=np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=np.int64)
    return tensor(inv)


def _lengths(lengths: Any, op: str) -> np.ndarray:
    """``lengths`` (a 1-D Tensor or a sequence of ints) as an int64 NumPy array."""
    arr = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{op}: lengths must be a 1-D sequence of ints, got {arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


def pad_sequence(
    sequences: Sequence[Tensor] | Tensor,
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` into one ``(max L, B, *)`` tensor (``(B, max L, *)`` if ``batch_first``),
    filling the missing steps with ``padding_value`` after (``padding_side="right"``) or before ("left")
    each sequence. The trailing dimensions ``*`` must agree."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for i, s in enumerate(seqs):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequences[{i}] must be a Tensor, got {type(s).__name__}")
        if s.ndim == 0 or tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]):
            raise ValueError(
                f"pad_sequence: every sequence must be (L_i, *) with the same trailing shape; sequences[0] has "
                f"shape {tuple(seqs[0].shape)} and sequences[{i}] has shape {tuple(s.shape)}"
            )
    max_len = max(s.shape[0] for s in seqs)
    rest = tuple(seqs[0].shape[1:])
    padded = []
    for s in seqs:
        fill = full((max_len - s.shape[0], *rest), padding_value, dtype=s.dtype)  # (max L - L_i, *)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s], 0))  # (max L, *)
    return stack(padded, 0 if batch_first else 1)  # (B, max L, *) or (max L, B, *)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """The inverse of :func:`pad_sequence` (right padding): the list of ``padded[:L_i]`` per sequence."""
    lens = _lengths(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)  # (B, T, *)
    if lens.size != padded_sequences.shape[0]:
        raise ValueError(
            f"unpad_sequence: got {lens.size} lengths for a batch of {padded_sequences.shape[0]} sequences"
        )
    return [padded_sequences[i, : int(n)] for i, n in enumerate(lens)]  # (L_i, *) each


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` if ``batch_first``) whose sequence ``b`` has
    ``lengths[b]`` valid steps. With ``enforce_sorted`` the lengths must be non-increasing; otherwise the
    batch is sorted by decreasing length first and the permutation kept in the result."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be at least 2-D (T, B, *), got shape {tuple(input.shape)}")
    lens = _lengths(lengths, "pack_padded_sequence")
    batch_dim = 0 if batch_first else 1
    B, T = input.shape[batch_dim], input.shape[1 - batch_dim]
    if lens.size != B:
        raise ValueError(
            "pack_padded_sequence: expected `len(lengths)` to be equal to batch_size, but got "
            f"{lens.size} (batch_size={B})"
        )
    if B == 0 or lens.min() <= 0:
        raise ValueError(
            "pack_padded_sequence: length of all samples has to be greater than 0, but found an element in "
            f"'lengths' that is <= 0 (lengths={lens.tolist()})"
        )
    if lens.max() > T:
        raise ValueError(f"pack_padded_sequence: lengths ({lens.tolist()}) exceed the input's {T} time steps")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(
                f"pack_padded_sequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` "
                f"is True (got {lens.tolist()}); sort the batch or pass enforce_sorted=False"
            )
        order, sorted_indices = np.arange(B), None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = tensor(order.astype(np.int64))
    sorted_lens = lens[order]
    batch_sizes = (sorted_lens[None, :] > np.arange(sorted_lens[0])[:, None]).sum(1)  # (max L,)
    t_idx = np.concatenate([np.full(n, t) for t, n in enumerate(batch_sizes)])  # step of each packed row
    b_idx = np.concatenate([order[:n] for n in batch_sizes])  # its sequence in the original batch
    key = (b_idx, t_idx) if batch_first else (t_idx, b_idx)
    data = input[tensor(key[0]), tensor(key[1])]  # (sum L, *)
    return PackedSequence(data, tensor(batch_sizes.astype(np.int64)), sorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)`` with ``padded`` ``(T, B, *)``
    (``(B, T, *)`` if ``batch_first``) in the original batch order, ``T`` the longest length or
    ``total_length``, missing steps set to ``padding_value``, and ``lengths`` int64 ``(B,)``."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: sequence must be a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    bs = np.asarray(sequence.batch_sizes.numpy(), dtype=np.int64)
    max_len, B, N = bs.size, int(bs[0]), data.shape[0]
    T = max_len
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "pad_packed_sequence: expected total_length to be at least the length of the longest sequence "
                f"in input, but got total_length={total_length} and max sequence length being {max_len}"
            )
        T = total_length
    unsorted = np.arange(B) if sequence.unsorted_indices is None else sequence.unsorted_indices.numpy()
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]])  # first packed row of each step
    rows = np.arange(B)[None, :]  # sorted position of each sequence
    src = np.where(rows < bs[:, None], offsets[:, None] + rows, N)  # (max L, B): packed row, N = padding
    src = np.concatenate([src, np.full((T - max_len, B), N)])[:, unsorted]  # (T, B) in the original order
    fill = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)  # (1, *)
    padded = cat([data, fill], 0)[tensor(src.T if batch_first else src)]  # (T, B, *) or (B, T, *)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1)[unsorted]  # (B,) original order
    return padded, tensor(lengths.astype(np.int64))


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` directly (pad, then :func:`pack_padded_sequence`)."""
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim > 0 else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of :func:`pack_sequence`: the list of sequences ``(L_i, *)`` in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pad_sequence",
    "unpad_sequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "unpack_sequence",
]
