"""Character-level recurrent language model (Karpathy, "The Unreasonable Effectiveness of Recurrent Neural
Networks", 2015, and his char-rnn code).

The model reads a text one character id at a time and, at every position ``t``, predicts the next id::

    e_t = C[x_t]                          (embedding, n_embd)
    h_t, s_t = cell(e_t, s_{t-1})         (RNN / LSTM / GRU, hidden_size, num_layers stacked)
    p(x_{t+1} | x_<=t) = softmax(W_o dropout(h_t) + b_o)

and is trained with the cross-entropy of those predictions (the average negative log-likelihood, in nats
per character). Training uses truncated backpropagation through time: a long stream is cut into windows of
``T`` characters, and the state at the end of one window becomes the (detached) initial state of the next
(:class:`groundup.datasets.text.BPTTStreams` lays the batches out so that this is the right state), so the
model sees arbitrarily long context while gradients flow back only ``T`` steps.

The configuration targeted in this project's issue is embedding 64, hidden 256, one LSTM layer, sequences of
64 characters and batches of 32 (the defaults below, with ``cell="lstm"``). ``tie_weights`` shares the
embedding matrix with the output layer (Press & Wolf 2017; Inan et al. 2017), which needs
``n_embd == hidden_size``.
"""

from __future__ import annotations

from groundup import nn
from groundup.backend import Generator
from groundup.creation import zeros
from groundup.models.sampling import generate as _generate
from groundup.tensor import Tensor

__all__ = ["CharRNNLM"]

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

State = Tensor | tuple[Tensor, Tensor]


class CharRNNLM(nn.Module):
    """Embedding -> ``RNN``/``LSTM``/``GRU`` (batch_first) -> dropout -> ``Linear`` to next-token logits.

    ``forward(idx, state)`` maps ids ``(B, T)`` to logits ``(B, T, V)`` and the final state (``(L, B, H)``,
    or ``(h, c)`` for an LSTM) so that truncated BPTT can carry it, detached with :meth:`detach_state`,
    into the next window. :meth:`step` is the ``model_step`` of :func:`groundup.models.sampling.generate`
    and :meth:`generate` wraps that loop. See the module docstring for the equations.

    Args:
        vocab_size: number of token ids ``V``.
        n_embd: embedding width.
        hidden_size: width ``H`` of the recurrent state.
        num_layers: stacked recurrent layers ``L``.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (Elman, tanh).
        dropout: drop probability on the recurrent output (and between stacked layers).
        tie_weights: share the embedding matrix with the output projection (needs ``n_embd == hidden_size``).
    """

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"CharRNNLM: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        if tie_weights and n_embd != hidden_size:
            raise ValueError(
                f"CharRNNLM: tie_weights=True needs n_embd == hidden_size, got n_embd={n_embd} and "
                f"hidden_size={hidden_size}"
            )
        self.vocab_size = vocab_size
        self.cell = cell
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, n_embd)
        between = dropout if num_layers > 1 else 0.0  # PyTorch's dropout between stacked layers
        self.rnn = _CELLS[cell](n_embd, hidden_size, num_layers, batch_first=True, dropout=between)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight  # (V, H) shared with the (V, n_embd) table

    def init_state(self, batch_size: int) -> State:
        """The all-zero initial state for ``batch_size`` sequences: ``(L, B, H)``, or ``(h, c)`` for an LSTM."""
        h = zeros(self.num_layers, batch_size, self.hidden_size, dtype=self.head.weight.dtype)  # (L, B, H)
        if self.cell == "lstm":
            return h, zeros(self.num_layers, batch_size, self.hidden_size, dtype=self.head.weight.dtype)
        return h

    @staticmethod
    def detach_state(state: State) -> State:
        """The state cut off from the graph: the next BPTT window starts from its values, not its history."""
        if isinstance(state, tuple):
            return tuple(s.detach() for s in state)
        return state.detach()

    def forward(self, idx: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits ``(B, T, V)`` for ids ``(B, T)``, starting from ``state`` (zeros when None), and the final state."""
        if not isinstance(idx, Tensor):
            raise TypeError(f"CharRNNLM: expected ids as a groundup Tensor, got {type(idx).__name__}")
        if idx.ndim != 2:
            raise ValueError(f"CharRNNLM: expected ids of shape (B, T), got shape {tuple(idx.shape)}")
        x = self.embedding(idx)  # (B, T, n_embd)
        out, state = self.rnn(x, state)  # (B, T, H), state (L, B, H) or ((L, B, H), (L, B, H))
        return self.head(self.dropout(out)), state  # (B, T, V)

    def step(self, ids_so_far: Tensor, state: State | None) -> tuple[Tensor, State]:
        """``model_step`` for :func:`~groundup.models.sampling.generate`: the logits of the next token.

        On the first call (``state is None``) the whole prompt ``(B, T)`` (or ``(T,)``) is fed; afterwards
        only the last token, continuing from ``state``. Returns logits ``(B, V)`` (or ``(V,)``) and the state.
        """
        single = ids_so_far.ndim == 1
        ids = ids_so_far.unsqueeze(0) if single else ids_so_far  # (B, T)
        if state is not None:
            ids = ids[:, -1:]  # (B, 1) only the token drawn last
        logits, state = self(ids, state)  # (B, T or 1, V)
        last = logits[:, -1]  # (B, V)
        return (last[0] if single else last), state

    def generate(
        self,
        prompt_ids: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        generator: Generator | None = None,
    ) -> Tensor:
        """Sample ``max_new_tokens`` ids after ``prompt_ids`` (``(B, T)`` or ``(T,)``); returns only the new ids.

        Runs in eval mode (no dropout) and restores the previous mode; ``temperature=0`` is greedy decoding.
        """
        was_training = self.training
        self.eval()
        try:
            return _generate(self.step, prompt_ids, max_new_tokens, temperature, top_k, top_p, generator)
        finally:
            self.train(was_training)
