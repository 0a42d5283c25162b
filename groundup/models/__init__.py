"""Models, one per file, each with a docstring naming its paper and shape comments on every tensor line.

Classic models: :class:`Perceptron` (Rosenblatt 1958, trained by its own error-correction rule),
:class:`LogisticRegression` (Cox 1958), :class:`SoftmaxRegression` and :class:`MLP`
(Rumelhart, Hinton & Williams 1986).

Convolutional networks: :class:`MNIST1DConvNet` (the MNIST-1D baseline), :class:`LeCun1989` (the
zip-code network), :class:`LeNet5` (LeCun et al. 1998), :class:`AlexNet` (Krizhevsky et al. 2012),
:class:`VGG` (Simonyan & Zisserman 2015), :class:`ResNet` and :class:`ResNetCIFAR` (He et al. 2016),
:class:`DenseNet` (Huang et al. 2017), :class:`MobileNetV2` (Sandler et al. 2018) and :class:`EfficientNet`
(Tan & Le 2019); the ImageNet ones have torchvision's ``state_dict`` keys and shapes. For detection and
segmentation: :class:`TinySSD` (Liu et al. 2016) and :class:`UNet` (Ronneberger et al. 2015).

Language models: :class:`NGramLM` (add-k and Kneser-Ney), :class:`NPLM` (Bengio et al. 2003), makemore's
:class:`BigramLM`, :class:`MakemoreMLP` and :class:`WaveNet`, :class:`CharRNNLM` (Karpathy 2015), and the
samplers of :mod:`.sampling` (temperature, top-k, top-p).
"""

from groundup.models.alexnet import AlexNet, alexnet
from groundup.models.char_rnn import CharRNNLM
from groundup.models.densenet import DenseNet, densenet121, densenet_small
from groundup.models.efficientnet import EfficientNet, EfficientNetB0, efficientnet_b0
from groundup.models.lecun1989 import LeCun1989
from groundup.models.lenet import LeNet5
from groundup.models.logistic_regression import LogisticRegression
from groundup.models.makemore import (
    BatchNorm1dSeq,
    BigramLM,
    FlattenConsecutive,
    MakemoreMLP,
    WaveNet,
    build_char_dataset,
    char_vocab,
)
from groundup.models.mlp import MLP
from groundup.models.mnist1d_convnet import MNIST1DConvNet
from groundup.models.mobilenet import MobileNetV2, mobilenet_v2
from groundup.models.ngram import NGramLM
from groundup.models.nplm import NPLM, ngram_windows
from groundup.models.perceptron import Perceptron
from groundup.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ResNetCIFAR,
    resnet18,
    resnet34,
    resnet50,
    resnet_cifar,
    small_resnet,
)
from groundup.models.sampling import apply_temperature, generate, sample_next, top_k_filter, top_p_filter
from groundup.models.softmax_regression import SoftmaxRegression
from groundup.models.ssd import TinySSD
from groundup.models.unet import UNet
from groundup.models.vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = ["MLP", "LogisticRegression", "MNIST1DConvNet", "Perceptron", "SoftmaxRegression"]
__all__ += [
    "LeCun1989", "LeNet5", "AlexNet", "alexnet", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
    "vgg16_bn", "vgg19", "vgg19_bn", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
    "ResNetCIFAR", "resnet_cifar", "small_resnet", "DenseNet", "densenet121", "densenet_small", "MobileNetV2",
    "mobilenet_v2", "EfficientNet", "EfficientNetB0", "efficientnet_b0",
]
__all__ += ["TinySSD", "UNet"]
__all__ += [
    "NGramLM", "NPLM", "ngram_windows", "BigramLM", "MakemoreMLP", "WaveNet", "FlattenConsecutive", "BatchNorm1dSeq",
    "build_char_dataset", "char_vocab", "CharRNNLM", "apply_temperature", "generate", "sample_next", "top_k_filter",
    "top_p_filter",
]
