"""`load_model`: from a name or directory to a ready model."""

from __future__ import annotations

import os

import torch
from torch import nn

from . import embedded
from .checkpoint import load_directory
from .hub import resolve


def load_model(path_or_name: str | os.PathLike, *, device: torch.device | str | None = None,
               dtype: torch.dtype | str | None = None) -> nn.Module:
    """Load an XLM, XLM-R or XLM-V model, in eval mode.

    `path_or_name` is one of
    - a directory in the published layout (config.json + safetensors / pytorch_model.bin / shards);
    - a hub id (`facebook/xlm-v-base`, `FacebookAI/xlm-roberta-base`,
      `FacebookAI/xlm-clm-ende-1024`) found in the local Hugging Face cache;
    - an embedded tiny model (`tiny-xlmr`, `tiny-xlmv`, `tiny-xlm`), built on first use.

    `device` defaults to the CPU (see `xlmlab.try_gpu`); `dtype` defaults to float32, "auto"
    keeps the stored precision.
    """
    name = str(path_or_name)
    directory = embedded.build(name) if name in embedded.MODELS else resolve(path_or_name)
    return load_directory(directory, device=device, dtype=dtype)
