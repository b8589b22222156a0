"""Multi-head self-attention through `F.scaled_dot_product_attention`, and the masks it takes.

Both families use the same attention: four linear maps (q, k, v, o) and softmax(q k^T / sqrt(d)) v.
They differ only in the mask they pass: XLM-R hides padding keys, XLM can also be causal.
Masks are boolean, `True` where a query may look at a key, shaped to broadcast to (B, nh, T, T).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def padding_mask(keep: torch.Tensor | None) -> torch.Tensor | None:
    """(B, T) 1/0 for real/padding tokens -> (B, 1, 1, T) keys mask, or None when nothing is padded.

    [[1, 1, 0]] -> [[[[True, True, False]]]]
    """
    if keep is None or bool(keep.all()):
        return None  # no mask lets SDPA pick its fastest kernel
    return keep.bool()[:, None, None, :]


def causal_padding_mask(keep: torch.Tensor | None, length: int, device: torch.device,
                        start: int = 0) -> torch.Tensor:
    """Lower-triangular mask that also hides padding keys: (B, 1, T, S), or (1, 1, T, S) unpadded,
    for T new queries at positions start.. over S = start + T keys (start > 0 with a cache).

    A padding query keeps the plain causal row, so no row is empty (an empty row gives NaN) and
    real tokens never see padding wherever it sits, left or right. `keep` covers all S keys.
    """
    S = start + length
    causal = (torch.arange(length, device=device)[:, None] + start) >= torch.arange(S, device=device)  # (T, S)
    if keep is None or bool(keep.all()):
        return causal[None, None]
    real = keep.bool()  # (B, S)
    allowed = causal[None] & (real[:, None, :] | ~real[:, start:, None])  # (B, T, S)
    return allowed[:, None]


class SelfAttention(nn.Module):
    """Multi-head self-attention; the output projection is part of it, as in both papers."""

    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"hidden size {dim} is not a multiple of the number of heads {n_heads}")
        self.n_heads = n_heads
        self.dropout = dropout
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                cache: tuple[torch.Tensor, torch.Tensor] | None = None, start: int = 0) -> torch.Tensor:
        """`cache`: this layer's key and value buffers (B, nh, T_max, hs); the new keys and values
        are written at positions start.., and the queries attend to everything up to them."""
        B, T, C = x.shape
        nh, hs = self.n_heads, C // self.n_heads
        q = self.q(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.k(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.v(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        if cache is not None:
            # the cache update: this step's keys and values go after the `start` positions already
            # stored, and the queries attend over all S = start + T of them
            keys, values = cache
            keys[:, :, start:start + T] = k
            values[:, :, start:start + T] = v
            k, v = keys[:, :, :start + T], values[:, :, :start + T]  # (B, nh, S, hs)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.o(y)
