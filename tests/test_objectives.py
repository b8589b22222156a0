"""The pretraining objectives: MLM masking as fairseq draws it, TLM pairs as XLM builds them."""

import numpy as np
import pytest
import torch
from conftest import reference_model, save_reference

import xlmlab
from xlmlab.pretrain import mask_tokens, sampling_probabilities, translation_pair
from xlmlab.pretrain.objectives import example_rng

MASK, LOW, HIGH = 99, 4, 90


def corrupt(ids, maskable, seed=0, epoch=0, index=0, **kwargs):
    return mask_tokens(ids, maskable, mask_id=MASK, random_ids=(LOW, HIGH), rng=example_rng(seed, epoch, index),
                       **kwargs)


def sentence(n=20):
    ids = np.concatenate([[0], np.arange(10, 10 + n), [2]])
    maskable = np.ones(len(ids), dtype=bool)
    maskable[[0, -1]] = False  # <s> and </s> are never chosen
    return ids, maskable


def test_fifteen_percent_of_the_maskable_tokens_are_chosen_on_average_and_never_a_special():
    ids, maskable = sentence(20)
    counts = []
    for index in range(4000):
        inputs, chosen = corrupt(ids, maskable, index=index)
        assert not chosen[~maskable].any() and (inputs[~maskable] == ids[~maskable]).all()
        assert (inputs[~chosen] == ids[~chosen]).all()  # only chosen tokens change
        counts.append(chosen.sum())
    # int(0.15 * 20 + u) is 3 always: exact for this length; a length of 13 gives 1.95 on average
    assert set(counts) == {3}
    ids, maskable = sentence(13)
    mean = np.mean([corrupt(ids, maskable, index=i)[1].sum() for i in range(4000)])
    assert mean == pytest.approx(0.15 * 13, abs=4 * 0.5 / np.sqrt(4000))


def test_chosen_tokens_become_mask_random_or_stay_eighty_ten_ten():
    ids, maskable = sentence(100)
    masked = random = kept = 0
    for index in range(1000):
        inputs, chosen = corrupt(ids, maskable, index=index)
        masked += (inputs[chosen] == MASK).sum()
        changed = (inputs[chosen] != MASK) & (inputs[chosen] != ids[chosen])
        random += changed.sum()
        kept += (inputs[chosen] == ids[chosen]).sum()
        assert ((inputs[chosen][changed] >= LOW) & (inputs[chosen][changed] < HIGH)).all()
    total = masked + random + kept  # 15,000 tokens: 4 standard deviations are under 1.4 points
    assert masked / total == pytest.approx(0.8, abs=0.014)
    # a random token equal to the original counts as kept: 1 in 86 of the random ones
    assert random / total == pytest.approx(0.1 * (1 - 1 / (HIGH - LOW)), abs=0.01)
    assert kept / total == pytest.approx(0.1 + 0.1 / (HIGH - LOW), abs=0.01)


def test_the_masking_of_an_example_depends_on_seed_epoch_and_index_only():
    ids, maskable = sentence(40)
    first = corrupt(ids, maskable, seed=1, epoch=2, index=7)
    again = corrupt(ids, maskable, seed=1, epoch=2, index=7)
    assert all((x == y).all() for x, y in zip(first, again))
    others = [corrupt(ids, maskable, seed=1, epoch=3, index=7), corrupt(ids, maskable, seed=2, epoch=2, index=7),
              corrupt(ids, maskable, seed=1, epoch=2, index=8)]
    assert all(not (o[0] == first[0]).all() for o in others)


def test_bad_shares_are_refused():
    ids, maskable = sentence()
    with pytest.raises(ValueError, match="summing to 1"):
        corrupt(ids, maskable, replace=(0.8, 0.1, 0.2))


def test_a_translation_pair_restarts_positions_and_switches_language():
    pair = translation_pair(np.array([2, 7, 8, 2]), np.array([2, 9, 2]), 1, 3)
    assert pair["input_ids"].tolist() == [2, 7, 8, 2, 2, 9, 2]
    assert pair["langs"].tolist() == [1, 1, 1, 1, 3, 3, 3]
    assert pair["positions"].tolist() == [0, 1, 2, 3, 0, 1, 2]


def test_a_translation_pair_runs_through_xlm_as_through_the_reference(tmp_path):
    reference = reference_model("XLMWithLMHeadModel", causal=False)
    save_reference(reference, tmp_path, "safetensors")
    ours = xlmlab.load_model(tmp_path)
    pair = {k: torch.from_numpy(v)[None] for k, v in translation_pair(np.array([1, 7, 8, 9, 1]),
                                                                          np.array([1, 10, 11, 1]), 0, 2).items()}
    with torch.no_grad():
        theirs = reference(input_ids=pair["input_ids"], langs=pair["langs"], position_ids=pair["positions"]).logits
        mine = ours(pair["input_ids"], langs=pair["langs"], positions=pair["positions"])
    assert (mine - theirs).abs().max().item() <= 1e-5


def test_language_sampling_flattens_with_smaller_alpha():
    counts = {"en": 900, "sw": 100}
    assert sampling_probabilities(counts, 1.0) == pytest.approx({"en": 0.9, "sw": 0.1})
    assert sampling_probabilities(counts, 0.0) == pytest.approx({"en": 0.5, "sw": 0.5})
    assert sampling_probabilities(counts, 0.3)["sw"] == pytest.approx(0.1**0.3 / (0.9**0.3 + 0.1**0.3))
    with pytest.raises(ValueError, match="count of 0"):
        sampling_probabilities({"en": 0}, 0.3)
