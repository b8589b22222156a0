"""What both tokenizers share: special-token layouts, truncation, padding to tensors, loading.

A subclass turns texts into ids without special tokens, as one flat array and the length of
each text (`_ids_batch`); everything after that is here, written with numpy so that a batch of
thousands of texts never goes through a Python loop per token:

    texts -> ids per text -> truncated lengths -> one padded (B, L) array with the specials placed

The two families differ in one layout detail:
    XLM-R / XLM-V   <s> A </s>    <s> A </s></s> B </s>    token types all 0
    XLM             <s> A </s>    <s> A </s> B </s>        token types 0 for A's part, 1 for B's
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import torch


class TokenizerError(ValueError):
    """Input a tokenizer cannot take, or a tokenizer file that cannot be read."""


def check_text(text: object, what: str = "text") -> str:
    """A str that UTF-8 can encode, or a TokenizerError saying what was found instead."""
    if not isinstance(text, str):
        raise TokenizerError(f"{what} must be a str; found {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise TokenizerError(f"{what} contains a lone surrogate U+{ord(text[err.start]):04X} at index {err.start}; "
                             "it cannot be encoded as UTF-8 (decode the source with errors='replace')") from None
    return text


def check_texts(texts: object, what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        return [check_text(texts, what)]
    if not isinstance(texts, Sequence):
        raise TokenizerError(f"{what} must be a str or a list of str; found {type(texts).__name__}")
    return [check_text(t, f"{what}[{i}]") for i, t in enumerate(texts)]


def longest_first(len_a: np.ndarray, len_b: np.ndarray, budget: np.ndarray | int,
                  odd_token_to_longer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Kept lengths when a pair must fit `budget` tokens, the longer side trimmed first, in closed form.

    When trimming the longer side alone is not enough, both end level and one side keeps the odd
    token: the first side in the reference's Python tokenizers (XLM), the longer side (the second
    on ties) in its `tokenizers` library (XLM-R / XLM-V):

        (6, 3), budget 7 -> (4, 3) either way
        (5, 5), budget 7 -> (4, 3) first / (3, 4) longer
        (3, 6), budget 5 -> (3, 2) first / (2, 3) longer
    """
    budget = np.maximum(budget, 0)
    excess = np.maximum(len_a + len_b - budget, 0)
    a_longer = len_a > len_b
    alone = np.abs(len_a - len_b) >= excess  # the longer side alone absorbs the excess
    a = np.where(alone & a_longer, len_a - excess, len_a)
    b = np.where(alone & ~a_longer, len_b - excess, len_b)
    odd_to_a = a_longer if odd_token_to_longer else np.ones_like(a_longer)
    a = np.where(alone, a, budget // 2 + (budget % 2) * odd_to_a)
    b = np.where(alone, b, budget - a)
    return a, b


@dataclass(frozen=True)
class Layout:
    """Where the special tokens go: start A middle B end (single sequences: start A end)."""

    start: tuple[int, ...]
    middle: tuple[int, ...]
    end: tuple[int, ...]
    second_segment_type: int  # token type of B and what follows it
    odd_token_to_longer: bool  # see longest_first

    def count(self, pair: bool) -> int:
        return len(self.start) + len(self.end) + (len(self.middle) if pair else 0)


def _place(out: np.ndarray, offsets: np.ndarray, flat: np.ndarray, starts: np.ndarray, keep: np.ndarray) -> None:
    """Copy the first keep[r] ids of row r (stored at flat[starts[r]:]) to out[r, offsets[r]:]."""
    rows = np.repeat(np.arange(len(keep)), keep)
    within = np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
    out[rows, np.repeat(offsets, keep) + within] = flat[np.repeat(starts, keep) + within]


Ragged = tuple[np.ndarray, np.ndarray]  # (all ids of a batch in one array, length of each row)


def ragged(rows: list[list[int]]) -> Ragged:
    """[[5, 6], [], [7]] -> (array([5, 6, 7]), array([2, 0, 1])), without a Python loop per id."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=int(lengths.sum()))
    return flat, lengths


class Tokenizer:
    """The shared front: `tokenize`, `encode`, `decode`, id <-> token and batch calls returning tensors.

    A subclass sets the special ids (`bos_token_id`, `eos_token_id`, `pad_token_id`,
    `unk_token_id`, `mask_token_id`), `special_ids` (what `decode` skips), `layout` and
    `vocab_size`, and implements the per-item steps marked below.
    """

    layout: Layout
    bos_token_id: int
    eos_token_id: int
    pad_token_id: int
    unk_token_id: int
    mask_token_id: int
    special_ids: frozenset[int]
    vocab_size: int
    model_max_length: int = 512

    # implemented by each tokenizer ------------------------------------------------------------
    def _ids_batch(self, texts: list[str], lang: str | None) -> Ragged:
        """Ids of many texts without special tokens, as one flat array and the length of each."""
        raise NotImplementedError

    def tokenize(self, text: str, lang: str | None = None) -> list[str]:
        raise NotImplementedError

    def _token(self, i: int) -> str:
        """The token string of one id."""
        raise NotImplementedError

    def _id(self, token: str) -> int:
        """The id of one token string (the unknown id when the vocabulary lacks it)."""
        raise NotImplementedError

    def _join(self, tokens: list[str], lang: str | None) -> str:
        """Text from token strings, as the reference decodes them."""
        raise NotImplementedError

    # shared -----------------------------------------------------------------------------------
    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | list[str]:
        """One id -> its token; a list (or tensor) of ids -> a list of tokens."""
        if isinstance(ids, int):
            return self._token(ids)
        return [self._token(int(i)) for i in ids]

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """One token -> its id; a list of tokens -> a list of ids."""
        return self._id(tokens) if isinstance(tokens, str) else [self._id(t) for t in tokens]

    def decode(self, ids: Sequence[int] | torch.Tensor, skip_special_tokens: bool = True,
               lang: str | None = None) -> str:
        """Text of the ids, special tokens dropped unless asked otherwise (`lang`: XLM's Moses rules)."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        ids = [int(i) for i in ids]
        if skip_special_tokens:
            ids = [i for i in ids if i not in self.special_ids]
        return self._join([self._token(i) for i in ids], lang)

    def encode_ragged(self, texts: Sequence[str], lang: str | None = None) -> Ragged:
        """Ids of many texts without special tokens: (all ids in one array, length of each text)."""
        return self._ids_batch(check_texts(texts), lang)

    def encode(self, text: str, text_pair: str | None = None, *, lang: str | None = None,
               add_special_tokens: bool = True) -> list[int]:
        """Ids of one text (or pair), with special tokens unless asked otherwise; no truncation."""
        a = self._ids_batch([check_text(text)], lang)[0].tolist()
        b = None if text_pair is None else self._ids_batch([check_text(text_pair, "text_pair")], lang)[0].tolist()
        if not add_special_tokens:
            return a if b is None else a + b
        ids = list(self.layout.start) + a + (list(self.layout.end) if b is None else
                                             list(self.layout.middle) + b + list(self.layout.end))
        self._warn_if_long(len(ids))
        return ids

    def __call__(self, texts: str | Sequence[str], text_pairs: str | Sequence[str] | None = None, *,
                 lang: str | None = None, padding: bool | str = True, truncation: bool = True,
                 max_length: int | None = None) -> dict[str, torch.Tensor]:
        """Encode a batch into `input_ids`, `attention_mask` (and `token_type_ids` for pairs,
        `langs` for XLM) as (B, L) LongTensors.

        padding: True pads to the longest row, "max_length" to `max_length`.
        truncation: cut rows to `max_length` (default: the model's 512); pairs lose tokens from
        the longer side first.
        """
        a = self._ids_batch(check_texts(texts), lang)
        b = None if text_pairs is None else self._ids_batch(check_texts(text_pairs, "text_pairs"), lang)
        if b is not None and len(b[1]) != len(a[1]):
            raise TokenizerError(f"texts and text_pairs must have the same length; found {len(a[1])} and {len(b[1])}")
        if padding not in (True, "longest", "max_length"):
            raise TokenizerError(f"padding must be True, 'longest' or 'max_length'; found {padding!r} "
                                 "(rows of different lengths need padding to form a tensor)")
        limit = self.model_max_length if max_length is None else max_length
        batch = self._assemble(a, b, limit if truncation else None)
        if not truncation:
            self._warn_if_long(batch["input_ids"].shape[1])
        if padding == "max_length" and batch["input_ids"].shape[1] < limit:
            batch = self._pad_to(batch, limit)
        return batch

    def _assemble(self, a: Ragged, b: Ragged | None, limit: int | None) -> dict[str, torch.Tensor]:
        """Ragged ids of the first (and second) texts -> padded (B, T) arrays with the specials placed.

            a = [5 6 7], b = [8 9], XLM-R layout   ->   <s> 5 6 7 </s> </s> 8 9 </s> <pad> ...
        """
        L = self.layout
        pair = b is not None
        flat_a, len_a = a
        start_a = np.cumsum(len_a) - len_a  # where each row's ids begin in the flat array
        # 1. how many ids of each text survive truncation (the specials' room comes off first)
        if not pair:
            keep_a = len_a if limit is None else np.minimum(len_a, max(limit - L.count(False), 0))
            keep_b = np.zeros_like(keep_a)
        else:
            flat_b, len_b = b
            start_b = np.cumsum(len_b) - len_b
            if limit is None:
                keep_a, keep_b = len_a, len_b
            else:
                keep_a, keep_b = longest_first(len_a, len_b, limit - L.count(True), L.odd_token_to_longer)
        # 2. one padded array as long as the longest row
        lengths = keep_a + keep_b + L.count(pair)  # (B,)
        B = len(len_a)
        T = int(lengths.max()) if B else 0
        ids = np.full((B, T), self.pad_token_id, dtype=np.int64)  # (B, T)
        types = np.zeros((B, T), dtype=np.int64)  # (B, T)
        rows = np.arange(B)[:, None]  # (B, 1)
        # 3. the start specials, then the first text right after them
        ids[:, :len(L.start)] = L.start
        a_at = np.full(B, len(L.start))
        _place(ids, a_at, flat_a, start_a, keep_a)
        end_at = a_at + keep_a  # (B,) where the next part goes in each row
        # 4. for a pair: the middle specials, the second text, and its token type
        if pair:
            ids[rows, end_at[:, None] + np.arange(len(L.middle))] = L.middle
            b_at = end_at + len(L.middle)
            _place(ids, b_at, flat_b, start_b, keep_b)
            end_at = b_at + keep_b
            columns = np.arange(T)[None, :]  # (1, T)
            types[(columns >= b_at[:, None]) & (columns < lengths[:, None])] = L.second_segment_type
        # 5. the end specials; everything after them stays padding, hidden by the mask
        ids[rows, end_at[:, None] + np.arange(len(L.end))] = L.end
        mask = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
        out = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask.astype(np.int64))}
        if pair:
            out["token_type_ids"] = torch.from_numpy(types)
        return out

    def _pad_to(self, batch: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
        extra = length - batch["input_ids"].shape[1]
        fill = {"input_ids": self.pad_token_id}
        return {k: torch.nn.functional.pad(v, (0, extra), value=fill.get(k, 0)) for k, v in batch.items()}

    def _warn_if_long(self, length: int) -> None:
        if length > self.model_max_length and not getattr(self, "_warned_long", False):
            self._warned_long = True
            warnings.warn(f"a sequence of {length} tokens is longer than the model's {self.model_max_length} "
                          "positions; truncate it (truncation=True) before running the model", stacklevel=3)


def read_tokenizer_config(directory: Path) -> dict:
    path = directory / "tokenizer_config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise TokenizerError(f"{path}, line {err.lineno}: not valid JSON ({err.msg})") from None
