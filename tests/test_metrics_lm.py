"""Language-model metrics: perplexity, bits per token and the token-weighted LMLoss accumulator,
checked against a plain NumPy loop and PyTorch's cross_entropy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import groundup as gu
from groundup.train import metrics as M


def _nll_loop(logits: np.ndarray, targets: np.ndarray, ignore_index: int = -100) -> float:
    """Mean -log softmax(logits)[target] over the non-ignored tokens, one token at a time in float64."""
    v = logits.shape[-1]
    total, count = 0.0, 0
    for row, t in zip(logits.reshape(-1, v), targets.reshape(-1)):
        if t == ignore_index:
            continue
        probs = [math.exp(float(x)) for x in row]
        total += -math.log(probs[t] / sum(probs))
        count += 1
    return total / count


def _batch(b=3, t=7, v=11, seed=0, ignore_frac=0.2):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(b, t, v)).astype(np.float32)
    targets = rng.integers(0, v, size=(b, t))
    targets[rng.random((b, t)) < ignore_frac] = -100
    return logits, targets


def test_perplexity_and_bits_of_a_uniform_model():
    for v in (2, 27, 256, 50257):
        assert M.perplexity(math.log(v)) == pytest.approx(v, rel=1e-12)
        assert M.bits_per_token(math.log(v)) == pytest.approx(math.log2(v), rel=1e-12)
    assert M.bits_per_char is M.bits_per_token
    assert M.bits_per_char(math.log(2)) == pytest.approx(1.0)


def test_perplexity_accepts_numbers_numpy_scalars_and_0d_tensors():
    want = math.exp(1.7)
    x = gu.tensor(1.7, requires_grad=True)
    for nll in (1.7, np.float32(1.7), np.array(1.7), x, gu.tensor(1.7, dtype=gu.float64)):
        assert M.perplexity(nll) == pytest.approx(want, rel=1e-6)
        assert M.bits_per_token(nll) == pytest.approx(1.7 / math.log(2), rel=1e-6)
    assert M.perplexity(2) == pytest.approx(math.exp(2))


def test_overflow_is_inf_without_a_warning_and_nan_stays_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.perplexity(1e4) == math.inf
        assert M.perplexity(gu.tensor(800.0)) == math.inf  # exp(800) overflows float64
        assert M.perplexity(math.inf) == math.inf and M.bits_per_token(math.inf) == math.inf
        assert math.isnan(M.perplexity(math.nan)) and math.isnan(M.bits_per_token(math.nan))


def test_scalar_metrics_reject_non_scalars():
    with pytest.raises(ValueError, match=r"perplexity: .*0-d tensor, got shape \(3,\); average"):
        M.perplexity(gu.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="bits_per_token: .* got str"):
        M.bits_per_token("2.0")
    with pytest.raises(TypeError, match="got a bool"):
        M.perplexity(True)


def test_lm_loss_matches_a_numpy_loop_over_uneven_batches():
    logits, targets = _batch(b=5, t=9, v=13)
    metric = M.LMLoss()
    for lo, hi in [(0, 1), (1, 4), (4, 5)]:  # uneven batches, with ignored tokens in them
        metric.update(gu.tensor(logits[lo:hi]), gu.tensor(targets[lo:hi]))
    want = _nll_loop(logits, targets)
    got = metric.compute()
    assert got["loss"] == pytest.approx(want, rel=1e-6)
    assert got["perplexity"] == pytest.approx(math.exp(want), rel=1e-6)
    assert got["bpt"] == pytest.approx(want / math.log(2), rel=1e-6)
    assert metric.count == int((targets != -100).sum())


def test_lm_loss_is_token_weighted_not_a_mean_of_batch_means():
    logits, targets = _batch(b=2, t=10, v=5, ignore_frac=0.0)
    targets[1, 2:] = -100  # batch 1 has 2 tokens, batch 0 has 10
    metric = M.LMLoss()
    metric.update(logits[:1], targets[:1])
    metric.update(logits[1:], targets[1:])
    pooled = _nll_loop(logits, targets)
    mean_of_means = (_nll_loop(logits[:1], targets[:1]) + _nll_loop(logits[1:], targets[1:])) / 2
    assert metric.compute()["loss"] == pytest.approx(pooled, rel=1e-6)
    assert abs(pooled - mean_of_means) > 1e-3  # the test would notice batch-mean weighting
    metric.reset()
    assert math.isnan(metric.compute()["loss"]) and metric.count == 0


def test_lm_loss_matches_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    logits, targets = _batch(b=4, t=16, v=30, seed=3)
    metric = M.LMLoss()
    metric.update(logits, targets)
    want = TF.cross_entropy(torch.from_numpy(logits).double().reshape(-1, 30), torch.from_numpy(targets).reshape(-1),
                            ignore_index=-100).item()
    assert metric.compute()["loss"] == pytest.approx(want, rel=1e-9)
    pad = M.LMLoss(ignore_index=0)  # a padding id inside the vocabulary
    pad.update(logits, np.where(targets < 0, 0, targets))
    want = TF.cross_entropy(torch.from_numpy(logits).double().permute(0, 2, 1),
                            torch.from_numpy(np.where(targets < 0, 0, targets)), ignore_index=0).item()
    assert pad.compute()["loss"] == pytest.approx(want, rel=1e-9)


def test_lm_loss_with_infinite_and_nan_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        masked = np.array([[0.5, -np.inf, 1.5, -np.inf]])  # ruled-out tokens (e.g. after top-k)
        metric = M.LMLoss()
        metric.update(masked, np.array([2]))
        assert metric.compute()["loss"] == pytest.approx(_nll_loop(np.array([[0.5, 1.5]]), np.array([1])))
        metric.update(masked, np.array([1]))  # a target the model rules out: infinitely surprised
        assert metric.compute() == {"loss": math.inf, "perplexity": math.inf, "bpt": math.inf}
        nan = M.LMLoss()
        nan.update(np.array([[0.0, np.nan, 1.0]]), np.array([0]))
        assert all(math.isnan(v) for v in nan.compute().values())
        huge = M.LMLoss()  # large finite logits do not overflow (max-subtracted log-sum-exp)
        huge.update(np.array([[1000.0, 999.0]], dtype=np.float32), np.array([1]))
        assert huge.compute()["loss"] == pytest.approx(math.log1p(math.e), rel=1e-6)


def test_lm_loss_rejects_bad_shapes_and_targets():
    metric = M.LMLoss()
    with pytest.raises(ValueError, match=r"LMLoss.update: .*got logits \(2, 3, 5\) and targets \(2, 5\)"):
        metric.update(np.zeros((2, 3, 5)), np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"must lie in \[0, 5\) or equal ignore_index -100, got \[-1, 7\]"):
        metric.update(np.zeros((1, 3, 5)), np.array([[7, -1, 2]]))
    with pytest.raises(TypeError, match="targets must be integer token ids, got dtype float"):
        metric.update(np.zeros((3, 5)), np.zeros(3))
    with pytest.raises(TypeError, match="logits must be floating point"):
        metric.update(np.zeros((3, 5), dtype=np.int64), np.zeros(3, dtype=np.int64))
    assert metric.count == 0  # nothing was counted by the rejected updates
