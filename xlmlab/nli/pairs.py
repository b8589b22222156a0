"""NLI pairs as token ids: `<s> premise </s></s> hypothesis </s>` (XLM-R), ready for batches.

Pairs are tokenised once, in chunks, truncated longest-first; a batch is padded only as far as
its longest pair needs (`collate`), and the runner groups pairs of similar length
(`train.batching`), so little compute goes to padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..train.batching import EncodedRows
from .xnli import DataError


@dataclass
class EncodedPairs(EncodedRows):
    """Token ids of each pair (`<s> premise </s></s> hypothesis </s>` for XLM-R), with labels."""

    labels: np.ndarray  # (N,)

    def collate(self, rows: np.ndarray | list[int]) -> dict[str, torch.Tensor]:
        return self.batch(rows, self.labels[np.asarray(rows)])


def encode_pairs(tokenizer, frame: pd.DataFrame, *, max_length: int = 128, lang2id: dict[str, int] | None = None,
                 chunk: int = 4096) -> EncodedPairs:
    """Tokenise premise/hypothesis pairs with a project tokenizer, truncated longest-first.

    `lang2id` (XLM models) also gives each pair its language id; XLM's tokenizer then runs Moses
    with each pair's own language.
    """
    premises, hypotheses = frame["premise"].tolist(), frame["hypothesis"].tolist()
    languages = frame["language"].tolist()
    if lang2id is not None:
        unknown = sorted(set(languages) - set(lang2id))
        if unknown:
            raise DataError(f"the model has language embeddings for {sorted(lang2id)}, not for {unknown}")
    groups = [(None, np.arange(len(frame)))] if lang2id is None else \
        [(lang, np.flatnonzero(frame["language"].to_numpy() == lang)) for lang in dict.fromkeys(languages)]
    out: list[np.ndarray | None] = [None] * len(frame)
    for lang, rows in groups:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            kwargs = {} if lang is None else {"lang": lang}
            batch = tokenizer([premises[i] for i in part], [hypotheses[i] for i in part], truncation=True,
                              max_length=max_length, padding=True, **kwargs)
            lengths = batch["attention_mask"].sum(1).numpy()
            rows_ids = batch["input_ids"].numpy()
            for r, i in enumerate(part):
                out[i] = rows_ids[r, :lengths[r]].copy()
    langs = None if lang2id is None else np.array([lang2id[lang] for lang in languages], dtype=np.int64)
    return EncodedPairs(ids=out, langs=langs, pad_id=tokenizer.pad_token_id,
                        labels=frame["label"].to_numpy(dtype=np.int64))
