"""Behaviour of the models themselves: positions, languages, causality, shapes, published sizes."""

from __future__ import annotations

import pytest
import torch

import xlmlab
from xlmlab.models.xlm_roberta import position_ids


def test_xlmr_positions_skip_padding_and_start_after_it():
    ids = torch.tensor([[0, 5, 2, 1, 1], [0, 5, 6, 7, 2]])
    assert position_ids(ids, padding_idx=1).tolist() == [[2, 3, 4, 1, 1], [2, 3, 4, 5, 6]]


def test_xlmr_refuses_language_ids():
    model = xlmlab.load_model("tiny-xlmr")
    with pytest.raises(ValueError, match="no language embeddings"):
        model(torch.tensor([[0, 5, 2]]), langs=0)


def test_xlm_language_ids_accept_int_row_and_token_forms():
    model = xlmlab.load_model("tiny-xlm")
    ids = torch.tensor([[0, 10, 11, 12, 1], [0, 13, 14, 1, 2]])
    with torch.no_grad():
        per_token = model(ids, langs=torch.tensor([[1] * 5, [1] * 5]))
        assert torch.equal(model(ids, langs=1), per_token)
        assert torch.equal(model(ids, langs=torch.tensor([1, 1])), per_token)
        assert not torch.allclose(model(ids, langs=0), per_token)


def test_xlm_language_codes_mean_the_ids_of_the_models_languages():
    model = xlmlab.load_model("tiny-xlm")  # de = 0, en = 1
    ids = torch.tensor([[0, 10, 11, 12, 1], [0, 13, 14, 1, 2]])
    with torch.no_grad():
        assert torch.equal(model(ids, langs="en"), model(ids, langs=1))
        assert torch.equal(model(ids, langs=["de", "en"]), model(ids, langs=torch.tensor([0, 1])))
    assert model.lang2id == {"de": 0, "en": 1} and xlmlab.load_model("tiny-xlmr").lang2id is None


@pytest.mark.parametrize("langs, message", [(5, r"language ids must be in 0\.\.1"),
                                            ("fr", r"unknown language 'fr'; this model knows \['de', 'en'\]"),
                                            (["en", "xx"], r"unknown language 'xx'"),
                                            (torch.zeros(3, 2, dtype=torch.long), r"langs must be an int")])
def test_xlm_bad_language_ids_are_refused(langs, message):
    model = xlmlab.load_model("tiny-xlm")
    with pytest.raises(ValueError, match=message):
        model(torch.tensor([[0, 10, 11, 1]]), langs=langs)


def test_causal_model_does_not_look_ahead():
    model = xlmlab.load_model("tiny-xlm")
    a = torch.tensor([[0, 10, 11, 12, 13, 14]])
    b = a.clone()
    b[0, 4:] = torch.tensor([99, 98])
    with torch.no_grad():
        assert torch.equal(model(a, langs=1)[:, :4], model(b, langs=1)[:, :4])
        assert not torch.allclose(model(a, langs=1, causal=False)[:, :4], model(b, langs=1, causal=False)[:, :4])


def test_left_padding_does_not_change_a_causal_row():
    model = xlmlab.load_model("tiny-xlm")
    pad = model.config.pad_token_id
    row = torch.tensor([[0, 10, 11, 12]])
    with torch.no_grad():
        alone = model.transformer(row, langs=1, causal=True)
        # positions count from the first column, so shift the row's positions back by padding on the right
        padded = model.transformer(torch.tensor([[0, 10, 11, 12, pad, pad]]), langs=1, causal=True)
    assert torch.allclose(alone, padded[:, :4], atol=1e-6)
    assert torch.all(padded[:, 4:] == 0)  # padding positions are zeroed, as in the original code


@pytest.mark.parametrize("cls, shape", [(xlmlab.XLMRModel, (2, 5, 16)), (xlmlab.XLMRForMaskedLM, (2, 5, 50)),
                                        (xlmlab.XLMRForSequenceClassification, (2, 3))])
def test_xlmr_heads_return_plain_tensors(cls, shape):
    config = xlmlab.XLMRConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=32, id2label={0: "entailment", 1: "neutral", 2: "contradiction"})
    out = cls(config).eval()(torch.randint(3, 50, (2, 5)))
    assert type(out) is torch.Tensor and out.shape == shape


@pytest.mark.parametrize("cls, shape", [(xlmlab.XLMModel, (2, 5, 16)), (xlmlab.XLMWithLMHead, (2, 5, 50)),
                                        (xlmlab.XLMForSequenceClassification, (2, 3))])
def test_xlm_heads_return_plain_tensors(cls, shape):
    config = xlmlab.XLMConfig(vocab_size=50, emb_dim=16, n_layers=1, n_heads=2, n_langs=2,
                              id2label={0: "a", 1: "b", 2: "c"})
    out = cls(config).eval()(torch.randint(4, 50, (2, 5)), langs=1)
    assert type(out) is torch.Tensor and out.shape == shape


def count(config):
    model = xlmlab.build_model(config, device="meta")
    return sum(p.numel() for p in model.parameters()), model.input_embeddings.weight.numel()


def layer_params(H, F):
    """One post-LN block: q, k, v, o with biases, two LayerNorms, the two feed-forward maps."""
    return 4 * (H * H + H) + 2 * 2 * H + (H * F + F) + (F * H + H)


def test_published_sizes_follow_from_the_architecture():
    total_r, emb_r = count(xlmlab.PUBLISHED["xlm-roberta-base"])
    total_v, emb_v = count(xlmlab.PUBLISHED["xlm-v-base"])
    total_x, emb_x = count(xlmlab.PUBLISHED["xlm-clm-ende-1024"])
    assert (emb_r, emb_v, emb_x) == (250002 * 768, 901629 * 768, 64699 * 1024)
    for V, total in ((250002, total_r), (901629, total_v)):  # + positions, 1 token type, LN; MLM head
        H = 768
        assert total == V * H + 514 * H + H + 2 * H + 12 * layer_params(H, 3072) + (H * H + H + 2 * H + V)
    H = 1024  # + positions, 2 languages, LN; output bias
    assert total_x == 64699 * H + 512 * H + 2 * H + 2 * H + 6 * layer_params(H, 4 * H) + 64699


@pytest.mark.parametrize("cls, published, body, head", [
    (xlmlab.XLMRModel, "xlm-roberta-base", "", None), (xlmlab.XLMRForMaskedLM, "xlm-roberta-base", "encoder", None),
    (xlmlab.XLMRForSequenceClassification, "xlm-roberta-base", "encoder", "classifier"),
    (xlmlab.XLMModel, "xlm-clm-ende-1024", "", None), (xlmlab.XLMWithLMHead, "xlm-clm-ende-1024", "transformer", None),
    (xlmlab.XLMForSequenceClassification, "xlm-clm-ende-1024", "transformer", "summary")])
def test_each_model_class_states_its_body_head_and_languages(cls, published, body, head):
    config = xlmlab.PUBLISHED[published]
    with torch.device("meta"):
        model = cls(config)
    assert (cls.body, cls.head) == (body, head)
    assert model.input_embeddings is model.transformer_body.embeddings.word
    assert model.lang2id == (config.lang2id if config.model_type == "xlm" else None)
    if head is not None:
        assert isinstance(model.get_submodule(head), torch.nn.Linear | torch.nn.Module)
