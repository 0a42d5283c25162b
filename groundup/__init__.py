"""groundup: a deep-learning library written from first principles on NumPy.

The public surface mirrors PyTorch's: ``groundup.tensor``, ``Tensor`` methods, ``no_grad``,
creation and math functions at the top level, ``groundup.nn.functional`` for activations.
"""

from groundup import tensor as _tensor_module  # first: the function modules import Tensor from it
from groundup.autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from groundup.backend import (
    Generator,
    get_num_threads,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_num_threads,
    set_rng_state,
)
from groundup.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from groundup.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from groundup.functions.activation import *  # noqa: F403
from groundup.functions.elementwise import *  # noqa: F403
from groundup.functions.linalg import *  # noqa: F403
from groundup.functions.movement import *  # noqa: F403
from groundup.functions.reduce import *  # noqa: F403
from groundup.functions.softmax import *  # noqa: F403
from groundup.tensor import Size, Tensor, device

__version__ = "0.1.0"

from groundup import nn, optim, serialization, testing, utils  # noqa: E402
import groundup.utils.data  # noqa: E402, F401  (groundup.utils.data, as torch.utils.data)
from groundup.serialization import load, save  # noqa: E402

del _tensor_module
