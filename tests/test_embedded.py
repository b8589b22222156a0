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
    monkeypatch.setattr(tiny_models.tiny_clm, "build", lambda *a: calls.append(a))
    assert tiny_models.build("tiny-xlmr") == first
    assert isinstance(xlmlab.load_model("tiny-xlmr"), xlmlab.XLMRForMaskedLM)
    assert calls == []


def test_initial_models_are_the_same_on_every_machine(tmp_path, monkeypatch):
    a = xlmlab.load_model(tiny_models.initial("tiny-xlmr"))
    monkeypatch.setenv("XLMLAB_HOME", str(tmp_path))
    monkeypatch.setattr(tiny_models, "_vocabulary", lambda name: None)  # the weights alone
    b = xlmlab.load_model(tiny_models.initial("tiny-xlmr"))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_pretrained_models_start_from_their_initial_weights_and_move_away():
    start, trained = xlmlab.load_model(tiny_models.initial("tiny-xlmr")), xlmlab.load_model("tiny-xlmr")
    assert start.config.to_dict() == trained.config.to_dict()
    moved = [name for (name, a), b in zip(start.state_dict().items(), trained.state_dict().values())
             if not torch.equal(a, b)]
    assert len(moved) > 0.9 * len(start.state_dict())


def test_outdated_cache_is_rebuilt(monkeypatch):
    path = tiny_models.build("tiny-xlmv")
    monkeypatch.setattr(tiny_models, "RECIPE_VERSION", tiny_models.RECIPE_VERSION + 1)
    assert tiny_models.build("tiny-xlmv") == path
    assert f'"version": {tiny_models.RECIPE_VERSION}' in (path / "xlmlab-recipe.json").read_text()


def test_each_tiny_model_has_its_family_shape():
    xlmr, xlmv, tlm, xlm = (xlmlab.load_model(n) for n in ("tiny-xlmr", "tiny-xlmv", "tiny-xlm-tlm", "tiny-xlm"))
    assert xlmv.config.vocab_size == 4 * (xlmr.config.vocab_size - 2) + 2  # 32,000 and 8,000 pieces
    assert xlmv.config.hidden_size == xlmr.config.hidden_size == tlm.config.emb_dim
    assert xlmv.config.num_hidden_layers == xlmr.config.num_hidden_layers == tlm.config.n_layers
    assert isinstance(xlm, xlmlab.XLMWithLMHead) and xlm.config.causal
    assert xlm.config.lang2id == {"de": 0, "en": 1}
    assert isinstance(tlm, xlmlab.XLMWithLMHead) and not tlm.config.causal
    assert sorted(tlm.config.lang2id) == tiny_models.LANGUAGES and tlm.config.lang2id["en"] == 4
    for name, model in (("tiny-xlmr", xlmr), ("tiny-xlmv", xlmv), ("tiny-xlm-tlm", tlm), ("tiny-xlm", xlm)):
        tok = xlmlab.load_tokenizer(name)
        assert tok.vocab_size == model.config.vocab_size
        assert tok.pad_token_id == model.config.pad_token_id and tok.mask_token_id < model.config.vocab_size


def test_pretrained_tiny_models_fill_masks_better_than_their_random_start():
    """On the held-out strings (never trained on), at the positions shown as <mask>, the
    pretrained models predict far more tokens right than their initial weights (near 0);
    margins, not digits."""
    from xlmlab import parallel
    from xlmlab.pretrain import examples, masked_accuracy

    held_out = parallel.pairs("eval", ["de", "ru", "zh", "sw"])
    for name in tiny_models.PRETRAINED:
        tok = xlmlab.load_tokenizer(name)
        accuracy = {}
        for which, model in (("initial", xlmlab.load_model(tiny_models.initial(name))),
                             ("trained", xlmlab.load_model(name))):
            data = examples(tok, held_out, objective="mlm", max_length=128, seed=0, lang2id=model.lang2id)
            accuracy[which] = masked_accuracy(model, data, device=torch.device("cpu"), only_masks=True)["avg"]
        assert accuracy["initial"] < 1 and accuracy["trained"] > 2, (name, accuracy)


def test_the_pretraining_recipe_keeps_its_last_step_and_its_curves(tmp_path, monkeypatch):
    """The held-out text is measured along the way, never used to choose: the model written is
    the run's last step, with the loss of every step and the accuracy of every evaluation."""
    import dataclasses
    import json

    import pandas as pd
    from safetensors.torch import load_file

    from xlmlab import parallel, tiny_mlm
    from xlmlab.pretrain import PretrainRunner

    settings = dataclasses.replace(tiny_mlm.SETTINGS, max_steps=6, eval_every=3, save_every=6, batch_size=4,
                                   max_length=32)
    monkeypatch.setattr(tiny_mlm, "SETTINGS", settings)
    start = tiny_models.initial("tiny-xlmr")
    out = tiny_mlm.pretrain("tiny-xlmr", start, tmp_path / "model", progress=False)
    log = pd.read_csv(out / "pretraining_log.csv")
    metrics = pd.read_csv(out / "pretraining_metrics.csv")
    assert log["step"].tolist() == [1, 2, 3, 4, 5, 6] and log["loss"].notna().all()
    assert sorted(set(metrics["step"])) == [3, 6]
    assert set(metrics["language"]) == set(tiny_models.LANGUAGES) | {"avg"}
    assert json.loads((out / "config.json").read_text())["vocab_size"] == 8002

    runner = PretrainRunner(start, parallel.pairs("train"), {"held-out": parallel.pairs("eval")}, tmp_path / "again",
                            settings, objective="mlm", alpha=tiny_mlm.ALPHA, progress=False)
    runner.fit()
    written = load_file(out / "model.safetensors")
    last = load_file(tmp_path / "again" / "checkpoint-6" / "model.safetensors")
    assert written.keys() == last.keys() and all(torch.equal(written[k], last[k]) for k in written)
