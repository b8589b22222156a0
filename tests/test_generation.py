"""Generation with the key/value cache gives what re-running the whole prefix gives, and what the
reference model gives when run causally, step by step."""

from __future__ import annotations

import pytest
import torch
from conftest import reference_model

import xlmlab
from xlmlab.models.generation import beam_search, generate, stream


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The reference XLM (causal) and the same weights loaded by xlmlab from a causal: false config."""
    directory = tmp_path_factory.mktemp("xlm")
    reference_model("XLMWithLMHeadModel", causal=False).save_pretrained(directory)
    causal_reference = reference_model("XLMWithLMHeadModel", causal=True)
    return causal_reference, xlmlab.load_model(directory)


def prompt(model, *tokens):
    return torch.tensor([[model.config.eos_token_id, *tokens]])


def full_prefix_greedy(forward, ids: torch.Tensor, lang: int, steps: int) -> list[int]:
    """The plain loop: the whole sequence through the model at every step, no cache."""
    out = ids
    for _ in range(steps):
        logits = forward(out, torch.full_like(out, lang))
        out = torch.cat([out, logits[:, -1].argmax(-1, keepdim=True)], 1)
    return out[0, ids.shape[1]:].tolist()


def test_cached_greedy_equals_rerunning_the_prefix(pair):
    _, model = pair
    ids = prompt(model, 10, 11, 12)
    cached = generate(model, ids, langs=1, max_new_tokens=15, eos_token_id=None)[0, 4:].tolist()
    with torch.no_grad():
        plain = full_prefix_greedy(lambda x, lang: model(x, langs=lang, causal=True), ids, 1, 15)
    assert cached == plain


def test_cached_greedy_equals_the_reference_run_causally(pair):
    reference, model = pair
    ids = prompt(model, 20, 21)
    with torch.no_grad():
        theirs = full_prefix_greedy(lambda x, lang: reference(input_ids=x, langs=lang).logits, ids, 0, 12)
    assert generate(model, ids, langs=0, max_new_tokens=12, eos_token_id=None)[0, 3:].tolist() == theirs


def test_sampling_is_repeatable_with_a_seed_and_changes_with_it(pair):
    _, model = pair
    ids = prompt(model, 10, 11)
    run = lambda seed: generate(model, ids, langs=1, do_sample=True, max_new_tokens=20, eos_token_id=None, seed=seed)  # noqa: E731
    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


def test_top_k_one_is_greedy(pair):
    _, model = pair
    ids = prompt(model, 30, 31)
    greedy = generate(model, ids, langs=1, max_new_tokens=12, eos_token_id=None)
    assert torch.equal(generate(model, ids, langs=1, max_new_tokens=12, eos_token_id=None, do_sample=True, top_k=1, seed=3), greedy)
    assert torch.equal(generate(model, ids, langs=1, max_new_tokens=12, eos_token_id=None, do_sample=True, top_p=1e-9, seed=3), greedy)


def test_one_beam_is_greedy(pair):
    _, model = pair
    ids = prompt(model, 40, 41, 42)
    greedy = generate(model, ids, langs=0, max_new_tokens=10, eos_token_id=None)
    assert torch.equal(beam_search(model, ids, langs=0, max_new_tokens=10, num_beams=1, eos_token_id=None), greedy)


def test_beam_search_finds_a_sequence_at_least_as_likely_as_greedy(pair):
    _, model = pair
    ids = prompt(model, 50, 51)

    def log_prob(sequence):
        with torch.no_grad():
            logp = model(sequence, langs=1, causal=True).log_softmax(-1)
        return logp[0, ids.shape[1] - 1:-1].gather(1, sequence[0, ids.shape[1]:, None]).sum().item()

    greedy = generate(model, ids, langs=1, max_new_tokens=6, eos_token_id=None)
    beams = generate(model, ids, langs=1, max_new_tokens=6, eos_token_id=None, num_beams=4, length_penalty=0.0)
    assert log_prob(beams) >= log_prob(greedy) - 1e-5


def test_a_batch_equals_one_prompt_at_a_time(pair):
    _, model = pair
    eos, pad = model.config.eos_token_id, model.config.pad_token_id
    rows = [[eos, 10, 11, 12, 13], [eos, 14], [eos, 15, 16]]
    batch = torch.tensor([r + [pad] * (5 - len(r)) for r in rows])
    out = generate(model, batch, attention_mask=(batch != pad).long(), langs=torch.tensor([1, 0, 1]),
                   max_new_tokens=8, eos_token_id=None)
    for i, row in enumerate(rows):
        alone = generate(model, torch.tensor([row]), langs=[1, 0, 1][i], max_new_tokens=8, eos_token_id=None)
        assert out[i, 5:].tolist() == alone[0, len(row):].tolist()


def test_rows_stop_at_end_of_sentence_and_none_means_all_tokens(pair):
    _, model = pair
    ids = prompt(model, 10, 11)
    first = generate(model, ids, langs=1, max_new_tokens=1, eos_token_id=None)[0, -1].item()
    stopped = generate(model, ids, langs=1, max_new_tokens=10, eos_token_id=first)
    assert stopped.shape[1] == ids.shape[1] + 1 and stopped[0, -1].item() == first
    assert generate(model, ids, langs=1, max_new_tokens=10, eos_token_id=None).shape[1] == ids.shape[1] + 10


def test_language_changes_the_continuation_and_codes_are_checked(pair):
    _, model = pair
    ids = prompt(model, 10, 11)
    outputs = {lang: generate(model, ids, langs=lang, max_new_tokens=10, eos_token_id=None) for lang in (0, 1, 2)}
    assert len({tuple(o[0].tolist()) for o in outputs.values()}) > 1
    with pytest.raises(ValueError, match=r"unknown language 'fr'"):
        generate(model, ids, langs="fr")


def test_language_codes_and_ids_generate_the_same():
    model = xlmlab.load_model("tiny-xlm")  # de = 0, en = 1
    ids = torch.cat([prompt(model, 10, 11), prompt(model, 12, 13)])
    by_ids = generate(model, ids, langs=torch.tensor([0, 1]), max_new_tokens=6, eos_token_id=None)
    assert torch.equal(generate(model, ids, langs=["de", "en"], max_new_tokens=6, eos_token_id=None), by_ids)
    assert torch.equal(generate(model, ids[:1], langs="de", max_new_tokens=6, eos_token_id=None), by_ids[:1])


def test_streaming_yields_the_generated_tokens(pair):
    _, model = pair
    ids = prompt(model, 10, 11)
    tokens = [t.item() for t in stream(model, ids, langs=1, max_new_tokens=7, eos_token_id=None)]
    assert tokens == generate(model, ids, langs=1, max_new_tokens=7, eos_token_id=None)[0, 3:].tolist()


@pytest.mark.parametrize("ids, kwargs, message", [
    (torch.zeros(1, 0, dtype=torch.long), {}, "the prompt is empty"),
    (torch.ones(1, 39, dtype=torch.long), {"max_new_tokens": 5}, r"would run past the model's 40 positions; ask for at most 1"),
    (torch.ones(1, 41, dtype=torch.long), {}, r"longer than the model's 40 positions"),
])
def test_bad_requests_are_refused_clearly(pair, ids, kwargs, message):
    _, model = pair
    with pytest.raises(ValueError, match=message):
        generate(model, ids, **kwargs)


def test_the_published_path_is_reproduced_exactly(pair, tmp_path):
    """What transformers' generate does with a causal: false config, lang_id 0 and a dummy token."""
    from xlmlab.models.generation import generate_like_the_published_config

    reference = reference_model("XLMWithLMHeadModel", causal=False, n_langs=2)
    reference.save_pretrained(tmp_path)
    model = xlmlab.load_model(tmp_path)
    ids = prompt(model, 10, 11, 12)
    with torch.no_grad():
        theirs = reference.generate(ids, max_new_tokens=6, min_new_tokens=6, do_sample=False, pad_token_id=2)
    assert torch.equal(generate_like_the_published_config(model, ids, 6), theirs)


def test_generate_text_offers_every_strategy_and_writes_what_generate_chose():
    from xlmlab.models.generation import generate_text

    model, tok = xlmlab.load_model("tiny-xlm"), xlmlab.load_tokenizer("tiny-xlm")
    ids = torch.tensor([[tok.eos_token_id] + tok.encode("United", lang="en", add_special_tokens=False)])

    def written(**options):
        out = generate(model, ids, langs="en", max_new_tokens=8, **options)
        return tok.decode(out[0, ids.shape[1]:].tolist(), lang="en")

    greedy = generate_text(model, tok, "United", lang="en", max_new_tokens=8)
    assert greedy == written() and greedy
    assert "".join(generate_text(model, tok, "United", lang="en", max_new_tokens=8, stream_text=True)) == greedy
    beams = generate_text(model, tok, "United", lang="en", max_new_tokens=8, num_beams=4, length_penalty=0.5)
    assert beams == written(num_beams=4, length_penalty=0.5)
    sampled = generate_text(model, tok, "United", lang="en", max_new_tokens=8, do_sample=True, top_p=0.9, seed=3)
    assert sampled == written(do_sample=True, top_p=0.9, seed=3)
    with pytest.raises(ValueError, match="beam search .* cannot stream"):
        generate_text(model, tok, "United", lang="en", num_beams=4, stream_text=True)
