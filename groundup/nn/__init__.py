"""Neural-network building blocks with ``torch.nn``'s names: ``Module``, ``Parameter``, layers, losses.

One file per layer family (``linear.py``, ``activation.py``, ``normalization.py``, ``loss.py``, …);
``functional`` is the stateless face, ``init`` the initialisers, ``utils`` gradient clipping and
parameter/vector conversion.
"""

from groundup.nn import functional, init, utils  # noqa: F401
from groundup.nn.activation import *  # noqa: F403
from groundup.nn.container import *  # noqa: F403
from groundup.nn.conv import *  # noqa: F403
from groundup.nn.dropout import *  # noqa: F403
from groundup.nn.embedding import *  # noqa: F403
from groundup.nn.flatten import *  # noqa: F403
from groundup.nn.linear import *  # noqa: F403
from groundup.nn.loss import *  # noqa: F403
from groundup.nn.module import Module, Parameter  # noqa: F401
from groundup.nn.normalization import *  # noqa: F403
from groundup.nn.pooling import *  # noqa: F403
from groundup.nn.recurrent import *  # noqa: F403
from groundup.nn.upsampling import *  # noqa: F403
