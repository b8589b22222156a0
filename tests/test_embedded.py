"""The embedded tiny models are built by xlmlab on first use, cached, and reused."""

from __future__ import annotations

import torch

import xlmlab
import xlmlab.cli
from xlmlab import tiny_models


def test_tiny_models_build_once_and_are_reused(monkeypatch):
    first = tiny_models.build("tiny-xlmr")
    calls = []
    monkeypatch.setattr(tiny_models, "save_model", lambda *a: calls.append(a))
    assert tiny_models.build("tiny-xlmr") == first
    assert isinstance(xlmlab.load_model("tiny-xlmr"), xlmlab.XLMRForMaskedLM)
    assert calls == []


def test_tiny_models_are_the_same_on_every_machine(tmp_path, monkeypatch):
    a = xlmlab.load_model("tiny-xlmr")
    monkeypatch.setenv("XLMLAB_HOME", str(tmp_path))
    monkeypatch.setattr(tiny_models, "_vocabulary", lambda name: None)  # the weights alone
    b = xlmlab.load_model("tiny-xlmr")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_outdated_cache_is_rebuilt(monkeypatch):
    path = tiny_models.build("tiny-xlmv")
    monkeypatch.setattr(tiny_models, "RECIPE_VERSION", tiny_models.RECIPE_VERSION + 1)
    assert tiny_models.build("tiny-xlmv") == path
    assert f'"version": {tiny_models.RECIPE_VERSION}' in (path / "xlmlab-recipe.json").read_text()


def test_each_tiny_model_has_its_family_shape():
    xlmr, xlmv, xlm = (xlmlab.load_model(n) for n in ("tiny-xlmr", "tiny-xlmv", "tiny-xlm"))
    assert xlmv.config.vocab_size > xlmr.config.vocab_size and xlmv.config.hidden_size == xlmr.config.hidden_size
    assert isinstance(xlm, xlmlab.XLMWithLMHead) and xlm.config.causal
    assert xlm.config.lang2id == {"de": 0, "en": 1}
    for name, model in (("tiny-xlmr", xlmr), ("tiny-xlmv", xlmv), ("tiny-xlm", xlm)):
        assert xlmlab.load_tokenizer(name).vocab_size == model.config.vocab_size


def test_the_tiny_en_de_model_continues_in_the_language_it_is_given():
    from xlmlab.models.generation import generate_text

    model, tok = xlmlab.load_model("tiny-xlm"), xlmlab.load_tokenizer("tiny-xlm")
    english = generate_text(model, tok, "", lang="en", max_new_tokens=12)
    german = generate_text(model, tok, "", lang="de", max_new_tokens=12)
    assert english and german and english != german


def test_cli_builds_the_assets(capsys):
    assert xlmlab.cli.main(["assets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in tiny_models.MODELS)
