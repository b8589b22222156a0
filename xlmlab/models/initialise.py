"""Random weights that come out the same on every machine.

torch's CPU `normal_` turns uniform draws into normal ones with a vectorised transform whose last
bits depend on the vector kernels the CPU runs (AVX2 and AVX-512 agree; ATen's plain kernels,
used on other processors, do not), so one seed gives slightly different weights on different
machines. numpy's `Generator` (PCG64, ziggurat method) draws the same float64 numbers everywhere,
and rounded to float32 they are the same weights bit for bit. The embedded random-weight models
and every classifier head put on a pretrained body are initialised here.

    reference_init_(model, seed=3)   # as transformers initialises: N(0, 0.02), zero biases
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def normal_(tensor: torch.Tensor, std: float, rng: np.random.Generator) -> torch.Tensor:
    """Fill `tensor` with N(0, std) draws from `rng`, the same on every machine."""
    with torch.no_grad():
        return tensor.copy_(torch.from_numpy(rng.standard_normal(tuple(tensor.shape)) * std))


def reference_init_(module: nn.Module, seed: int, std: float = 0.02) -> nn.Module:
    """Initialise every weight of `module` as the reference implementation does (its
    `_init_weights`): linear and embedding weights N(0, std), the padding row of an embedding and
    every bias zero, LayerNorm weights one. Modules are visited in definition order, so the same
    seed gives the same weights; a tied matrix keeps what its first holder (the word embedding)
    drew, padding row included."""
    rng = np.random.default_rng(seed)
    drawn: set[int] = set()
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, (nn.Linear, nn.Embedding)) and id(sub.weight) not in drawn:
                drawn.add(id(sub.weight))
                normal_(sub.weight, std, rng)
                if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
                    sub.weight[sub.padding_idx].zero_()
            elif isinstance(sub, nn.LayerNorm):
                sub.weight.fill_(1.0)
            bias = getattr(sub, "bias", None)
            if isinstance(bias, nn.Parameter):
                bias.zero_()
    return module
