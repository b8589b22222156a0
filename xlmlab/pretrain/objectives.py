"""The pretraining objectives side by side: what the model sees and what it must predict.

    MLM   (XLM-R, XLM-V, BERT)  15% of a sentence's tokens are chosen; of those, 80% become <mask>,
                                10% a random token, 10% stay; the model predicts the originals
    TLM   (XLM)                 a sentence and its translation as one sequence, masked on both
                                sides: to fill a gap the model may look at the other language.
                                Each side has its own language id; positions restart at the second
    CLM   (XLM, notebook 03)    predict every next token, attending only to the left

A worked MLM example (mask id 9, random ids drawn from 4..8, `maskable` False at <s> and </s>):

    ids      <s>  5  6  7  8  5  </s>      ->   inputs   <s>  5  9  7  8  4  </s>
                                                targets        ^        ^          (6 and 5)

The masking of an example is drawn from (seed, epoch, index): each epoch masks a sentence anew,
and a resumed run masks exactly as an uninterrupted one, whatever the batch it falls in.
"""

from __future__ import annotations

import numpy as np

MASK_PROBABILITY = 0.15
REPLACE = (0.8, 0.1, 0.1)  # of the chosen tokens: <mask>, a random token, unchanged


def example_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The random stream of one example in one epoch: independent of batching and of resuming."""
    return np.random.default_rng([seed, epoch, index])


def mask_tokens(ids: np.ndarray, maskable: np.ndarray, *, mask_id: int, random_ids: tuple[int, int],
                rng: np.random.Generator, p: float = MASK_PROBABILITY,
                replace: tuple[float, float, float] = REPLACE) -> tuple[np.ndarray, np.ndarray]:
    """MLM corruption of one sequence: (inputs, chosen), both (T,); the targets are ids[chosen].

    As fairseq's MaskTokensDataset: the number chosen is int(p * n + u), u ~ U(0, 1), over the n
    maskable positions (its expectation is exactly p * n, also for short sentences), drawn
    without replacement; then each chosen token becomes <mask>, a random ordinary token from
    [random_ids[0], random_ids[1]), or stays, with the probabilities `replace`.
    """
    if not np.isclose(sum(replace), 1.0):
        raise ValueError(f"replace must give the shares of <mask>, random and unchanged, summing to 1; found {replace}")
    # 1. how many tokens to choose, and which
    candidates = np.flatnonzero(maskable)
    count = min(int(p * len(candidates) + rng.random()), len(candidates))
    chosen = np.zeros(len(ids), dtype=bool)
    chosen[rng.choice(candidates, size=count, replace=False)] = True
    # 2. what each chosen token becomes: <mask>, a random token, or itself
    inputs = ids.copy()
    where = np.flatnonzero(chosen)
    u = rng.random(len(where))
    to_mask = where[u < replace[0]]
    to_random = where[(u >= replace[0]) & (u < replace[0] + replace[1])]
    inputs[to_mask] = mask_id
    inputs[to_random] = rng.integers(random_ids[0], random_ids[1], size=len(to_random))
    return inputs, chosen


def translation_pair(a: np.ndarray, b: np.ndarray, lang_a: int, lang_b: int) -> dict[str, np.ndarray]:
    """TLM's input: a sentence and its translation as one sequence, as XLM builds it.

    Each side keeps its own special tokens (XLM writes `</s> ... </s>` around every sentence),
    carries its own language id, and counts its positions from 0:

        a = [2, 7, 8, 2], b = [2, 9, 2], en = 1, fr = 3
        -> input_ids [2, 7, 8, 2, 2, 9, 2], langs [1, 1, 1, 1, 3, 3, 3], positions [0, 1, 2, 3, 0, 1, 2]
    """
    return {"input_ids": np.concatenate([a, b]),
            "langs": np.concatenate([np.full(len(a), lang_a), np.full(len(b), lang_b)]),
            "positions": np.concatenate([np.arange(len(a)), np.arange(len(b))])}


def sampling_probabilities(counts: dict[str, int], alpha: float) -> dict[str, float]:
    """Language sampling with exponent alpha: q_i = p_i^alpha / sum_j p_j^alpha, p_i = n_i / sum n.

    alpha = 1 samples as the data is; smaller values raise the share of small languages (XLM-R
    uses 0.3, XLM 0.5 and 0.7 in its ablations):

        {"en": 900, "sw": 100}, alpha 0.3  ->  {"en": 0.66, "sw": 0.34}
    """
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("no sentences: every language has a count of 0")
    weights = {lang: (n / total) ** alpha for lang, n in counts.items()}
    norm = sum(weights.values())
    return {lang: w / norm for lang, w in weights.items()}
