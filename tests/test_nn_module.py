"""Module behaviour and the containers, checked against PyTorch on the same model built by the same
code (``make_net(gu)`` and ``make_net(torch)``): registration order, names, state_dict keys,
loading (strict, non-strict, mismatches, nothing half-written), modes, dtype casts, hooks, reprs,
and weights moving torch -> groundup -> torch with identical outputs."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
from tests.helpers import rand, requires_torch, torch
from tests.test_nn_layers import copy_from_torch, module_parity

pytestmark = requires_torch


def make_net(lib):
    """The same nested model in either library (the APIs agree, so the code is shared)."""
    L = lib.nn

    class Block(L.Module):
        def __init__(self, d):
            super().__init__()
            self.fc = L.Linear(d, d)
            self.act = L.Tanh()
            self.register_buffer("scale", lib.ones(d) * 0.5)
            self.register_buffer("scratch", lib.zeros(d), persistent=False)

        def forward(self, x):
            return x + self.scale * self.act(self.fc(x))  # residual: x feeds two consumers

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.embed = L.Linear(3, 4)
            self.blocks = L.ModuleList([Block(4) for _ in range(2)])
            self.heads = L.ModuleDict(
                {"a": L.Linear(4, 2), "b": L.Sequential(L.Linear(4, 4), L.ReLU(), L.Linear(4, 1))}
            )
            self.gates = L.ParameterList([L.Parameter(lib.ones(2)), L.Parameter(lib.zeros(1))])
            self.extra = L.ParameterDict({"w": L.Parameter(lib.ones(2, 2)), "b": L.Parameter(lib.zeros(2))})
            self.bil = L.Bilinear(4, 4, 2, bias=False)

        def forward(self, x):
            h = self.embed(x)
            for block in self.blocks:
                h = block(h)
            y = self.heads["a"](h) * self.gates[0] + self.heads["b"](h) + self.gates[1]
            return y + self.bil(h, h) @ self.extra["w"] + self.extra["b"]

    return Net()


def names(pairs):
    return [n for n, _ in pairs]


# ------------------------------------------------------------------------ names and layout
def test_nested_model_names_state_dict_and_repr_match_torch():
    g, t = make_net(gu), make_net(torch)
    assert names(g.named_parameters()) == names(t.named_parameters())
    assert [tuple(p.shape) for p in g.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert names(g.named_buffers()) == names(t.named_buffers())
    assert names(g.named_modules()) == names(t.named_modules())
    assert names(g.named_children()) == names(t.named_children())
    assert [type(m).__name__ for m in g.modules()] == [type(m).__name__ for m in t.modules()]
    gs, ts = g.state_dict(), t.state_dict()
    assert list(gs) == list(ts)  # the non-persistent buffer is left out of both
    assert all(tuple(gs[k].shape) == tuple(ts[k].shape) for k in gs)
    assert repr(g).replace("groundup.", "torch.") == repr(t)


def test_weights_move_torch_to_groundup_to_torch():
    g, t = make_net(gu), make_net(torch)
    copy_from_torch(g, t)
    x = rand(5, 3, seed=1).astype(np.float32)
    np.testing.assert_allclose(g(gu.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    g.blocks[0].fc.weight.data[...] += 1.0  # change groundup's weights, then send them back
    t2 = make_net(torch)
    t2.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in g.state_dict().items()})
    np.testing.assert_allclose(t2(torch.tensor(x)).detach().numpy(), g(gu.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_nested_model_forward_backward_parity_float64():
    module_parity(make_net(gu), make_net(torch), rand(6, 3, seed=2))


def test_shared_modules_and_tied_parameters_appear_once():
    def tied(lib):
        L = lib.nn

        class Tied(L.Module):
            def __init__(self):
                super().__init__()
                self.enc = L.Linear(3, 3)
                self.dec = L.Linear(3, 3)
                self.dec.weight = self.enc.weight  # tied weight
                self.again = self.enc  # the same module under two names

            def forward(self, x):
                return self.dec(self.again(x))

        return Tied()

    g, t = tied(gu), tied(torch)
    assert names(g.named_parameters()) == names(t.named_parameters()) == ["enc.weight", "enc.bias", "dec.bias"]
    assert names(g.named_modules()) == names(t.named_modules())
    assert names(g.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert list(g.state_dict()) == list(t.state_dict())
    assert len(list(g.parameters())) == 3
    module_parity(g, t, rand(4, 3, seed=3))  # the tied weight's gradient sums both uses


# -------------------------------------------------------------------------- load_state_dict
def test_load_state_dict_strict_reports_everything_and_writes_nothing():
    g = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = {k: v.numpy().copy() for k, v in g.state_dict().items()}
    good = {k: v.numpy() + 1.0 for k, v in g.state_dict().items()}
    bad = dict(good)
    del bad["0.bias"]
    bad["extra"] = np.zeros(1)
    bad["2.weight"] = np.zeros((3, 2))
    with pytest.raises(RuntimeError) as e:
        g.load_state_dict(bad)
    msg = str(e.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "0.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for 2.weight: copying a param with shape (3, 2)" in msg and "(1, 3)" in msg
    for k, v in g.state_dict().items():  # 0.weight was valid but must not have been written
        np.testing.assert_array_equal(v.numpy(), before[k])
    del bad["2.weight"]
    t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    gres = g.load_state_dict(bad, strict=False)
    tres = t.load_state_dict({k: torch.tensor(v) for k, v in bad.items()}, strict=False)
    assert gres.missing_keys == tres.missing_keys == ["0.bias", "2.weight"]
    assert gres.unexpected_keys == tres.unexpected_keys == ["extra"]
    assert repr(gres) == repr(tres)
    np.testing.assert_array_equal(g[0].weight.detach().numpy(), good["0.weight"].astype(np.float32))
    np.testing.assert_array_equal(g[0].bias.detach().numpy(), before["0.bias"])
    with pytest.raises(RuntimeError, match="size mismatch"):  # a size mismatch fails even non-strict
        g.load_state_dict({"0.weight": np.zeros((2, 2))}, strict=False)
    full = {k: torch.tensor(v) for k, v in good.items()}
    assert repr(g.load_state_dict(good)) == repr(t.load_state_dict(full)) == "<All keys matched successfully>"


def test_load_state_dict_keeps_dtype_and_bumps_version():
    g = nn.Linear(2, 2)
    v = g.weight._version
    g.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})  # float64 arrays
    assert g.weight.dtype == gu.float32 and g.weight._version == v + 1


# ----------------------------------------------------------------------- modes and dtype
def test_train_eval_propagate_and_to_double():
    g = make_net(gu)
    assert all(m.training for m in g.modules())
    assert g.eval() is g and not any(m.training for m in g.modules())
    g.train()
    assert all(m.training for m in g.modules())
    g.blocks.eval()
    assert g.training and not g.blocks[1].fc.training
    g.double()
    assert all(p.dtype == gu.float64 for p in g.parameters())
    assert all(b.dtype == gu.float64 for b in g.buffers())
    assert g(gu.randn(2, 3, dtype=gu.float64)).dtype == gu.float64
    assert g.to(gu.float32) is g and g.blocks[0].scale.dtype == gu.float32
    with pytest.raises(TypeError, match="floating point"):
        g.to(gu.int64)


def test_zero_grad_requires_grad_and_apply():
    g = make_net(gu)
    g(gu.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in g.parameters())
    g.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in g.parameters())
    g.zero_grad()
    assert all(p.grad is None for p in g.parameters())
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())
    assert not g(gu.randn(2, 3)).requires_grad
    seen_g, seen_t = [], []
    g.apply(lambda m: seen_g.append(type(m).__name__))
    make_net(torch).apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_g == seen_t  # children first, then the parent, in registration order


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, inp: (inp[0] * 0.0,))
    h2 = m.register_forward_hook(lambda mod, inp, out: calls.append(tuple(out.shape)) or out + 1.0)
    y = m(gu.randn(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(m.bias.detach().numpy() + 1.0, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    x = gu.randn(3, 2)
    np.testing.assert_allclose(m(x).detach().numpy(), (x @ m.weight.T + m.bias).detach().numpy(), rtol=1e-6)
    assert calls == [(3, 2)]


def test_module_registration_rules():
    m = nn.Module()
    m.w = nn.Parameter(gu.ones(2))
    m.plain = gu.ones(2)  # a plain tensor attribute is not registered (as in PyTorch)
    m.sub = nn.Linear(2, 2)
    assert names(m.named_parameters()) == ["w", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = gu.ones(2)
    m.w = None
    assert names(m.named_parameters()) == ["sub.weight", "sub.bias"]
    del m.sub
    assert list(m.named_parameters()) == []
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        m.missing  # noqa: B018


# -------------------------------------------------------------------------------- containers
def seq_ops(lib):
    """Apply the same Sequential operations in a library; return the results to compare."""
    L = lib.nn
    s = L.Sequential(L.Linear(2, 3), L.ReLU(), L.Linear(3, 4))
    out = [len(s), type(s[-1]).__name__, type(s[1]).__name__, repr(s[1:]), list(s[::2].state_dict())]
    s.append(L.Tanh())
    s.insert(1, L.Sigmoid())
    s.insert(-1, L.GELU())
    s.extend([L.Linear(4, 5)])
    out.append(repr(s))
    del s[0]
    out.append(list(s.state_dict()))
    s[0] = L.Linear(2, 3)
    del s[1:3]
    out += [repr(s), list(s.state_dict()), [type(m).__name__ for m in s]]
    named = L.Sequential(OrderedDict([("fc", L.Linear(2, 2)), ("act", L.ReLU())]))
    out += [repr(named), list(named.state_dict()), repr(named[0:1])]
    out += [repr(L.Sequential(L.ReLU()) + L.Sequential(L.Tanh())), repr(L.Sequential(L.ReLU()) * 2)]
    return out


def test_sequential_operations_match_torch():
    g, t = seq_ops(gu), seq_ops(torch)
    assert len(g) == len(t)
    for a, b in zip(g, t):
        assert a == b


def test_sequential_forward_and_errors():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    x = gu.randn(4, 2)
    np.testing.assert_allclose(s(x).detach().numpy(), gu.relu(x @ s[0].weight.T + s[0].bias).detach().numpy(), rtol=1e-6)
    with pytest.raises(IndexError, match="Sequential: index 2 is out of range"):
        s[2]  # noqa: B018
    with pytest.raises(IndexError, match="out of range"):
        s[-3]  # noqa: B018
    with pytest.raises(TypeError, match="argument 1 is a int, not a Module"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(TypeError, match="Sequential.append: expected a Module"):
        s.append(lambda x: x)


def list_ops(lib):
    L = lib.nn
    ml = L.ModuleList([L.Linear(2, 2) for _ in range(3)])
    out = [repr(ml), len(ml), type(ml[-1]).__name__, repr(ml[1:])]
    ml.append(L.ReLU())
    ml += [L.Tanh(), L.Tanh()]
    ml.extend([L.Linear(2, 2)])
    ml.insert(1, L.Sigmoid())
    out += [repr(ml), list(ml.state_dict())]
    del ml[0]
    ml[0] = L.GELU()
    out += [repr(ml), list(ml.state_dict()), repr(ml + L.ModuleList([L.ReLU()])), repr(L.ModuleList())]
    out.append(type(ml.pop(1)).__name__)
    out.append(repr(ml))
    return out


def test_module_list_operations_match_torch():
    for a, b in zip(list_ops(gu), list_ops(torch), strict=True):
        assert a == b


def test_module_list_index_and_errors():
    a, b = nn.ReLU(), nn.Tanh()
    ml = nn.ModuleList([a, b])
    assert ml.index(b) == 1 and list(ml) == [a, b]
    with pytest.raises(IndexError, match="ModuleList: index 5 is out of range"):
        ml[5]  # noqa: B018
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(3)


def dict_ops(lib):
    L = lib.nn
    md = L.ModuleDict({"b": L.Linear(2, 2), "a": L.ReLU()})
    out = [repr(md), list(md.keys()), "a" in md, "z" in md, len(md), list(md)]
    md.update([("c", L.Tanh()), ("b", L.Linear(2, 3))])
    md["d"] = L.Linear(3, 3)
    out += [repr(md), list(md.state_dict()), [type(v).__name__ for v in md.values()]]
    out.append(type(md.pop("a")).__name__)
    out += [list(k for k, _ in md.items()), list(md.state_dict())]
    md.clear()
    out.append(len(md))
    return out


def test_module_dict_operations_match_torch():
    for a, b in zip(dict_ops(gu), dict_ops(torch), strict=True):
        assert a == b
    with pytest.raises(KeyError, match="ModuleDict has no key 'zz'"):
        nn.ModuleDict()["zz"]
    with pytest.raises(KeyError, match="already exists"):
        nn.ModuleDict({"keys": nn.ReLU()})  # would shadow a method


def param_container_ops(lib):
    L = lib.nn
    pl = L.ParameterList([L.Parameter(lib.ones(2, 3)), lib.zeros(4)])  # a tensor becomes a Parameter
    pl.append(L.Parameter(lib.ones(1)))
    out = [len(pl), list(pl.state_dict()), [tuple(p.shape) for p in pl], type(pl[1]).__name__,
           [tuple(p.shape) for p in pl[1:]], names(pl.named_parameters())]
    out.append(repr(pl).replace("groundup.", "torch."))
    pd = L.ParameterDict({"z": L.Parameter(lib.ones(2)), "a": lib.zeros(3)})  # plain dict: sorted keys
    pd["m"] = L.Parameter(lib.ones(1, 1))
    out += [list(pd.keys()), list(pd.state_dict()), "a" in pd, len(pd), type(pd["a"]).__name__]
    out.append(repr(pd).replace("groundup.", "torch."))
    out.append(pd.pop("z").shape[0])
    out += [list(pd), list(pd.state_dict()), pd.get("q") is None, pd.popitem()[0], list(pd)]
    return out


def test_parameter_list_and_dict_match_torch():
    for a, b in zip(param_container_ops(gu), param_container_ops(torch), strict=True):
        assert a == b


def test_parameter_containers_register_with_owner():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([nn.Parameter(gu.ones(2)) for _ in range(2)])
            self.pd = nn.ParameterDict(OrderedDict(w=nn.Parameter(gu.ones(3))))

    m = M()
    assert names(m.named_parameters()) == ["ps.0", "ps.1", "pd.w"]
    m.double()
    assert m.ps[0].dtype == gu.float64 and m.pd["w"].dtype == gu.float64
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        m.ps(1)
    with pytest.raises(TypeError, match="not a string"):
        m.pd[1] = nn.Parameter(gu.ones(1))


def test_train_goes_through_overridden_child_train():
    """A child that overrides train() (e.g. to keep a frozen part in eval) is honoured, as in torch."""

    def build(lib):
        L = lib.nn

        class Frozen(L.Module):
            def __init__(self):
                super().__init__()
                self.inner = L.Linear(2, 2)

            def train(self, mode=True):
                super().train(mode)
                self.inner.eval()
                return self

        return L.Sequential(Frozen(), L.Linear(2, 2))

    for m in (build(gu), build(torch)):
        m.train()
        assert m.training and m[0].training and not m[0].inner.training and m[1].training


def test_residual_gradient_reaches_both_paths():
    """h = f(x) feeding both branches of h + g(h): backward must finish g before reaching h."""
    x = gu.tensor(rand(3, seed=4), requires_grad=True)
    tx = torch.tensor(rand(3, seed=4), requires_grad=True)
    for lib, a in ((gu, x), (torch, tx)):
        h = a * 2.0
        (h + lib.tanh(h)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
