"""The key/value cache: what generation keeps so that each step runs only the new token.

In causal attention a position's keys and values never change once computed, so generation
stores them per layer and, at each step, computes the new token's query, key and value only,
appends the key and value, and attends over everything stored:

    step 0    the prompt (B, T0) runs once           cache holds positions 0 .. T0-1
    step t    one token per row (B, 1) runs           cache holds positions 0 .. T0+t-1

Each step then costs the same however long the text is, instead of recomputing the whole prefix.
The buffers are allocated once at full length; `length` says how much of them is filled.
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of every layer for the positions computed so far."""

    def __init__(self, buffers: list[torch.Tensor]):
        self.buffers = buffers  # keys and values of layer i at 2i and 2i + 1: (B, nh, T_max, hs)
        self.length = 0  # positions filled so far

    @classmethod
    def empty(cls, n_layers: int, batch_size: int, n_heads: int, max_length: int, head_size: int, *,
              device: torch.device, dtype: torch.dtype) -> KVCache:
        shape = (batch_size, n_heads, max_length, head_size)
        return cls([torch.empty(shape, device=device, dtype=dtype) for _ in range(2 * n_layers)])

    def layer(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The key and value buffers of layer i, each (B, nh, T_max, hs)."""
        return self.buffers[2 * i], self.buffers[2 * i + 1]

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the given batch rows (beam search follows its surviving beams)."""
        self.buffers = [b.index_select(0, rows) for b in self.buffers]
