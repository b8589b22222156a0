"""Pretraining with the shared runner: MLM and TLM examples, learning, exact resume, published layout."""

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import xlmlab
from xlmlab import parallel
from xlmlab.cli import main as cli
from xlmlab.pretrain import PretrainRunner, examples
from xlmlab.train import Settings

LANGS = ["de", "sw"]


@pytest.fixture(scope="module")
def data():
    train = parallel.pairs("train", LANGS)
    train = train.groupby("language").head(300).reset_index(drop=True)
    return train, {"dev": parallel.pairs("eval", LANGS)}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """tiny-xlmr without dropout."""
    target = tmp_path_factory.mktemp("models") / "tiny-xlmr-nodrop"
    shutil.copytree(xlmlab.load.locate("tiny-xlmr"), target)
    config = json.loads((target / "config.json").read_text())
    config |= {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    (target / "config.json").write_text(json.dumps(config))
    return target


def settings(**changes) -> Settings:
    return Settings(**({"max_steps": 8, "batch_size": 16, "lr": 2e-3, "warmup": 0.0, "max_length": 48,
                        "save_every": 4, "eval_every": 4, "device": "cpu"} | changes))


def test_mlm_streams_pack_whole_sentences_and_mask_anew_each_epoch(data):
    tok = xlmlab.load_tokenizer("tiny-xlmr")
    ex = examples(tok, data[0], objective="mlm", max_length=48)
    assert set(ex.language) == {"en", *LANGS} and ex.lengths.max() <= 48
    assert all(ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id for ids in ex.ids)
    first = ex.collate([0, 1, 2])
    assert first["targets"].shape == (int(first["masked_positions"].sum()),)
    assert not first["masked_positions"][first["attention_mask"] == 0].any()
    ex.set_epoch(1)
    assert not torch.equal(ex.collate([0, 1, 2])["masked_positions"], first["masked_positions"])


def test_alpha_resamples_the_languages(data):
    tok = xlmlab.load_tokenizer("tiny-xlmr")
    flat = examples(tok, data[0], objective="mlm", max_length=48)
    even = examples(tok, data[0], objective="mlm", max_length=48, alpha=0.0)
    counts = {lang: even.language.count(lang) for lang in set(even.language)}
    assert max(counts.values()) - min(counts.values()) <= 1  # alpha 0: every language alike
    assert abs(len(even) - len(flat)) <= len(counts)


def test_tlm_pairs_carry_both_languages_and_restart_positions():
    tok = xlmlab.load_tokenizer("tiny-xlm")  # de = 0, en = 1
    frame = parallel.pairs("train", ["de"]).head(20)
    ex = examples(tok, frame, objective="tlm", max_length=64, lang2id={"de": 0, "en": 1})
    ids, langs, positions = ex.ids[0], ex.langs[0], ex.positions[0]
    second = int(np.flatnonzero(positions == 0)[1])
    assert set(langs[:second]) == {1} and set(langs[second:]) == {0}
    assert positions[second - 1] == second - 1 and ids[second] == tok.bos_token_id
    with pytest.raises(ValueError, match="TLM needs a model with language embeddings"):
        examples(xlmlab.load_tokenizer("tiny-xlmr"), frame, objective="tlm", max_length=64)


def test_mlm_learns_masked_tokens(model_dir, data, tmp_path):
    train, evals = data
    runner = PretrainRunner(model_dir, train, evals, tmp_path / "run", settings(max_steps=60, eval_every=60,
                                                                                save_every=60), progress=False)
    before = runner.evaluate()["dev"]["avg"]
    runner.fit()
    losses = runner.log["loss"].to_numpy()
    assert losses[-10:].mean() < losses[:5].mean() - 1.0
    assert runner.result()["accuracy"]["dev"]["avg"] > before + 3


def test_resume_after_an_interruption_masks_and_trains_exactly_as_without(model_dir, data, tmp_path):
    train, evals = data
    full = PretrainRunner(model_dir, train, evals, tmp_path / "full", settings(), progress=False)
    full.steps_per_epoch = 3  # several epochs in 8 steps: masks change at every epoch boundary
    full.fit()
    broken = PretrainRunner(model_dir, train, evals, tmp_path / "broken", settings(), progress=False)
    broken.steps_per_epoch = 3
    step = broken._train_step

    def interrupted(i):
        if i == 5:
            raise KeyboardInterrupt
        return step(i)
    broken._train_step = interrupted
    with pytest.raises(KeyboardInterrupt):
        broken.fit()
    resumed = PretrainRunner(model_dir, train, evals, tmp_path / "broken", settings(), progress=False)
    resumed.steps_per_epoch = 3
    resumed.fit(resume=True)
    a = load_file(tmp_path / "full" / "checkpoint-8" / "model.safetensors")
    b = load_file(tmp_path / "broken" / "checkpoint-8" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "full" / "metrics.json").read_text())["accuracy"] == \
        json.loads((tmp_path / "broken" / "metrics.json").read_text())["accuracy"]


def test_the_cli_writes_a_masked_lm_that_transformers_loads(model_dir, tmp_path):
    import transformers

    out = tmp_path / "run"
    assert cli(["pretrain", "--model", str(model_dir), "--languages", "sw", "--out", str(out), "--max-steps", "2",
                "--batch-size", "8", "--max-length", "32", "--save-every", "2", "--device", "cpu", "--quiet"]) == 0
    reference = transformers.XLMRobertaForMaskedLM.from_pretrained(out / "best").eval()
    ours = xlmlab.load_model(out / "best")
    ids = torch.tensor([[0, 10, 11, 12, 2]])
    with torch.no_grad():
        assert (ours(ids) - reference(input_ids=ids).logits).abs().max() < 1e-5
    assert xlmlab.load_tokenizer(out / "best").vocab_size == 8002


def test_pretraining_refuses_a_classifier(tmp_path, data):
    classifier = xlmlab.models.load_classifier(xlmlab.load.locate("tiny-xlmr"), ["a", "b"])
    xlmlab.save_model(classifier, tmp_path / "clf")
    shutil.copy(xlmlab.load.locate("tiny-xlmr") / "sentencepiece.bpe.model", tmp_path / "clf")
    with pytest.raises(ValueError, match="pretraining needs a language model"):
        PretrainRunner(tmp_path / "clf", data[0], data[1], tmp_path / "run", settings(), progress=False)
