"""One ResNet-8 training step (``groundup.models.small_resnet()``), batch 128, Adam, vs PyTorch.

Run: ``.venv/bin/python -m benchmarks.bench_resnet``. The model is He et al.'s CIFAR ResNet with one
basic block per stage (16/32/64 channels on 28/14/7-pixel maps, BatchNorm, option-A shortcuts,
global average pooling), 75,002 parameters. PyTorch runs the same network built from the same
layers, its weights and BatchNorm buffers copied over with ``load_state_dict``, on the same
(128, 1, 28, 28) float32 batch with random labels, in training mode (batch statistics). A step is
zero_grad + forward + cross-entropy + backward + Adam step (lr 1e-3). Threads (each library at
its faster of 1 and 2) and timing as in ``benchmarks/bench_lenet.py``. No target is set; the
ratio is reported.
"""

from __future__ import annotations

BATCH = 128


def torch_small_resnet(torch):
    """``small_resnet()`` in PyTorch: the same modules under the same state-dict keys."""
    nn, F = torch.nn, torch.nn.functional

    class ShortcutA(nn.Module):
        def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
            super().__init__()
            self.extra, self.stride = out_planes - in_planes, stride

        def forward(self, x):
            x = x[:, :, :: self.stride, :: self.stride]
            return F.pad(x, (0, 0, 0, 0, 0, self.extra))

    class BasicBlock(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = ShortcutA(inplanes, planes, stride) if stride != 1 or inplanes != planes else None

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet8(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = nn.Sequential(BasicBlock(16, 16))
            self.layer2 = nn.Sequential(BasicBlock(16, 32, 2))
            self.layer3 = nn.Sequential(BasicBlock(32, 64, 2))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet8()


def main() -> None:
    import torch

    from benchmarks.common import compare_training_step
    from groundup.models import small_resnet

    compare_training_step("bench_resnet", "ResNet-8 (small_resnet) train step, batch 128, Adam", "none (reported)",
                          small_resnet, lambda: torch_small_resnet(torch), batch=BATCH, repeat=18, doc=__doc__)


if __name__ == "__main__":
    main()
