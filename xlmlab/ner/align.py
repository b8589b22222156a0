"""Word tags onto sub-word pieces: the first piece of a word carries its tag, the rest are ignored.

NER data is tagged per word, the model sees pieces. XLM-R's tokenizer splits "Lovelace" into
"▁Love" "lace"; the reference recipe (and XLM-R's NER runs) labels the first piece and sets the
others to -100, the index `cross_entropy` ignores, so each word counts once in the loss whatever
its length. At prediction time the first piece's tag is the word's tag:

    words   Ada        Lovelace            visited
    pieces  <s> ▁Ada   ▁Love   lace   ▁visit  ed   </s>
    labels  -100 B-PER I-PER   -100   O       -100 -100

Each word is tokenised on its own, as `is_split_into_words=True` does in the reference: a
SentencePiece word starts with "▁"; XLM's Moses + BPE runs per word with the sentence's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..train.batching import EncodedRows, pad_right
from .data import DataError

IGNORE = -100  # the label of pieces that are not scored (cross_entropy's ignore_index)


@dataclass
class EncodedWords(EncodedRows):
    """Token ids of each sentence with one label per piece (IGNORE but on first pieces)."""

    labels: list[np.ndarray]
    first_piece: list[np.ndarray]  # positions of each word's first piece (words cut by truncation are absent)
    n_words: np.ndarray  # (N,) words per sentence, truncated or not

    def collate(self, rows: np.ndarray | list[int]) -> dict[str, torch.Tensor]:
        """Right-padded tensors for the given rows; labels (B, T) with IGNORE on padding."""
        return self.batch(rows, pad_right([self.labels[i] for i in rows], IGNORE))


def word_pieces(tokenizer, words: list[str], lang: str | None = None) -> list[np.ndarray]:
    """The ids of each word, tokenised on its own (no special tokens).

    ["Ada", "Lovelace"] -> [array([id('▁Ada')]), array([id('▁Love'), id('lace')])]
    """
    flat, lengths = tokenizer.encode_ragged(words, lang)  # SentencePiece ignores the language
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(words) else []


def align(tokenizer, words: list[str], tags: list[int], *, max_length: int = 128,
          lang: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, labels, first-piece positions) of one sentence: `<s> pieces </s>`, cut to `max_length`.

    A word whose pieces do not fit is dropped whole; a word with no pieces at all (a character
    the tokenizer drops) gets the unknown piece so that it still has a prediction.
    """
    start, end = list(tokenizer.layout.start), list(tokenizer.layout.end)
    budget = max_length - len(start) - len(end)
    ids, labels, first = list(start), [IGNORE] * len(start), []
    for pieces, tag in zip(word_pieces(tokenizer, words, lang), tags):
        pieces = pieces.tolist() or [tokenizer.unk_token_id]
        if len(ids) - len(start) + len(pieces) > budget:
            break
        first.append(len(ids))
        ids += pieces
        labels += [tag] + [IGNORE] * (len(pieces) - 1)
    ids += end
    labels += [IGNORE] * len(end)
    return np.array(ids, dtype=np.int64), np.array(labels, dtype=np.int64), np.array(first, dtype=np.int64)


def encode_words(tokenizer, frame: pd.DataFrame, labels: list[str], *, max_length: int = 128,
                 lang2id: dict[str, int] | None = None) -> EncodedWords:
    """Every sentence of a `read_ner` table as pieces with aligned label ids.

    XLM's tokenizer runs Moses with each sentence's own language; `lang2id` (XLM models) also
    gives each sentence its language id.
    """
    label_ids = {name: i for i, name in enumerate(labels)}
    if lang2id is not None:
        unknown = sorted(set(frame["language"]) - set(lang2id))
        if unknown:
            raise DataError(f"the model has language embeddings for {sorted(lang2id)}, not for {unknown}")
    ids, aligned, firsts = [], [], []
    for n, (lang, words, tags) in enumerate(zip(frame["language"], frame["tokens"], frame["tags"])):
        missing = sorted(set(tags) - set(label_ids))
        if missing:
            raise DataError(f"row {n} ({lang}): tags {missing} are not among the model's labels {labels}")
        row = align(tokenizer, list(words), [label_ids[t] for t in tags], max_length=max_length, lang=lang)
        ids.append(row[0])
        aligned.append(row[1])
        firsts.append(row[2])
    langs = None if lang2id is None else np.array([lang2id[lang] for lang in frame["language"]], dtype=np.int64)
    n_words = np.fromiter((len(t) for t in frame["tokens"]), dtype=np.int64, count=len(frame))
    return EncodedWords(ids=ids, langs=langs, pad_id=tokenizer.pad_token_id, labels=aligned, first_piece=firsts,
                        n_words=n_words)
