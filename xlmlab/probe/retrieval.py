"""Finding translations by nearest neighbour: how well an encoder lines its languages up.

For parallel sentences a_i (English) and b_i (another language), each a_i's nearest b by cosine
similarity should be b_i; the share that is, in each direction, is the top-1 retrieval accuracy
of the XLM-R paper's Tatoeba and BUCC analyses. Centring each language's vectors first (taking
away its mean vector) removes what all sentences of a language share, which otherwise decides
much of the similarity (`center=True`).

`overlap_retrieval_accuracy` is the same search without a model: candidates ranked by the share
of pieces they have in common with the query (Jaccard), the baseline a model must beat to show
that it does more than count shared names and look-alike words.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..tokenizers.base import Tokenizer
from .embed import embed


def retrieval_accuracy(a: torch.Tensor, b: torch.Tensor, *, center: bool = False) -> tuple[float, float]:
    """Top-1 accuracy of a -> b and b -> a for row-aligned vectors a, b: (N, H) each."""
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"a and b must be (N, H) of the same shape; found {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.double(), b.double()
    if center:
        a, b = a - a.mean(0), b - b.mean(0)
    a = torch.nn.functional.normalize(a, dim=1)
    b = torch.nn.functional.normalize(b, dim=1)
    similarity = a @ b.T  # (N, N): row i, column j = cos(a_i, b_j)
    truth = torch.arange(len(a))
    forward = (similarity.argmax(1) == truth).double().mean().item()
    backward = (similarity.argmax(0) == truth).double().mean().item()
    return forward, backward


def retrieval_by_layer(model: nn.Module, tokenizer: Tokenizer, source: Sequence[str], target: Sequence[str], *,
                       source_lang: str | None = None, target_lang: str | None = None, pooling: str = "mean",
                       center: bool = False) -> list[tuple[float, float]]:
    """(source -> target, target -> source) top-1 accuracy at every layer, 0 (the embeddings)
    to L, for the aligned sentence lists `source` and `target`."""
    if len(source) != len(target):
        raise ValueError(f"source and target must be aligned; found {len(source)} and {len(target)} sentences")
    a = embed(model, tokenizer, source, lang=source_lang, layer="all", pooling=pooling)  # (L + 1, N, H)
    b = embed(model, tokenizer, target, lang=target_lang, layer="all", pooling=pooling)
    return [retrieval_accuracy(x, y, center=center) for x, y in zip(a, b)]


def overlap_retrieval_accuracy(tokenizer: Tokenizer, source: Sequence[str], target: Sequence[str], *,
                               source_lang: str | None = None, target_lang: str | None = None) -> tuple[float, float]:
    """Top-1 accuracy of source -> target and back when each candidate is scored by the Jaccard
    overlap of its set of pieces with the query's (ties go to the first candidate)."""
    if len(source) != len(target):
        raise ValueError(f"source and target must be aligned; found {len(source)} and {len(target)} sentences")
    vocabulary: dict[str, int] = {}
    sets = [[{vocabulary.setdefault(piece, len(vocabulary)) for piece in tokenizer.tokenize(t, lang)} for t in texts]
            for texts, lang in ((source, source_lang), (target, target_lang))]
    a, b = (torch.zeros(len(side), max(len(vocabulary), 1), dtype=torch.float64) for side in sets)  # (N, pieces)
    for indicator, side in ((a, sets[0]), (b, sets[1])):
        for i, pieces in enumerate(side):
            indicator[i, list(pieces)] = 1.0
    shared = a @ b.T  # (N, N): pieces in common
    similarity = shared / (a.sum(1, keepdim=True) + b.sum(1) - shared).clamp(min=1)  # Jaccard
    truth = torch.arange(len(a))
    return ((similarity.argmax(1) == truth).double().mean().item(),
            (similarity.argmax(0) == truth).double().mean().item())
