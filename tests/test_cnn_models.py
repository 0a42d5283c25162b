"""groundup.models CNNs: parameter counts at ImageNet settings (torchvision's numbers), state_dict keys and
shapes against torchvision's layout rebuilt in plain torch.nn, torch parity of whole forward passes, forward
shapes on small inputs, one short training run each, and the init each model documents.

Parameter counts need shapes only, so those tests make every initializer a no-op (``cheap_init``): a
138M-parameter VGG is then built in milliseconds, with no random draws and no forward pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F
from groundup import nn, optim
from groundup.models import (
    VGG,
    AlexNet,
    BasicBlock,
    Bottleneck,
    DenseNet,
    EfficientNet,
    EfficientNetB0,
    LeCun1989,
    LeNet5,
    MobileNetV2,
    ResNet,
    ResNetCIFAR,
    alexnet,
    densenet121,
    densenet_small,
    efficientnet_b0,
    mobilenet_v2,
    resnet18,
    resnet34,
    resnet50,
    resnet_cifar,
    small_resnet,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg16,
    vgg16_bn,
    vgg19,
)
from groundup.models.efficientnet import _B0_SETTING, StochasticDepth, stochastic_depth
from groundup.models.mobilenet import _make_divisible
from groundup.models.vgg import make_layers
from tests.helpers import requires_torch, torch


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture
def cheap_init(monkeypatch):
    """Every initializer in groundup.nn.init becomes a no-op (parameters stay as allocated)."""
    for name in (
        "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
        "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_",
    ):
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)


# =============================================================== parameter counts (ImageNet, 1000 classes)
@pytest.mark.parametrize(
    "build, expected",
    [
        (resnet18, 11_689_512),
        (resnet34, 21_797_672),
        (resnet50, 25_557_032),
        (vgg11, 132_863_336),
        (vgg13, 133_047_848),
        (vgg16, 138_357_544),
        (vgg16_bn, 138_365_992),
        (vgg19, 143_667_240),
        (mobilenet_v2, 3_504_872),
        (efficientnet_b0, 5_288_548),
        (densenet121, 7_978_856),
        (alexnet, 61_100_840),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_parameter_count_matches_torchvision(cheap_init, build, expected):
    assert n_params(build()) == expected


def test_small_model_parameter_counts(cheap_init):
    assert n_params(LeNet5()) == 61_706  # 28x28 inputs, C1 padded by 2
    assert n_params(LeNet5(padding=0)) == 61_706  # the classic 32x32 input: padding adds no weights
    assert n_params(LeCun1989()) == 9_760  # the paper's free-parameter count
    assert n_params(resnet_cifar(20)) == 269_722  # the paper's "0.27M" (option A shortcuts are free)
    assert n_params(resnet_cifar(20, shortcut="B")) == 272_474  # + two 1x1 projections with BN
    assert n_params(resnet_cifar(56)) == 853_018  # the paper's "0.85M"
    assert n_params(small_resnet()) == 75_002
    assert n_params(densenet_small()) == 105_658


def test_lecun1989_parameter_shapes_untied_biases():
    m = LeCun1989()
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {
        "H1w": (12, 1, 5, 5), "H1b": (12, 8, 8),  # a bias per unit, not per map
        "H2w": (12, 8, 5, 5), "H2b": (12, 4, 4),  # each H2 map sees 8 of the 12 H1 maps
        "H3w": (192, 30), "H3b": (30,),
        "outw": (30, 10), "outb": (10,),
    }
    bound = 2.4 / math.sqrt(8 * 5 * 5)
    assert np.abs(m.H2w.detach().numpy()).max() <= bound
    assert np.all(m.outb.detach().numpy() == -1) and np.all(m.H1b.detach().numpy() == 0)


def test_make_divisible_as_torchvision():
    assert _make_divisible(32 * 1.0, 8) == 32
    assert _make_divisible(32 * 0.25, 8) == 8
    assert _make_divisible(16 * 0.35, 8) == 8  # 5.6 rounds up to the minimum 8
    assert _make_divisible(24 * 0.75, 8) == 24  # 18 -> 16 would lose > 10%, so 24
    assert _make_divisible(1280 * 1.4, 8) == 1792


# ===================================================================== torchvision's layout in torch.nn
def _t_resnet18(num_classes: int = 1000):
    """torchvision.models.resnet18 rebuilt from torch.nn (same module names, order and shapes)."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inp, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inp != planes:
                self.downsample = tnn.Sequential(tnn.Conv2d(inp, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + identity)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            inp = 64
            for i, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
                setattr(self, f"layer{i + 1}", tnn.Sequential(Block(inp, planes, stride), Block(planes, planes, 1)))
                inp = planes
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


def _t_mobilenet_v2(num_classes: int = 1000):
    """torchvision.models.mobilenet_v2 (width 1) rebuilt from torch.nn."""
    tnn = torch.nn

    def cna(inp, oup, k=3, s=1, g=1):  # ops.Conv2dNormActivation with ReLU6
        return tnn.Sequential(tnn.Conv2d(inp, oup, k, s, (k - 1) // 2, groups=g, bias=False), tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))

    class InvertedResidual(tnn.Module):
        def __init__(self, inp, oup, s, t):
            super().__init__()
            hidden = int(round(inp * t))
            self.use_res = s == 1 and inp == oup
            layers = [cna(inp, hidden, 1)] if t != 1 else []
            layers += [cna(hidden, hidden, 3, s, hidden), tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False), tnn.BatchNorm2d(oup)]
            self.conv = tnn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res else self.conv(x)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            features, inp = [cna(3, 32, 3, 2)], 32
            for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
                for i in range(n):
                    features.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
                    inp = c
            features.append(cna(320, 1280, 1))
            self.features = tnn.Sequential(*features)
            self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

        def forward(self, x):
            x = torch.nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return Net()


def _t_densenet(growth, block_config, num_init, bn_size=4, num_classes=10):
    """torchvision.models.DenseNet rebuilt from torch.nn."""
    from collections import OrderedDict

    tnn = torch.nn

    class Layer(tnn.Module):
        def __init__(self, c):
            super().__init__()
            self.norm1, self.relu1 = tnn.BatchNorm2d(c), tnn.ReLU()
            self.conv1 = tnn.Conv2d(c, bn_size * growth, 1, bias=False)
            self.norm2, self.relu2 = tnn.BatchNorm2d(bn_size * growth), tnn.ReLU()
            self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

        def forward(self, feats):
            x = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
            return self.conv2(self.relu2(self.norm2(x)))

    class Block(tnn.ModuleDict):
        def __init__(self, n, c):
            super().__init__()
            for i in range(n):
                self.add_module(f"denselayer{i + 1}", Layer(c + i * growth))

        def forward(self, x):
            feats = [x]
            for layer in self.values():
                feats.append(layer(feats))
            return torch.cat(feats, 1)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(OrderedDict([
                ("conv0", tnn.Conv2d(3, num_init, 7, 2, 3, bias=False)), ("norm0", tnn.BatchNorm2d(num_init)),
                ("relu0", tnn.ReLU()), ("pool0", tnn.MaxPool2d(3, 2, 1)),
            ]))
            c = num_init
            for i, n in enumerate(block_config):
                self.features.add_module(f"denseblock{i + 1}", Block(n, c))
                c += n * growth
                if i != len(block_config) - 1:
                    self.features.add_module(f"transition{i + 1}", tnn.Sequential(OrderedDict([
                        ("norm", tnn.BatchNorm2d(c)), ("relu", tnn.ReLU()),
                        ("conv", tnn.Conv2d(c, c // 2, 1, bias=False)), ("pool", tnn.AvgPool2d(2, 2)),
                    ])))
                    c //= 2
            self.features.add_module("norm5", tnn.BatchNorm2d(c))
            self.classifier = tnn.Linear(c, num_classes)

        def forward(self, x):
            x = torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.features(x)), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return Net()


def _t_efficientnet(setting, num_classes=10):
    """torchvision.models.EfficientNet (V1, MBConv stages from ``setting``) rebuilt from torch.nn."""
    tnn = torch.nn

    def cna(i, o, k, s=1, g=1, act=True):
        layers = [tnn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), tnn.BatchNorm2d(o)]
        return tnn.Sequential(*layers, tnn.SiLU()) if act else tnn.Sequential(*layers)

    class SE(tnn.Module):
        def __init__(self, c, sq):
            super().__init__()
            self.avgpool, self.fc1, self.fc2 = tnn.AdaptiveAvgPool2d(1), tnn.Conv2d(c, sq, 1), tnn.Conv2d(sq, c, 1)
            self.activation, self.scale_activation = tnn.SiLU(), tnn.Sigmoid()

        def forward(self, x):
            return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x

    class MBConv(tnn.Module):
        def __init__(self, t, k, s, i, o):
            super().__init__()
            e = _make_divisible(i * t, 8)
            layers = [cna(i, e, 1)] if e != i else []
            self.block = tnn.Sequential(*layers, cna(e, e, k, s, e), SE(e, max(1, i // 4)), cna(e, o, 1, act=False))
            self.res = s == 1 and i == o

        def forward(self, x):  # eval mode: stochastic depth is the identity
            return self.block(x) + x if self.res else self.block(x)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            features = [cna(3, setting[0].input_channels, 3, 2)]
            for c in setting:
                features.append(tnn.Sequential(*[
                    MBConv(c.expand_ratio, c.kernel, c.stride if j == 0 else 1,
                           c.input_channels if j == 0 else c.out_channels, c.out_channels)
                    for j in range(c.num_layers)
                ]))
            last = setting[-1].out_channels
            features.append(cna(last, 4 * last, 1))
            self.features = tnn.Sequential(*features)
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(4 * last, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return Net()


def _randomize_bn(tmodel, seed=0):
    """Non-trivial BN statistics and affine parameters, so eval-mode parity tests the BN arithmetic."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in tmodel.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.2, 0.2, generator=g)
                m.running_mean.uniform_(-0.2, 0.2, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)


def _assert_same_state_dict_layout(gmodel, tmodel):
    gsd, tsd = gmodel.state_dict(), tmodel.state_dict()
    assert list(gsd) == list(tsd)  # same keys in the same order
    for k in tsd:
        assert tuple(gsd[k].shape) == tuple(tsd[k].shape), k


def _check_parity(gmodel, tmodel, size, atol):
    _randomize_bn(tmodel)
    gmodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    gmodel.eval()
    tmodel.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with gu.no_grad():
        got = gmodel(gu.tensor(x)).numpy()
    with torch.no_grad():
        want = tmodel(torch.from_numpy(x)).numpy()
    assert np.abs(want).max() > 1e-2  # a non-trivial output to compare
    np.testing.assert_allclose(got, want, atol=atol, rtol=1e-3)


@requires_torch
def test_resnet18_state_dict_and_forward_match_torchvision_layout():
    gmodel, tmodel = resnet18(num_classes=10), _t_resnet18(num_classes=10)
    _assert_same_state_dict_layout(gmodel, tmodel)
    _check_parity(gmodel, tmodel, size=64, atol=1e-4)


@requires_torch
def test_mobilenet_v2_state_dict_and_forward_match_torchvision_layout():
    gmodel, tmodel = mobilenet_v2(num_classes=10), _t_mobilenet_v2(num_classes=10)
    _assert_same_state_dict_layout(gmodel, tmodel)
    _check_parity(gmodel, tmodel, size=64, atol=1e-4)


@requires_torch
def test_densenet_state_dict_and_forward_match_torchvision_layout():
    gmodel, tmodel = densenet_small(num_classes=10), _t_densenet(12, (4, 4, 4), 24, num_classes=10)
    _assert_same_state_dict_layout(gmodel, tmodel)
    _check_parity(gmodel, tmodel, size=32, atol=1e-4)


@requires_torch
def test_efficientnet_state_dict_and_forward_match_torchvision_layout():
    setting = [cnf.scaled(0.5, 0.5) for cnf in _B0_SETTING]
    gmodel, tmodel = EfficientNet(setting, 0.2, num_classes=10), _t_efficientnet(setting, num_classes=10)
    _assert_same_state_dict_layout(gmodel, tmodel)
    _check_parity(gmodel, tmodel, size=32, atol=1e-4)


def _check_training_gradients(gmodel, tmodel, size, n=4):
    """Training mode in float64 (BN on batch statistics, dropout off): same loss, same gradient for every parameter.

    float64 because tiny BN batches make float32 gradients of these nets ill-conditioned (both
    libraries land ~5% from the float64 values, each in its own way).
    """
    for m in tmodel.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    tmodel.double().train()
    gmodel.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    gmodel.double().train()
    x = np.random.default_rng(3).standard_normal((n, 3, size, size))
    y = np.arange(n) % 10
    g_loss = F.cross_entropy(gmodel(gu.tensor(x)), gu.tensor(y))
    g_loss.backward()
    t_loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
    t_loss.backward()
    np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-10)
    grads = dict(gmodel.named_parameters())
    for k, p in tmodel.named_parameters():
        want = p.grad.numpy()
        np.testing.assert_allclose(grads[k].grad.numpy(), want, rtol=1e-6, atol=1e-9 * (np.abs(want).max() + 1), err_msg=k)


@requires_torch
def test_resnet18_and_densenet_training_gradients_match_torch():
    _check_training_gradients(resnet18(num_classes=10), _t_resnet18(num_classes=10), size=32)
    _check_training_gradients(densenet_small(num_classes=10), _t_densenet(12, (4, 4, 4), 24, num_classes=10), size=32)


@requires_torch
def test_mobilenet_v2_training_gradients_match_torch():
    _check_training_gradients(mobilenet_v2(num_classes=10, dropout=0.0), _t_mobilenet_v2(num_classes=10), size=32)


@requires_torch
def test_efficientnet_training_gradients_match_torch():
    setting = [cnf.scaled(0.5, 0.5) for cnf in _B0_SETTING]
    gmodel = EfficientNet(setting, 0.0, stochastic_depth_prob=0.0, num_classes=10)
    _check_training_gradients(gmodel, _t_efficientnet(setting, num_classes=10), size=32)


def test_state_dict_keys_follow_torchvision_naming(cheap_init):
    """Spot checks of keys torchvision checkpoints hold, for the models without a torch rebuild here."""
    checks = {
        resnet50: ["layer1.0.conv3.weight", "layer1.0.bn3.running_var", "layer1.0.downsample.0.weight",
                   "layer4.2.bn3.weight", "fc.weight"],
        vgg16: ["features.0.weight", "features.28.bias", "classifier.0.weight", "classifier.3.weight", "classifier.6.bias"],
        vgg16_bn: ["features.1.running_mean", "features.41.weight", "classifier.6.weight"],
        alexnet: ["features.0.weight", "features.3.weight", "features.6.weight", "features.8.weight",
                  "features.10.weight", "classifier.1.weight", "classifier.4.weight", "classifier.6.weight"],
        densenet121: ["features.conv0.weight", "features.norm0.weight", "features.denseblock1.denselayer1.norm1.weight",
                      "features.denseblock1.denselayer6.conv2.weight", "features.transition1.conv.weight",
                      "features.transition3.norm.running_var", "features.denseblock4.denselayer16.conv1.weight",
                      "features.norm5.weight", "classifier.weight"],
        efficientnet_b0: ["features.0.0.weight", "features.0.1.weight", "features.1.0.block.0.0.weight",
                          "features.1.0.block.1.fc1.weight", "features.1.0.block.1.fc2.bias", "features.1.0.block.2.0.weight",
                          "features.2.0.block.0.0.weight", "features.2.0.block.3.1.running_mean",
                          "features.6.3.block.2.fc1.weight", "features.8.0.weight", "classifier.1.weight"],
    }
    for build, keys in checks.items():
        sd = build().state_dict()
        missing = [k for k in keys if k not in sd]
        assert not missing, (build.__name__, missing)
    sd = densenet121().state_dict()
    assert tuple(sd["features.denseblock2.denselayer12.conv1.weight"].shape) == (128, 128 + 11 * 32, 1, 1)
    assert tuple(sd["classifier.weight"].shape) == (1000, 1024)
    sd = efficientnet_b0().state_dict()
    assert tuple(sd["features.2.0.block.1.0.weight"].shape) == (96, 1, 3, 3)  # depthwise 3x3 on 16·6 channels
    assert tuple(sd["features.2.0.block.2.fc1.weight"].shape) == (4, 96, 1, 1)  # squeeze to input/4 = 16/4
    assert tuple(sd["features.3.0.block.1.0.weight"].shape) == (144, 1, 5, 5)
    assert tuple(sd["features.8.0.weight"].shape) == (1280, 320, 1, 1)
    assert len(efficientnet_b0().features) == 9 and [len(s) for s in list(efficientnet_b0().features)[1:8]] == [1, 2, 2, 3, 3, 4, 1]


# ======================================================================= forward shapes on small inputs
def _x(*shape, seed=0):
    return gu.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: LeNet5(), (2, 1, 28, 28)),
        (lambda: LeNet5(padding=0, activation="relu", pooling="max"), (2, 1, 32, 32)),
        (lambda: AlexNet(num_classes=10, classifier_width=32), (2, 3, 64, 64)),
        (lambda: VGG(make_layers([8, "M", 16, "M"], batch_norm=True), num_classes=10, classifier_width=32), (2, 3, 32, 32)),
        (lambda: resnet18(num_classes=10), (2, 3, 32, 32)),
        (lambda: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10), (2, 3, 32, 32)),
        (lambda: resnet_cifar(20), (2, 3, 32, 32)),
        (lambda: resnet_cifar(8, shortcut="B"), (2, 3, 32, 32)),
        (lambda: small_resnet(), (2, 1, 28, 28)),
        (lambda: densenet_small(), (2, 3, 32, 32)),
        (lambda: MobileNetV2(num_classes=10, width_mult=0.25), (2, 3, 32, 32)),
        (lambda: EfficientNetB0(num_classes=10, width_mult=0.25, depth_mult=0.5), (2, 3, 32, 32)),
    ],
    ids=["lenet5", "lenet5-32-relu-max", "alexnet", "vgg-small", "resnet18", "resnet-bottleneck", "resnet20",
         "resnet8-B", "small_resnet", "densenet_small", "mobilenet_v2", "efficientnet"],
)
def test_forward_shape_on_small_inputs(build, shape):
    model = build()
    out = model(_x(*shape))
    assert tuple(out.shape) == (shape[0], 10)
    assert out.dtype == gu.float32 and np.all(np.isfinite(out.detach().numpy()))
    model.eval()
    with gu.no_grad():
        assert tuple(model(_x(*shape)).shape) == (shape[0], 10)


def test_lecun1989_forward_range_and_shape():
    out = LeCun1989()(_x(3, 1, 16, 16))
    assert tuple(out.shape) == (3, 10)
    assert np.all(np.abs(out.detach().numpy()) < 1)  # tanh outputs
    t = LeCun1989.targets(gu.tensor([3, 0]))
    assert t.tolist()[0] == [-1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]


@requires_torch
def test_lecun1989_matches_a_masked_dense_convolution():
    """H2 = a dense 12→12 convolution whose weight is zero where a map is not connected; untied biases add per unit."""
    m = LeCun1989()
    with gu.no_grad():
        for p in (m.H1b, m.H2b, m.H3b):
            p.copy_(gu.tensor(np.random.default_rng(1).uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    x = np.random.default_rng(2).uniform(-1, 1, (4, 1, 16, 16)).astype(np.float32)
    got = m(gu.tensor(x)).detach().numpy()

    p = {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in m.state_dict().items()}
    seen = [list(range(0, 8)), list(range(4, 12)), [0, 1, 2, 3, 8, 9, 10, 11]]  # H1 maps each block of 4 H2 maps sees
    dense = torch.zeros(12, 12, 5, 5)
    for j in range(12):
        dense[j, seen[j // 4]] = p["H2w"][j]
    tf = torch.nn.functional
    h = torch.tanh(tf.conv2d(tf.pad(torch.from_numpy(x), (2, 2, 2, 2), value=-1.0), p["H1w"], stride=2) + p["H1b"])
    h = torch.tanh(tf.conv2d(tf.pad(h, (2, 2, 2, 2), value=-1.0), dense, stride=2) + p["H2b"])
    h = torch.tanh(h.flatten(1) @ p["H3w"] + p["H3b"])
    want = torch.tanh(h @ p["outw"] + p["outb"]).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_resnet_cifar_option_a_shortcut_pads_zero_channels():
    block = resnet_cifar(20).layer2[0]
    assert block.downsample is not None and not list(block.downsample.parameters())
    x = _x(2, 16, 8, 8)
    sc = block.downsample(x).numpy()
    assert sc.shape == (2, 32, 4, 4)
    np.testing.assert_array_equal(sc[:, :16], x.numpy()[:, :, ::2, ::2])
    assert np.all(sc[:, 16:] == 0)
    with pytest.raises(ValueError):
        ResNetCIFAR(depth=21)


def test_stochastic_depth_drops_whole_rows_in_training_only():
    x = gu.ones(400, 3, 2, 2)
    gu.manual_seed(0)
    y = stochastic_depth(x, 0.25, "row", training=True).numpy()
    per_row = y.reshape(400, -1)
    assert np.all((per_row == 0).all(1) | np.isclose(per_row, 1 / 0.75).all(1))  # whole samples dropped or scaled
    assert 0.15 < (per_row[:, 0] == 0).mean() < 0.35
    assert stochastic_depth(x, 0.25, "row", training=False) is x
    assert np.all(stochastic_depth(x, 1.0, "row").numpy() == 0)
    yb = stochastic_depth(x, 0.5, "batch").numpy()
    assert np.all(yb == 0) or np.all(yb == 2)
    sd = StochasticDepth(0.2, "row")
    assert repr(sd) == "StochasticDepth(p=0.2, mode=row)"
    sd.eval()
    assert sd(x) is x
    with pytest.raises(ValueError):
        stochastic_depth(x, 1.5, "row")


def test_efficientnet_stochastic_depth_probabilities_rise_linearly(cheap_init):
    probs = [m.stochastic_depth.p for m in efficientnet_b0().modules() if type(m).__name__ == "MBConv"]
    assert len(probs) == 16
    np.testing.assert_allclose(probs, [0.2 * i / 16 for i in range(16)])
    assert isinstance(efficientnet_b0(), EfficientNet)


# ========================================================================= one short training run each
def _train_steps(model, x, loss_fn, steps=4, lr=0.05):
    """SGD on one repeated batch: returns the losses and whether every parameter with a gradient moved."""
    params = list(model.parameters())
    before = [p.detach().numpy().copy() for p in params]
    opt = optim.SGD(params, lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    moved = [not np.array_equal(b, p.detach().numpy()) for b, p in zip(before, params) if p.grad is not None]
    return losses, moved


# MobileNetV2 and EfficientNet reach 1x1 maps at 32x32 inputs, where each BatchNorm channel normalises just
# N numbers: with N = 4 the loss surface is so sharp that even an SGD step of 1e-6 can raise the loss (in
# torch as here). At 64x64 with N = 8 (2x2 maps, 32 numbers a channel) small steps behave.
@pytest.mark.parametrize(
    "build, shape, lr",
    [
        (lambda: LeNet5(), (8, 1, 28, 28), 0.1),
        (lambda: AlexNet(num_classes=10, dropout=0.0, classifier_width=32), (4, 3, 64, 64), 0.1),
        (lambda: VGG(make_layers([8, "M", 16, "M"], batch_norm=True), num_classes=10, dropout=0.0, classifier_width=32),
         (4, 3, 32, 32), 0.1),
        (lambda: ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), (4, 3, 32, 32), 0.05),
        (lambda: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10), (4, 3, 32, 32), 0.05),
        (lambda: resnet_cifar(8), (4, 3, 32, 32), 0.05),
        (lambda: densenet_small(), (4, 3, 32, 32), 0.05),
        (lambda: MobileNetV2(num_classes=10, width_mult=0.25, dropout=0.0), (8, 3, 64, 64), 1e-4),
        (lambda: EfficientNetB0(num_classes=10, width_mult=0.25, depth_mult=0.5, dropout=0.0, stochastic_depth_prob=0.0),
         (8, 3, 64, 64), 1e-4),
    ],
    ids=["lenet5", "alexnet", "vgg-small", "resnet-basic", "resnet-bottleneck", "resnet8-cifar", "densenet_small",
         "mobilenet_v2", "efficientnet"],
)
def test_one_training_run_lowers_the_loss(build, shape, lr):
    gu.manual_seed(0)
    model = build()
    x = _x(*shape, seed=1)
    y = gu.tensor(np.arange(shape[0]) % 10)
    losses, moved = _train_steps(model, x, lambda out: F.cross_entropy(out, y), lr=lr)
    # the first and last parameters moved, and (nearly) all others: at lr=1e-4 a BN γ of 1 with a
    # gradient of 1e-4 moves by less than float32's resolution at 1
    assert moved[0] and moved[-1] and np.mean(moved) > 0.9, np.mean(moved)
    assert losses[-1] < losses[0], losses


def test_lecun1989_trains_with_mse_on_pm1_targets():
    gu.manual_seed(0)
    model = LeCun1989()
    x = _x(8, 1, 16, 16, seed=3)
    t = LeCun1989.targets(gu.tensor(np.arange(8) % 10))
    losses, moved = _train_steps(model, x, lambda out: F.mse_loss(out, t), steps=5, lr=0.05)
    assert all(moved) and len(moved) == 8
    assert losses[-1] < losses[0], losses


def test_training_step_updates_batch_norm_running_stats():
    model = resnet_cifar(8)
    bn = model.bn1
    model(_x(4, 3, 32, 32))
    assert bn.num_batches_tracked.item() == 1 and not np.allclose(bn.running_mean.numpy(), 0)


# ================================================================================================ init
def test_resnet_init_as_torchvision():
    model = resnet18(num_classes=10)
    w = model.layer3[0].conv2.weight.detach().numpy()  # (256, 256, 3, 3)
    assert abs(w.std() - math.sqrt(2.0 / (256 * 9))) < 0.05 * math.sqrt(2.0 / (256 * 9))  # kaiming, fan_out, relu
    assert np.all(model.layer1[0].bn2.weight.detach().numpy() == 1)
    z = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10, zero_init_residual=True)
    assert np.all(z.layer2[0].bn2.weight.detach().numpy() == 0) and np.all(z.layer2[0].bn1.weight.detach().numpy() == 1)
    zb = ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10, zero_init_residual=True)
    assert np.all(zb.layer1[0].bn3.weight.detach().numpy() == 0)


def test_vgg_mobilenet_efficientnet_densenet_init_as_torchvision():
    v = VGG(make_layers([8, "M", 16, "M"]), num_classes=10, classifier_width=256)
    lin = v.classifier[3].weight.detach().numpy()
    assert abs(lin.std() - 0.01) < 0.001 and np.all(v.classifier[0].bias.detach().numpy() == 0)
    assert np.all(v.features[0].bias.detach().numpy() == 0)

    m = MobileNetV2(num_classes=100, width_mult=0.5)
    assert abs(m.classifier[1].weight.detach().numpy().std() - 0.01) < 0.001
    w = m.features[-1][0].weight.detach().numpy()  # (1280, 160, 1, 1): kaiming normal, fan_out = 1280
    assert abs(w.std() - math.sqrt(2.0 / 1280)) < 0.05 * math.sqrt(2.0 / 1280)

    e = EfficientNetB0(num_classes=100, width_mult=0.25, depth_mult=0.25)
    lw = e.classifier[1].weight.detach().numpy()
    assert np.abs(lw).max() <= 1 / math.sqrt(100) and lw.std() > 0.05
    assert e.classifier[0].p == 0.2

    d = densenet_small(num_classes=10)
    assert np.all(d.classifier.bias.detach().numpy() == 0)
    c = d.features.conv0.weight.detach().numpy()  # (24, 3, 7, 7): kaiming normal, fan_in = 147
    assert abs(c.std() - math.sqrt(2.0 / 147)) < 0.15 * math.sqrt(2.0 / 147)


def test_constructor_arguments(cheap_init):
    assert isinstance(densenet121(num_classes=5), DenseNet) and densenet121(num_classes=5).classifier.out_features == 5
    assert [type(m).__name__ for m in vgg11_bn(num_classes=10, classifier_width=8).features][:3] == ["Conv2d", "BatchNorm2d", "ReLU"]
    with pytest.raises(ValueError):
        LeNet5(activation="gelu")
    with pytest.raises(ValueError):
        ResNet(BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError):
        BasicBlock(64, 64, groups=2)
