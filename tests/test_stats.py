"""The intervals the notebooks draw around accuracies."""

import numpy as np
import pytest

from xlmlab.stats import proportion_interval, ratio_interval


@pytest.mark.parametrize("successes, trials, expected", [
    (5, 10, (0.2366, 0.7634)),   # Wilson's interval as tabulated (Newcombe 1998, z = 1.96)
    (0, 10, (0.0, 0.2775)),      # stays inside [0, 1] where the plain normal interval is a point
    (81, 263, (0.2553, 0.3662)),  # Newcombe's worked example
])
def test_wilson_interval_matches_the_published_values(successes, trials, expected):
    assert proportion_interval(successes, trials) == pytest.approx(expected, abs=1e-4)


def test_wilson_interval_covers_the_true_share_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    p, n = 0.3, 50
    draws = rng.binomial(n, p, size=4000)
    covered = np.mean([low <= p <= high for low, high in (proportion_interval(int(k), n) for k in draws)])
    assert 0.93 < covered < 0.97


def test_the_bootstrap_interval_holds_the_estimate_narrows_with_more_units_and_repeats():
    rng = np.random.default_rng(1)
    counted = rng.integers(1, 6, size=400)
    correct = rng.binomial(counted, 0.4)
    estimate = correct.sum() / counted.sum()
    low, high = ratio_interval(correct, counted)
    assert low < estimate < high and 0.3 < low and high < 0.5
    small = ratio_interval(correct[:50], counted[:50])
    assert small[1] - small[0] > 1.5 * (high - low)  # 8x the units: about 1/sqrt(8) the width
    assert ratio_interval(correct, counted) == (low, high)  # seeded


def test_the_bootstrap_agrees_with_wilson_when_every_unit_is_one_trial():
    hits = np.r_[np.ones(120), np.zeros(280)]
    low, high = ratio_interval(hits, np.ones_like(hits), resamples=20000)
    wilson = proportion_interval(120, 400)
    assert low == pytest.approx(wilson[0], abs=0.01) and high == pytest.approx(wilson[1], abs=0.01)


def test_bad_inputs_are_refused_with_what_was_found():
    with pytest.raises(ValueError, match="11 of 10"):
        proportion_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        proportion_interval(1, 10, confidence=95)
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        ratio_interval([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="nothing was counted"):
        ratio_interval([0, 0], [0, 0])
