"""Pretraining with the shared runner: MLM and TLM examples, learning, exact resume, published layout."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import xlmlab
from xlmlab import parallel
from xlmlab.cli import main as cli
from xlmlab.pretrain import PretrainRunner, examples, masked_accuracy, masked_counts, masked_predictions
from xlmlab.train import Settings

LANGS = ["de", "sw"]


@pytest.fixture(scope="module")
def data():
    train = parallel.pairs("train", LANGS)
    train = train.groupby("language").head(300).reset_index(drop=True)
    return train, {"dev": parallel.pairs("eval", LANGS)}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """tiny-xlmr's random start without dropout (what pretraining starts from)."""
    target = tmp_path_factory.mktemp("models") / "tiny-xlmr-nodrop"
    shutil.copytree(xlmlab.tiny_models.initial("tiny-xlmr"), target)
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
    counts = ex.piece_counts()
    ordinary = sum(int((~np.isin(ids, list(tok.special_ids))).sum()) for ids in ex.ids)
    assert counts.sum() == ordinary and not counts[[i for i in tok.special_ids if i < len(counts)]].any()
    assert sum(ex.piece_counts(lang).sum() for lang in set(ex.language)) == ordinary


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

    # per sentence, what the averages are made of: each row as the model scores that sentence alone
    dev = runner.eval_data["dev"]
    for only_masks in (False, True):
        counts = masked_counts(runner.model, dev, device=runner.device, only_masks=only_masks)
        assert counts["example"].tolist() == list(range(len(dev)))
        accuracy = masked_accuracy(runner.model, dev, device=runner.device, only_masks=only_masks)
        totals = counts.groupby("language")[["correct", "masked"]].sum()
        assert {lang: round(100 * c / n, 4) for lang, (c, n) in totals.iterrows()} == \
            {lang: v for lang, v in accuracy.items() if lang != "avg"}
        for row in (0, len(dev) // 2, len(dev) - 1):
            batch = dev.collate([row])
            targets, shown = batch.pop("targets"), batch["input_ids"][batch["masked_positions"]]
            hits = runner.model(**batch).argmax(-1) == targets
            keep = shown == dev.mask_id if only_masks else torch.ones_like(hits)
            assert counts.loc[row, ["masked", "correct"]].tolist() == [int(keep.sum()), int(hits[keep].sum())]
    assert counts["correct"].sum() > 0
    found = masked_predictions(runner.model, dev, device=runner.device)
    assert len(found) == int(dev.collate(range(len(dev)))["masked_positions"].sum())
    assert 0.75 < found["shown_mask"].mean() < 0.85  # 80% of the chosen positions are shown as <mask>


@pytest.fixture(scope="module")
def xlm_mlm_dir(xlm_dir, tmp_path_factory):
    """A small bidirectional XLM with de, en and sw language embeddings, without dropout, and
    the test's BPE vocabulary: a model TLM can train."""
    target = tmp_path_factory.mktemp("models") / "xlm-mlm"
    lang2id = {"de": 0, "en": 1, "sw": 2}
    vocab_size = len(json.loads((xlm_dir / "vocab.json").read_text()))
    config = xlmlab.XLMConfig(vocab_size=vocab_size, emb_dim=32, n_layers=2, n_heads=4, n_langs=3, lang2id=lang2id,
                              id2lang={i: lang for lang, i in lang2id.items()}, dropout=0.0, attention_dropout=0.0,
                              max_position_embeddings=64)
    torch.manual_seed(0)
    xlmlab.save_model(xlmlab.build_model(config), target)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(xlm_dir / name, target)
    (target / "tokenizer_config.json").write_text(json.dumps({"lang2id": lang2id}))
    return target


@pytest.mark.parametrize("objective", ["mlm", "mlm+tlm"])
def test_resume_after_an_interruption_masks_and_trains_exactly_as_without(objective, model_dir, xlm_mlm_dir, data,
                                                                           tmp_path):
    train, evals = data
    model = model_dir if objective == "mlm" else xlm_mlm_dir  # TLM needs XLM's language embeddings

    def runner(out):
        run = PretrainRunner(model, train, evals, out, settings(), objective=objective, progress=False)
        run.steps_per_epoch = 3  # several epochs in 8 steps: masks change at every epoch boundary
        return run
    runner(tmp_path / "full").fit()
    broken = runner(tmp_path / "broken")
    step = broken._train_step

    def interrupted(i):
        if i == 5:
            raise KeyboardInterrupt
        return step(i)
    broken._train_step = interrupted
    with pytest.raises(KeyboardInterrupt):
        broken.fit()
    runner(tmp_path / "broken").fit(resume=True)
    a = load_file(tmp_path / "full" / "checkpoint-8" / "model.safetensors")
    b = load_file(tmp_path / "broken" / "checkpoint-8" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "full" / "metrics.json").read_text())["accuracy"] == \
        json.loads((tmp_path / "broken" / "metrics.json").read_text())["accuracy"]


def pretrain_args(model, out, *extra):
    return ["pretrain", "--model", model, "--objective", "mlm", "--languages", *LANGS, "--out", out,
            "--max-steps", 12, "--batch-size", 8, "--max-length", 32, "--lr", 2e-3, "--warmup", 0,
            "--save-every", 4, "--eval-every", 4, "--seed", 5, "--device", "cpu", "--quiet", *extra]


def run_cli(*args) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "xlmlab", *map(str, args)], env=env,
                            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_pretraining_killed_hard_resumes_to_exactly_the_uninterrupted_result(model_dir, tmp_path):
    """MLM from the command line, killed with SIGKILL after its first checkpoint; the resumed
    run masks, samples and trains as if nothing had happened."""
    whole = run_cli(*pretrain_args(model_dir, tmp_path / "whole"))
    assert whole.wait(timeout=600) == 0, whole.stdout.read()
    out = tmp_path / "killed"
    victim = run_cli(*pretrain_args(model_dir, out))
    deadline = time.time() + 600
    while not (out / "latest").is_file() or (out / "latest").read_text().strip() == "checkpoint-4":
        assert victim.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    resumed = run_cli(*pretrain_args(model_dir, out, "--resume"))
    log = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, log
    a = load_file(tmp_path / "whole" / "checkpoint-12" / "model.safetensors")
    b = load_file(out / "checkpoint-12" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "whole" / "metrics.csv").read_text() == (out / "metrics.csv").read_text()


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
    with pytest.raises(ValueError, match="MLM and TLM need a bidirectional model; this one is causal"):
        PretrainRunner("tiny-xlm", data[0], data[1], tmp_path / "run2", settings(), progress=False)
