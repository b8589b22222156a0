"""Pretraining examples: streams of full sentences (MLM) and translation pairs (TLM), masked anew
every epoch.

    MLM   sentences of one language packed into blocks of at most `max_length` tokens, as
          fairseq's `--sample-break-mode complete` does for XLM-R: <s> s1 </s> s2 </s> ... (a
          sentence is never cut across blocks; one longer than a block is truncated)
    TLM   one sentence and its translation, each with its own specials, language and positions
          (`objectives.translation_pair`); XLM models only, since XLM-R has no language embeddings

Languages are sampled with exponent alpha (`objectives.sampling_probabilities`): each language's
blocks are drawn, with replacement where it has too few, until its share of the examples is q_l.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .objectives import example_rng, mask_tokens, sampling_probabilities, translation_pair


@dataclass
class MaskedExamples:
    """Token ids of each example (specials included), masked when collated, per epoch."""

    ids: list[np.ndarray]
    language: list[str]  # the language of each example (TLM: the non-English side)
    mask_id: int
    pad_id: int
    special_ids: frozenset[int]
    random_ids: tuple[int, int]  # ordinary ids [low, high) a random replacement is drawn from
    seed: int = 0
    langs: list[np.ndarray] | None = None  # XLM: the language id of every token
    positions: list[np.ndarray] | None = None  # TLM: positions restarting at the second sentence
    epoch: int = field(default=0)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.ids), dtype=np.int64, count=len(self.ids))

    def piece_counts(self, language: str | None = None) -> np.ndarray:
        """How often each ordinary piece occurs in the examples (of one `language`): index = id.
        Its argmax is the unigram baseline's answer; normalised, the unigram distribution."""
        rows = [ids for ids, lang in zip(self.ids, self.language) if language in (None, lang)]
        flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        return np.bincount(flat[~np.isin(flat, list(self.special_ids))])

    def set_epoch(self, epoch: int) -> None:
        """The masks of `epoch`: every epoch masks each example anew (the runner calls this)."""
        self.epoch = epoch

    def collate(self, rows) -> dict[str, torch.Tensor]:
        """Right-padded, masked tensors for the given rows: the model's inputs, `masked_positions`
        (B, T) and the `targets` (M,), the original ids of the masked positions in row-major order."""
        T = max(len(self.ids[i]) for i in rows)
        B = len(rows)
        inputs = np.full((B, T), self.pad_id, dtype=np.int64)
        chosen = np.zeros((B, T), dtype=bool)
        targets = []
        for r, i in enumerate(rows):
            ids = self.ids[i]
            maskable = ~np.isin(ids, list(self.special_ids))
            masked, picked = mask_tokens(ids, maskable, mask_id=self.mask_id, random_ids=self.random_ids,
                                         rng=example_rng(self.seed, self.epoch, int(i)))
            inputs[r, :len(ids)] = masked
            chosen[r, :len(ids)] = picked
            targets.append(ids[picked])
        batch = {"input_ids": torch.from_numpy(inputs),
                 "attention_mask": torch.from_numpy((np.arange(T)[None, :] < self.lengths[list(rows)][:, None])
                                                    .astype(np.int64)),
                 "masked_positions": torch.from_numpy(chosen),
                 "targets": torch.from_numpy(np.concatenate(targets).astype(np.int64))}
        for name, per_row in (("langs", self.langs), ("positions", self.positions)):
            if per_row is not None:
                padded = np.zeros((B, T), dtype=np.int64)
                for r, i in enumerate(rows):
                    padded[r, :len(per_row[i])] = per_row[i]
                    if name == "langs":
                        padded[r, len(per_row[i]):] = per_row[i][-1]
                batch[name] = torch.from_numpy(padded)
        return batch


def ordinary_ids(tokenizer) -> tuple[int, int]:
    """[low, high): the ids of ordinary pieces, from which random replacements are drawn."""
    ordinary = [i for i in range(tokenizer.vocab_size) if i not in tokenizer.special_ids]
    low, high = ordinary[0], ordinary[-1] + 1
    if high - low != len(ordinary):
        raise ValueError("the tokenizer's special ids are not all before or after its ordinary ids")
    return low, high


def _sentence_ids(tokenizer, texts: list[str], lang: str) -> list[np.ndarray]:
    kwargs = {"lang": lang} if getattr(tokenizer, "lang2id", None) else {}
    flat, lengths = tokenizer.encode_ragged(texts, **kwargs)
    return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []


def sentence_streams(tokenizer, texts: list[str], lang: str, max_length: int, *, seed: int = 0) -> list[np.ndarray]:
    """Blocks of whole sentences of one language, in an order fixed by `seed`."""
    start, end = list(tokenizer.layout.start), list(tokenizer.layout.end)
    room = max_length - len(start)
    sentences = _sentence_ids(tokenizer, texts, lang)
    order = np.random.default_rng([seed, len(texts)]).permutation(len(sentences))
    blocks, block = [], []
    for i in order:
        sentence = list(sentences[i][:room - len(end)]) + end  # a sentence longer than a block is cut
        if block and len(block) + len(sentence) > room:
            blocks.append(np.array(start + block, dtype=np.int64))
            block = []
        block += sentence
    if block:
        blocks.append(np.array(start + block, dtype=np.int64))
    return blocks


def examples(tokenizer, frame: pd.DataFrame, *, objective: str, max_length: int, seed: int = 0,
             alpha: float | None = None, lang2id: dict[str, int] | None = None) -> MaskedExamples:
    """Examples of `objective` ("mlm" or "tlm") from parallel pairs (columns language, en, text).

    MLM uses every distinct sentence of both sides as monolingual text, English included; TLM
    the pairs. `alpha` resamples the languages (None: as the data is).
    """
    if objective not in ("mlm", "tlm"):
        raise ValueError(f"objective {objective!r}; expected 'mlm' or 'tlm'")
    if objective == "tlm" and not lang2id:
        raise ValueError("TLM needs a model with language embeddings (XLM): each side has its own language id")
    by_language: dict[str, list[dict]] = {}
    if objective == "mlm":
        texts = {"en": sorted(set(frame["en"]))} | {lang: sorted(set(g["text"]))
                                                     for lang, g in frame.groupby("language", sort=True)}
        for lang, sentences in texts.items():
            for block in sentence_streams(tokenizer, sentences, lang, max_length, seed=seed):
                item = {"ids": block}
                if lang2id:
                    item["langs"] = np.full(len(block), lang2id[lang], dtype=np.int64)
                by_language.setdefault(lang, []).append(item)
    else:
        half = max_length // 2
        for lang, group in frame.groupby("language", sort=True):
            en = _sentence_ids(tokenizer, group["en"].tolist(), "en")
            xx = _sentence_ids(tokenizer, group["text"].tolist(), lang)
            wrap = list(tokenizer.layout.start), list(tokenizer.layout.end)
            for a, b in zip(en, xx):
                a = np.array(wrap[0] + list(a[:half - 2]) + wrap[1])
                b = np.array(wrap[0] + list(b[:half - 2]) + wrap[1])
                pair = translation_pair(a, b, lang2id["en"], lang2id[lang])
                by_language.setdefault(lang, []).append({"ids": pair["input_ids"], "langs": pair["langs"],
                                                         "positions": pair["positions"]})
    chosen = _resample(by_language, alpha, seed)
    items = [(lang, by_language[lang][i]) for lang, i in chosen]
    return MaskedExamples(
        ids=[it["ids"] for _, it in items], language=[lang for lang, _ in items],
        mask_id=tokenizer.mask_token_id, pad_id=tokenizer.pad_token_id, special_ids=tokenizer.special_ids,
        random_ids=ordinary_ids(tokenizer), seed=seed,
        langs=[it["langs"] for _, it in items] if lang2id else None,
        positions=[it["positions"] for _, it in items] if objective == "tlm" else None)


def _resample(by_language: dict[str, list], alpha: float | None, seed: int) -> list[tuple[str, int]]:
    """(language, index) of every example: all of them, or each language's share q_l of the total."""
    if alpha is None:
        return [(lang, i) for lang, items in by_language.items() for i in range(len(items))]
    counts = {lang: len(items) for lang, items in by_language.items()}
    total = sum(counts.values())
    rng = np.random.default_rng([seed, 1])
    chosen = []
    for lang, q in sampling_probabilities(counts, alpha).items():
        n, have = round(q * total), counts[lang]
        picks = rng.permutation(have)[:n] if n <= have else rng.integers(0, have, n)
        chosen += [(lang, int(i)) for i in picks]
    return chosen
