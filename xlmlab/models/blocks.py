"""The transformer block both families are built from: post-LN attention and feed-forward.

    x = LN1(x + dropout(attention(x)))
    x = LN2(x + dropout(W2 act(W1 x)))

This is the BERT / original-Transformer order ("post-LN"): the normalisation comes after the
residual sum. XLM, XLM-R and XLM-V all use it; their blocks differ only in sizes and epsilon.
`select_positions` serves both LM heads: the masked objectives project only the masked rows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import SelfAttention

ACTIVATIONS = {  # name: (function, in-place function)
    "gelu": (F.gelu, torch.ops.aten.gelu_),  # exact, erf-based: what both families were trained with
    "relu": (F.relu, torch.relu_),
    "gelu_new": (lambda x: F.gelu(x, approximate="tanh"), lambda x: torch.ops.aten.gelu_(x, approximate="tanh")),
}


def activation(name: str, *, in_place: bool = False):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not supported; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name][in_place]


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str, dropout: float):
        super().__init__()
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)
        self.act = activation(act)
        self.act_ = activation(act, in_place=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.up(x)  # (B, T, F)
        # Without autograd, overwrite h: the (B, T, F) buffers are the largest of the layer,
        # and each fresh one costs page faults on a CPU (several percent of a forward pass).
        h = self.act(h) if torch.is_grad_enabled() else self.act_(h)
        return self.dropout(self.down(h))  # (B, T, C)


class Block(nn.Module):
    """One post-LN transformer layer."""

    def __init__(self, dim: int, n_heads: int, ffn_dim: int, *, act: str, dropout: float,
                 attention_dropout: float, eps: float):
        super().__init__()
        self.attn = SelfAttention(dim, n_heads, attention_dropout)
        self.ln1 = nn.LayerNorm(dim, eps=eps)
        self.ffn = FeedForward(dim, ffn_dim, act, dropout)
        self.ln2 = nn.LayerNorm(dim, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: tuple[torch.Tensor, torch.Tensor] | None = None, start: int = 0) -> torch.Tensor:
        h = self.dropout(self.attn(x, mask, cache, start))  # (B, T, C)
        h += x  # in place: one (B, T, C) buffer less per residual; autograd-safe, nothing saved it
        x = self.ln1(h)
        h = self.ffn(x)
        h += x
        return self.ln2(h)  # (B, T, C)


def select_positions(hidden: torch.Tensor, positions: torch.Tensor | None) -> torch.Tensor:
    """hidden (B, T, C) -> the rows where `positions` (B, T, bool) is True, (M, C), in row-major
    order (as `hidden[positions]` and as the targets `input_ids[positions]`); None: all of hidden."""
    if positions is None:
        return hidden
    if positions.dtype != torch.bool or positions.shape != hidden.shape[:2]:
        raise ValueError(f"masked_positions must be a bool tensor of shape {tuple(hidden.shape[:2])}; "
                         f"found {positions.dtype} of shape {tuple(positions.shape)}")
    return hidden[positions]  # (M, C)
