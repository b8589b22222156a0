"""`embed`: one vector per sentence, from any layer of an encoder.

    vectors = embed(model, tok, ["Hello world", "Hallo Welt"], layer=6)   # (2, H) float32

Layer 0 is the embedding layer's output, layer i the output of transformer block i (as
transformers' `hidden_states[i]`). Pooling: "mean" averages the sentence's real tokens (its
special tokens included, padding left out); "first" takes the `<s>` token. For the heads'
models (masked LM, classifier) only the body runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from ..tokenizers.base import Tokenizer

POOLINGS = ("mean", "first")


def embed(model: nn.Module, tokenizer: Tokenizer, texts: Sequence[str], *, lang: str | None = None,
          layer: int | str | None = None, pooling: str = "mean", batch_size: int = 64,
          max_length: int = 128, progress: bool = False) -> torch.Tensor:
    """Sentence vectors, float32 on the CPU: (N, H) from `layer` (None: the last), or
    (L + 1, N, H) from every layer with `layer="all"`, all from one pass over the texts.

    `lang` is the texts' language (XLM: its Moses rules and language embedding); texts longer
    than `max_length` tokens (or than the model's positions allow) are truncated.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}; found {pooling!r}")
    body = model.transformer_body
    depth = len(body.layers)
    if layer is not None and layer != "all" and not (isinstance(layer, int) and 0 <= layer <= depth):
        raise ValueError(f"layer must be 0..{depth} (0: the embeddings), 'all' or None (the last); found {layer!r}")
    texts = list(texts)
    device = next(model.parameters()).device
    langs = {"langs": lang} if lang is not None and getattr(model, "takes_langs", False) else {}
    max_length = min(max_length, model.config.max_tokens)
    wanted = list(range(depth + 1)) if layer == "all" else [depth if layer is None else layer]
    out = torch.empty(len(wanted), len(texts), _width(body))
    starts = range(0, len(texts), batch_size)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in tqdm(starts, desc="embedding", leave=False, disable=not progress):
                batch = tokenizer(texts[start:start + batch_size], lang=lang, max_length=max_length)
                ids, attention = batch["input_ids"].to(device), batch["attention_mask"].to(device)  # (B, T)
                states = hidden_states(body, ids, attention, wanted, **langs)  # each (B, T, H)
                for j, hidden in enumerate(states):
                    out[j, start:start + len(ids)] = pool(hidden.float(), attention, pooling).cpu()
    finally:
        model.train(was_training)
    return out if layer == "all" else out[0]


def _width(body: nn.Module) -> int:
    return body.embeddings.word.weight.shape[1]


def hidden_states(body: nn.Module, ids: torch.Tensor, attention: torch.Tensor, layers: list[int],
                  **kwargs) -> list[torch.Tensor]:
    """The outputs of the embedding layer (0) and of blocks 1..L that `layers` names, from one
    forward pass of the bare transformer `body` (hooks read them as they go by)."""
    caught: dict[int, torch.Tensor] = {}
    modules = [body.embeddings, *body.layers]
    handles = [modules[i].register_forward_hook(lambda _m, _in, output, i=i: caught.__setitem__(i, output))
               for i in layers]
    try:
        body(ids, attention, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return [caught[i] for i in layers]


def pool(hidden: torch.Tensor, attention: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, T, H) -> (B, H): the mean over real tokens, or the first token."""
    if pooling == "first":
        return hidden[:, 0]
    weights = attention.to(hidden.dtype)[:, :, None]  # (B, T, 1)
    return (hidden * weights).sum(1) / weights.sum(1)
