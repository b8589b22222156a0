"""Looking inside: fill_mask against transformers' fill-mask pipeline, embed against the
reference's hidden states, retrieval accuracy on vectors whose answer is known."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from conftest import reference_model

import xlmlab
from xlmlab.probe import embed, fill_mask, overlap_retrieval_accuracy, retrieval_accuracy, retrieval_by_layer

XLMR_TEXTS = ["Paris is the <mask> of France.", "Der Hund <mask> im Garten.", "Ein <mask>"]
XLM_TEXTS = ["the <special1> is red .", "hello <special1>"]


def sharpened(architecture: str, vocab_size: int, **overrides):
    """A random reference model whose output bias spreads the scores far apart, so that the
    top tokens are decided by clear margins and not by the last bits of a float."""
    model = reference_model(architecture, vocab_size=vocab_size, **overrides)
    bias = model.lm_head.bias if architecture == "XLMRobertaForMaskedLM" else model.pred_layer.proj.bias
    with torch.no_grad():
        bias.copy_(torch.randn(vocab_size, generator=torch.Generator().manual_seed(3)) * 4)
    return model


@pytest.fixture(scope="module")
def xlmr(spm_dir, tmp_path_factory):
    """(reference model, reference tokenizer, our model, our tokenizer) on one directory."""
    import transformers

    directory = tmp_path_factory.mktemp("xlmr-mlm")
    shutil.copy(spm_dir / "sentencepiece.bpe.model", directory)
    tok = xlmlab.load_tokenizer(directory)
    ref = sharpened("XLMRobertaForMaskedLM", tok.vocab_size)
    ref.save_pretrained(directory)
    return ref, transformers.XLMRobertaTokenizer.from_pretrained(directory), xlmlab.load_model(directory), tok


@pytest.fixture(scope="module")
def xlm(xlm_dir, tmp_path_factory):
    import transformers

    directory = tmp_path_factory.mktemp("xlm-mlm")
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(xlm_dir / name, directory)
    lang2id = {"de": 0, "en": 1}
    (directory / "tokenizer_config.json").write_text(json.dumps({"lang2id": lang2id}))
    vocab_size = len(json.loads((directory / "vocab.json").read_text()))
    ref = sharpened("XLMWithLMHeadModel", vocab_size, n_langs=2, lang2id=lang2id, id2lang={0: "de", 1: "en"},
                    causal=False, mask_token_id=xlmlab.load_tokenizer(directory).mask_token_id)
    ref.save_pretrained(directory)
    reference_tok = transformers.XLMTokenizer(vocab_file=str(directory / "vocab.json"),
                                              merges_file=str(directory / "merges.txt"), lang2id=lang2id,
                                              id2lang={0: "de", 1: "en"})
    return ref, reference_tok, xlmlab.load_model(directory), xlmlab.load_tokenizer(directory)


def pipeline(model, tokenizer):
    import transformers

    return transformers.pipeline("fill-mask", model=model, tokenizer=tokenizer, device="cpu")


def assert_same_candidates(mine: list[dict], theirs: list[dict], sequences: bool = True):
    assert [c["token_id"] for c in mine] == [c["token"] for c in theirs]
    assert [c["token"] for c in mine] == [c["token_str"] for c in theirs]
    for a, b in zip(mine, theirs):
        assert abs(a["score"] - b["score"]) <= 1e-5
    if sequences:
        assert [c["sequence"] for c in mine] == [c["sequence"] for c in theirs]


@pytest.mark.parametrize("text", XLMR_TEXTS)
def test_fill_mask_is_the_pipelines_answer_for_one_mask(xlmr, text):
    ref, ref_tok, model, tok = xlmr
    mine, theirs = fill_mask(model, tok, text, top_k=7), pipeline(ref, ref_tok)(text, top_k=7)
    assert len(mine) == 7 and set(mine[0]) == {"token", "token_id", "score", "sequence"}
    assert_same_candidates(mine, theirs)
    assert mine[0]["score"] > mine[1]["score"] + 1e-3  # the margins the sharpened bias gives


def test_fill_mask_scores_each_of_several_masks_and_keeps_the_others(xlmr):
    ref, ref_tok, model, tok = xlmr
    text = "<mask> is the <mask> of France."
    mine, theirs = fill_mask(model, tok, text, top_k=3), pipeline(ref, ref_tok)(text, top_k=3)
    assert len(mine) == len(theirs) == 2
    for a, b in zip(mine, theirs):
        assert_same_candidates(a, b)
    assert "<mask>" in mine[0][0]["sequence"] and mine[0][0]["sequence"].startswith("<s>")


def test_fill_mask_on_a_batch_gives_what_each_text_gives_alone(xlmr):
    """Texts of different lengths run padded in one batch; each answer is the one-text answer."""
    _, _, model, tok = xlmr
    texts = XLMR_TEXTS + ["<mask> and <mask>"]
    batch = fill_mask(model, tok, texts, top_k=4)
    assert len(batch) == len(texts)
    for text, answer in zip(texts, batch):
        alone = fill_mask(model, tok, text, top_k=4)
        flat = lambda r: [c for group in r for c in group] if isinstance(r[0], list) else r  # noqa: E731
        assert [c["token_id"] for c in flat(answer)] == [c["token_id"] for c in flat(alone)]
        assert all(abs(a["score"] - b["score"]) < 1e-5 for a, b in zip(flat(answer), flat(alone)))


def test_fill_mask_on_xlm_without_a_language_is_the_pipelines_answer(xlm):
    ref, ref_tok, model, tok = xlm
    for text in XLM_TEXTS:
        # the reference only joins the pieces where xlmlab detokenises with Moses: compare the rest
        assert_same_candidates(fill_mask(model, tok, text, top_k=5), pipeline(ref, ref_tok)(text, top_k=5),
                               sequences=False)


def test_fill_mask_on_xlm_with_a_language_passes_its_embedding(xlm):
    """The pipeline cannot pass `langs`; with lang="de" the answer is the reference model's own
    answer called with German language ids, and it differs from the answer without them."""
    ref, ref_tok, model, tok = xlm
    text = XLM_TEXTS[0]
    ids = torch.tensor([ref_tok.encode(text)])
    position = int((ids[0] == tok.mask_token_id).nonzero()[0, 0])
    with torch.no_grad():
        logits = ref(input_ids=ids, langs=torch.zeros_like(ids)).logits[0, position]
    scores, tokens = logits.softmax(-1).topk(5)
    mine = fill_mask(model, tok, text, top_k=5, lang="de")
    assert [c["token_id"] for c in mine] == tokens.tolist()
    assert all(abs(c["score"] - s) <= 1e-5 for c, s in zip(mine, scores.tolist()))
    without = fill_mask(model, tok, text, top_k=5)
    assert [c["score"] for c in without] != pytest.approx([c["score"] for c in mine], abs=1e-4)


def test_fill_mask_refuses_a_text_without_a_mask(xlmr):
    _, _, model, tok = xlmr
    with pytest.raises(ValueError, match=r"text 1 has no mask token '<mask>': 'no mask here'"):
        fill_mask(model, tok, ["a <mask>", "no mask here"])
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        fill_mask(model, tok, "a <mask>", top_k=0)


def reference_hidden(ref, inputs: dict, attention: torch.Tensor, pooling: str) -> torch.Tensor:
    """(L + 1, B, H) pooled from the reference's hidden_states."""
    with torch.no_grad():
        states = ref(**inputs, output_hidden_states=True).hidden_states
    if pooling == "first":
        return torch.stack([h[:, 0] for h in states])
    w = attention[:, :, None].float()
    return torch.stack([(h * w).sum(1) / w.sum(1) for h in states])


@pytest.mark.parametrize("pooling", ["mean", "first"])
def test_embed_pools_the_reference_hidden_states_of_every_layer(xlmr, pooling):
    ref, ref_tok, model, tok = xlmr
    texts = ["Hello world", "Der Hund läuft im Garten und bellt laut.", "Ein"]
    batch = ref_tok(texts, padding=True, return_tensors="pt")
    expected = reference_hidden(ref.roberta, dict(batch), batch["attention_mask"], pooling)
    every = embed(model, tok, texts, layer="all", pooling=pooling, batch_size=2)
    assert every.shape == (ref.config.num_hidden_layers + 1, 3, ref.config.hidden_size)
    assert every.dtype == torch.float32
    torch.testing.assert_close(every, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(embed(model, tok, texts, pooling=pooling), expected[-1], rtol=0, atol=1e-5)
    torch.testing.assert_close(embed(model, tok, texts, layer=0, pooling=pooling), expected[0], rtol=0, atol=1e-5)


def test_embed_passes_xlm_its_language(xlm):
    ref, ref_tok, model, tok = xlm
    texts = ["the dog runs .", "hello"]
    ids = [ref_tok.convert_tokens_to_ids(ref_tok._tokenize(t, lang="de")) for t in texts]
    T = max(map(len, ids)) + 2
    rows = [[0, *i, 1] + [2] * (T - len(i) - 2) for i in ids]
    input_ids = torch.tensor(rows)
    attention = (input_ids != 2).long()
    expected = reference_hidden(ref.transformer, {"input_ids": input_ids, "attention_mask": attention,
                                                  "langs": torch.zeros_like(input_ids)}, attention, "mean")
    torch.testing.assert_close(embed(model, tok, texts, lang="de", layer="all"), expected, rtol=0, atol=1e-5)


def test_embed_refuses_a_layer_the_model_lacks(xlmr):
    _, _, model, tok = xlmr
    with pytest.raises(ValueError, match=r"layer must be 0..2 \(0: the embeddings\), 'all' or None"):
        embed(model, tok, ["a"], layer=3)
    with pytest.raises(ValueError, match="pooling must be one of"):
        embed(model, tok, ["a"], pooling="max")


def test_retrieval_accuracy_counts_nearest_translations_both_ways():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20, 8, generator=g)
    assert retrieval_accuracy(a, a * 3) == (1.0, 1.0)  # cosine: the scale does not matter
    b = a.clone()
    b[[0, 1]] = b[[1, 0]]  # two translations swapped: both wrong in both directions
    assert retrieval_accuracy(a, b) == (0.9, 0.9)
    # each language adds its own large offset to every sentence: the offsets decide the nearest
    # neighbours until each language's mean vector is taken away
    meaning = torch.randn(50, 16, generator=g)
    english = meaning + torch.randn(16, generator=g) * 3
    other = meaning + 0.5 * torch.randn(50, 16, generator=g) + torch.randn(16, generator=g) * 3
    assert max(retrieval_accuracy(english, other)) < 0.5
    assert min(retrieval_accuracy(english, other, center=True)) >= 0.95
    with pytest.raises(ValueError, match=r"a and b must be \(N, H\) of the same shape; found \(20, 8\) and \(19, 8\)"):
        retrieval_accuracy(a, b[:19])


def test_retrieval_by_layer_gives_one_pair_per_layer(xlmr):
    _, _, model, tok = xlmr
    english = ["one dog", "two cats", "the red house", "a long road"]
    by_layer = retrieval_by_layer(model, tok, english, english)  # a text finds itself at every layer
    assert by_layer == [(1.0, 1.0)] * 3
    with pytest.raises(ValueError, match="aligned; found 4 and 3"):
        retrieval_by_layer(model, tok, english, english[:3])


class _Words:
    """A tokenizer whose pieces are the words of a text."""

    def tokenize(self, text, lang=None):
        return text.split()


def test_overlap_retrieval_ranks_candidates_by_the_pieces_they_share():
    source = ["the red house", "a long road", "one dog", "two cats"]
    target = ["das rote house", "eine lange road", "ein Hund", "zwei Katzen"]
    # house and road are shared; the last two share nothing, so every candidate scores 0 and the
    # first one (a wrong one) is taken: 2 of 4, both ways
    assert overlap_retrieval_accuracy(_Words(), source, target) == (0.5, 0.5)
    # Jaccard, not a count of shared pieces: "x y" shares one piece with both candidates, and the
    # shorter one, "x", wins (1/2 against 1/4): wrong; back, "x w v" finds "x y" (1/4 against 0)
    assert overlap_retrieval_accuracy(_Words(), ["x y", "z"], ["x w v", "x"]) == (0.0, 0.5)
    assert overlap_retrieval_accuracy(_Words(), ["x y", "z"], ["x", "z"]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="aligned; found 2 and 1"):
        overlap_retrieval_accuracy(_Words(), ["x", "y"], ["x"])
