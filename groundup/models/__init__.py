"""Models, one per file, each with a docstring naming its paper and shape comments on every tensor line.

Classic models: :class:`Perceptron` (Rosenblatt 1958, trained by its own error-correction rule),
:class:`LogisticRegression` (Cox 1958), :class:`SoftmaxRegression` and :class:`MLP`
(Rumelhart, Hinton & Williams 1986).

Convolutional networks: :class:`MNIST1DConvNet` (the MNIST-1D baseline), :class:`LeCun1989` (the zip-code network), :class:`LeNet5` (LeCun et al.
1998), :class:`AlexNet` (Krizhevsky et al. 2012), :class:`VGG` (Simonyan & Zisserman 2015),
:class:`ResNet` and :class:`ResNetCIFAR` (He et al. 2016), :class:`DenseNet` (Huang et al. 2017),
:class:`MobileNetV2` (Sandler et al. 2018) and :class:`EfficientNet` (Tan & Le 2019); the ImageNet ones
have torchvision's ``state_dict`` keys and shapes.
"""

from groundup.models.alexnet import AlexNet, alexnet
from groundup.models.char_rnn import *  # noqa: F403
from groundup.models.char_rnn import __all__ as _char_rnn_all
from groundup.models.densenet import DenseNet, densenet121, densenet_small
from groundup.models.efficientnet import EfficientNet, EfficientNetB0, efficientnet_b0
from groundup.models.lecun1989 import LeCun1989
from groundup.models.lenet import LeNet5
from groundup.models.logistic_regression import LogisticRegression
from groundup.models.makemore import *  # noqa: F403
from groundup.models.makemore import __all__ as _makemore_all
from groundup.models.mlp import MLP
from groundup.models.mnist1d_convnet import MNIST1DConvNet
from groundup.models.mobilenet import MobileNetV2, mobilenet_v2
from groundup.models.ngram import *  # noqa: F403
from groundup.models.ngram import __all__ as _ngram_all
from groundup.models.nplm import *  # noqa: F403
from groundup.models.nplm import __all__ as _nplm_all
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
from groundup.models.sampling import *  # noqa: F403
from groundup.models.sampling import __all__ as _sampling_all
from groundup.models.softmax_regression import SoftmaxRegression
from groundup.models.ssd import *  # noqa: F403
from groundup.models.ssd import __all__ as _ssd_all
from groundup.models.unet import *  # noqa: F403
from groundup.models.unet import __all__ as _unet_all
from groundup.models.vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = ["MLP", "LogisticRegression", "MNIST1DConvNet", "Perceptron", "SoftmaxRegression"]
__all__ += [
    "LeCun1989", "LeNet5", "AlexNet", "alexnet", "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
    "vgg16_bn", "vgg19", "vgg19_bn", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
    "ResNetCIFAR", "resnet_cifar", "small_resnet", "DenseNet", "densenet121", "densenet_small", "MobileNetV2",
    "mobilenet_v2", "EfficientNet", "EfficientNetB0", "efficientnet_b0",
]
__all__ += [*_ssd_all, *_unet_all, *_ngram_all, *_sampling_all, *_char_rnn_all, *_makemore_all, *_nplm_all]
