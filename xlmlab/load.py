"""`load_model` and `load_tokenizer`: from a name or directory to a ready model or tokenizer.

A name is a directory in the published layout (or fairseq's: model.pt, dict.txt,
sentencepiece.bpe.model), a hub id found in the local Hugging Face cache (`hub.py`), or an
embedded tiny asset built on first use (`tiny_models.py`). `convert_fairseq` writes a fairseq
directory in the published layout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from torch import nn

from . import tiny_models
from .hub import resolve
from .models.checkpoint import CheckpointError, is_fairseq_directory, load_directory, save_model
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
    - a fairseq directory (model.pt, dict.txt, sentencepiece.bpe.model), e.g. XLM-V's own release;
    - a hub id (`facebook/xlm-v-base`, `FacebookAI/xlm-roberta-base`,
      `FacebookAI/xlm-clm-ende-1024`) found in the local Hugging Face cache;
    - an embedded tiny model (`tiny-xlmr`, `tiny-xlmv`, `tiny-xlm`), built on first use.

    `device` defaults to the CPU (see `xlmlab.try_gpu`); `dtype` defaults to float32, "auto"
    keeps the stored precision.
    """
    directory = locate(path_or_name)
    model = load_directory(directory, device=device, dtype=dtype)
    if is_fairseq_directory(directory) and (directory / "dict.txt").is_file():
        _check_dictionary(directory, model.config.vocab_size)
    return model


def _check_dictionary(directory: Path, rows: int) -> None:
    size = SentencePieceTokenizer(directory / "sentencepiece.bpe.model", dictionary=directory / "dict.txt").vocab_size
    if size != rows:
        raise CheckpointError(f"{directory}: dict.txt gives {size} ids (4 specials, its lines, <mask>) but "
                              f"model.pt's embeddings have {rows} rows")


def load_tokenizer(path_or_name: str | os.PathLike) -> SentencePieceTokenizer | XLMTokenizer:
    """The tokenizer of a model directory, hub id or embedded asset: SentencePiece for XLM-R /
    XLM-V (`sentencepiece.bpe.model`), Moses + BPE for XLM (`vocab.json` + `merges.txt`)."""
    directory = locate(path_or_name, weights=False)
    config = read_tokenizer_config(directory)
    max_length = config.get("model_max_length")
    max_length = max_length if isinstance(max_length, int) and max_length < 10**6 else 512
    if (directory / "sentencepiece.bpe.model").is_file():
        # a fairseq directory: the ids follow its dict.txt, whatever order that has
        dictionary = directory / "dict.txt" if is_fairseq_directory(directory) else None
        return SentencePieceTokenizer(directory / "sentencepiece.bpe.model", model_max_length=max_length,
                                      dictionary=dictionary if dictionary and dictionary.is_file() else None)
    if (directory / "vocab.json").is_file() and (directory / "merges.txt").is_file():
        return XLMTokenizer(directory / "vocab.json", directory / "merges.txt", model_max_length=max_length,
                            lang2id=config.get("lang2id"),
                            do_lowercase_and_remove_accent=config.get("do_lowercase_and_remove_accent", True))
    raise TokenizerError(f"{directory}: no tokenizer files; expected sentencepiece.bpe.model (XLM-R, XLM-V) "
                         "or vocab.json + merges.txt (XLM)")


def convert_fairseq(directory: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write a fairseq XLM-R / XLM-V directory in the published layout (config.json,
    model.safetensors, sentencepiece.bpe.model), which xlmlab and transformers load.

    The published tokenizer numbers pieces SentencePiece's way (piece i -> i + 1). When dict.txt
    is in that order (XLM-R's and XLM-V's releases) the weights are written as they are. When it
    is not (a dict.txt from fairseq-preprocess, by frequency), the rows of the embedding and of
    the LM head's bias are reordered to SentencePiece's order, so the converted model with the
    standard tokenizer computes what the fairseq model computes with dict.txt's ids. Entries of
    dict.txt that SentencePiece cannot produce (RoBERTa's madeupword fillers) are dropped; a piece
    that dict.txt lacks was <unk> to the fairseq model and gets <unk>'s row.
    """
    directory, out = Path(directory), Path(out)
    if not is_fairseq_directory(directory):
        raise CheckpointError(f"{directory}: not a fairseq directory (expected model.pt, dict.txt and "
                              "sentencepiece.bpe.model, and no config.json)")
    model = load_model(directory)
    tokenizer = load_tokenizer(directory)
    if not tokenizer.follows_shift:
        _reorder_rows(model, tokenizer)
    save_model(model, out)
    shutil.copyfile(directory / "sentencepiece.bpe.model", out / "sentencepiece.bpe.model")
    return out


def _reorder_rows(model: nn.Module, tokenizer: SentencePieceTokenizer) -> None:
    """Rows in dict.txt's order -> rows in the published order: <s> <pad> </s> <unk>, piece i at
    i + 1, <mask> last; (V_dict, C) -> (len(spm) + 2, C)."""
    n = len(tokenizer.sp)
    rows = torch.tensor([0, 1, 2, 3, *tokenizer.to_fairseq[3:n].tolist(), tokenizer.mask_token_id])
    embeddings = model.input_embeddings
    tied = model.lm_head.decoder.weight is embeddings.weight
    with torch.no_grad():
        embeddings.weight = nn.Parameter(embeddings.weight[rows].clone())
        embeddings.num_embeddings = len(rows)
        model.lm_head.bias = nn.Parameter(model.lm_head.bias[rows].clone())
        if tied:
            model.lm_head.decoder.weight = embeddings.weight
        else:
            model.lm_head.decoder.weight = nn.Parameter(model.lm_head.decoder.weight[rows].clone())
    model.lm_head.decoder.out_features = len(rows)
    model.config.vocab_size = len(rows)
