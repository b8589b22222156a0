"""How sure a measured share is: 95% intervals for the accuracies the notebooks report.

    proportion_interval(180, 225)         (0.74, 0.85): Wilson's interval for 180 right of 225
    ratio_interval(correct, counted)      a share summed over units (sentences) that each hold
                                          several trials (masked tokens), bootstrapped over the
                                          units, since the trials of one sentence are not
                                          independent

Both are plain functions of their inputs (the bootstrap draws from a seeded numpy generator), so
the same numbers give the same interval on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1; found {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def proportion_interval(successes: int, trials: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial share: right at 0 and at `trials` successes, where
    the textbook p +- z sqrt(p(1-p)/n) collapses to a point."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0; found {successes} of {trials}")
    z, p = _z(confidence), successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def ratio_interval(numerators: Sequence[float], denominators: Sequence[float], *, confidence: float = 0.95,
                   resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of sum(numerators) / sum(denominators), resampling the units
    (rows) with replacement: for an accuracy over masked tokens, the sentences that hold them."""
    top, bottom = np.asarray(numerators, dtype=np.float64), np.asarray(denominators, dtype=np.float64)
    if top.shape != bottom.shape or top.ndim != 1 or len(top) == 0:
        raise ValueError(f"numerators and denominators must be equal-length, non-empty lists; "
                         f"found shapes {top.shape} and {bottom.shape}")
    if bottom.sum() <= 0:
        raise ValueError("the denominators sum to zero: nothing was counted")
    _z(confidence)
    picks = np.random.default_rng(seed).integers(0, len(top), size=(resamples, len(top)))
    ratios = top[picks].sum(1) / np.maximum(bottom[picks].sum(1), 1e-300)
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return float(low), float(high)
