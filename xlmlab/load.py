"""`load_model` and `load_tokenizer`: from a name or directory to a ready model or tokenizer.

A name is a directory in the published layout, a hub id found in the local Hugging Face cache
(`hub.py`), or an embedded tiny asset built on first use (`tiny_models.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from . import tiny_models
from .hub import resolve
from .models.checkpoint import load_directory
from .tokenizers.base import TokenizerError, read_tokenizer_config
from .tokenizers.spm import SentencePieceTokenizer
from .tokenizers.xlm import XLMTokenizer


def locate(path_or_name: str | os.PathLike, *, weights: bool = True) -> Path:
    """The directory behind a name: embedded assets first, then directories and hub ids
    (`weights=False`: a cached snapshot with only the tokenizer files will do)."""
    name = str(path_or_name)
    return tiny_models.build(name) if name in tiny_models.MODELS else resolve(path_or_name, weights=weights)


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
    return load_directory(locate(path_or_name), device=device, dtype=dtype)


def load_tokenizer(path_or_name: str | os.PathLike) -> SentencePieceTokenizer | XLMTokenizer:
    """The tokenizer of a model directory, hub id or embedded asset: SentencePiece for XLM-R /
    XLM-V (`sentencepiece.bpe.model`), Moses + BPE for XLM (`vocab.json` + `merges.txt`)."""
    directory = locate(path_or_name, weights=False)
    config = read_tokenizer_config(directory)
    max_length = config.get("model_max_length")
    max_length = max_length if isinstance(max_length, int) and max_length < 10**6 else 512
    if (directory / "sentencepiece.bpe.model").is_file():
        return SentencePieceTokenizer(directory / "sentencepiece.bpe.model", model_max_length=max_length)
    if (directory / "vocab.json").is_file() and (directory / "merges.txt").is_file():
        return XLMTokenizer(directory / "vocab.json", directory / "merges.txt", model_max_length=max_length,
                            lang2id=config.get("lang2id"),
                            do_lowercase_and_remove_accent=config.get("do_lowercase_and_remove_accent", True))
    raise TokenizerError(f"{directory}: no tokenizer files; expected sentencepiece.bpe.model (XLM-R, XLM-V) "
                         "or vocab.json + merges.txt (XLM)")
