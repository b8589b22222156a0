"""The fine-tuning runner: steps, schedule, clipping, checkpoints, exact resume, DDP, NaN and OOM."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import xlmlab
from xlmlab.models.checkpoint import load_classifier
from xlmlab.nli import LABELS, read_xnli
from xlmlab.nli import NLIRunner as Runner
from xlmlab.nli import sample as nli_sample
from xlmlab.train import Settings, TrainingDiverged, preset, run_directory
from xlmlab.train.optimisers import clip_gradients
from xlmlab.train.settings import linear_schedule

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data():
    frame = read_xnli(nli_sample.path())
    train = frame[frame["split"] == "train"].iloc[:512].reset_index(drop=True)
    dev = read_xnli(nli_sample.path(), ["en", "de", "zh"], split="dev").groupby("language", sort=False).head(40)
    return train, {"dev": dev.reset_index(drop=True)}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """tiny-xlmr's random start without dropout: runs that split the work differently can then
    agree exactly (the same on every machine, unlike the pretrained weights)."""
    source = xlmlab.tiny_models.initial("tiny-xlmr")
    target = tmp_path_factory.mktemp("models") / "tiny-xlmr-nodrop"
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    config |= {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    (target / "config.json").write_text(json.dumps(config))
    return target


def run(model_dir, data, out, **settings) -> Runner:
    train, evals = data
    settings = dict(max_steps=6, batch_size=16, lr=1e-3, save_every=3, eval_every=3, device="cpu") | settings
    runner = Runner(model_dir, train, evals, out, Settings(**settings), progress=False)
    runner.fit()
    return runner


def weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(directory / "model.safetensors")


def assert_same_weights(a: Path, b: Path, atol: float = 0.0) -> None:
    """Equal weights. With atol > 0 (sums taken in another order), the attention key biases get 10x
    more: their exact gradient is 0 (softmax ignores a shift shared by all keys), and Adam divides
    rounding noise by its own tiny root mean square, so they take noise-driven steps."""
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        tolerance = atol * 10 if name.endswith("attention.self.key.bias") else atol
        torch.testing.assert_close(wa[name], wb[name], atol=tolerance, rtol=0, msg=name)


def test_classifier_body_is_the_pretrained_model_and_matches_transformers(tmp_path):
    import transformers

    source = xlmlab.load.locate("tiny-xlmr")
    ours = load_classifier(source, LABELS, seed=0).eval()
    reference = transformers.XLMRobertaForSequenceClassification.from_pretrained(source, num_labels=3).eval()
    mlm = xlmlab.load_model("tiny-xlmr")
    torch.testing.assert_close(ours.encoder.layers[1].ffn.up.weight, mlm.encoder.layers[1].ffn.up.weight)
    assert ours.classifier.out_proj.weight.std().item() == pytest.approx(0.02, rel=0.3)
    assert (ours.classifier.dense.bias == 0).all()
    with torch.no_grad():  # same head, then the same logits
        reference.classifier.dense.weight.copy_(ours.classifier.dense.weight)
        reference.classifier.out_proj.weight.copy_(ours.classifier.out_proj.weight)
    ids = torch.tensor([[0, 55, 66, 77, 2, 2, 88, 2], [0, 99, 2, 2, 45, 2, 1, 1]])
    mask = (ids != 1).long()
    with torch.no_grad():
        torch.testing.assert_close(ours(ids, mask), reference(input_ids=ids, attention_mask=mask).logits,
                                   atol=1e-5, rtol=1e-5)


def test_a_fine_tuned_directory_loads_as_it_is_and_an_mlm_is_refused_for_evaluation(model_dir, data, tmp_path):
    runner = run(model_dir, data, tmp_path / "run", max_steps=3)
    again = load_classifier(tmp_path / "run" / "best", LABELS, require_head=True)
    torch.testing.assert_close(again.classifier.out_proj.weight, runner.model.classifier.out_proj.weight)
    with pytest.raises(xlmlab.CheckpointError, match="expected a classifier"):
        load_classifier(model_dir, LABELS, require_head=True)


def test_the_model_is_built_with_the_runner_so_it_evaluates_before_training(model_dir, data, tmp_path):
    train, evals = data
    runner = Runner(model_dir, train, evals, tmp_path / "run", Settings(batch_size=16, device="cpu"), progress=False)
    before = runner.evaluate()
    assert list(before) == ["dev"] and list(before["dev"]) == ["en", "de", "zh", "avg"]
    assert all(0 <= accuracy <= 100 for accuracy in before["dev"].values())
    assert not (tmp_path / "run").exists()  # nothing written before fit()


def test_a_task_is_what_the_generic_runner_lacks(model_dir, data, tmp_path):
    from xlmlab.train import Runner as GenericRunner

    train, evals = data
    with pytest.raises(NotImplementedError):
        GenericRunner(model_dir, train, evals, tmp_path / "run", Settings(device="cpu"), progress=False)


def test_linear_schedule_warms_up_then_decays_to_zero():
    factor = linear_schedule(100, 0.1)
    assert [factor(s) for s in (0, 4, 9)] == [0.1, 0.5, 1.0]
    assert factor(10) == 1.0 and factor(55) == pytest.approx(0.5) and factor(100) == 0.0
    assert linear_schedule(10, 0.0)(0) == 1.0


def test_the_runner_follows_the_schedule(model_dir, data, tmp_path):
    runner = run(model_dir, data, tmp_path / "run", max_steps=10, warmup=0.2, save_every=10, eval_every=10)
    factor = linear_schedule(10, 0.2)
    assert runner.log["lr"].tolist() == pytest.approx([1e-3 * factor(s) for s in range(1, 11)])


def test_clipping_bounds_the_joint_norm_of_dense_and_sparse_gradients():
    dense = torch.nn.Parameter(torch.zeros(3))
    dense.grad = torch.tensor([3.0, 0.0, 4.0])
    sparse = torch.nn.Parameter(torch.zeros(5, 2))
    sparse.grad = torch.sparse_coo_tensor([[1, 1]], torch.tensor([[6.0, 0.0], [6.0, 0.0]]), (5, 2),
                                          check_invariants=True)
    total = clip_gradients([dense, sparse], 1.0)
    assert total.item() == pytest.approx(13.0)  # sqrt(25 + 12^2): the duplicate row adds up
    joint = torch.cat([dense.grad, sparse.grad.to_dense().flatten()]).norm()
    assert joint.item() == pytest.approx(1.0, rel=1e-5)
    plain = torch.nn.Parameter(torch.zeros(2))
    plain.grad = torch.tensor([0.3, 0.4])
    clip_gradients([plain], 1.0)
    assert plain.grad.tolist() == pytest.approx([0.3, 0.4])  # under the bound: untouched


def test_clipping_changes_the_update(model_dir, data, tmp_path):
    a = run(model_dir, data, tmp_path / "a", max_steps=2, clip=None)
    b = run(model_dir, data, tmp_path / "b", max_steps=2, clip=1e-3)
    assert a.log["grad_norm"].tolist() == [0.0, 0.0]
    assert b.log["grad_norm"].iloc[0] > 1e-3  # the norm before clipping
    assert not torch.equal(weights(tmp_path / "a" / "checkpoint-2")["classifier.out_proj.weight"],
                           weights(tmp_path / "b" / "checkpoint-2")["classifier.out_proj.weight"])


def test_gradient_accumulation_equals_one_large_batch(model_dir, data, tmp_path):
    run(model_dir, data, tmp_path / "whole", max_steps=4, save_every=4)
    run(model_dir, data, tmp_path / "micro", max_steps=4, save_every=4, micro_batch_size=5)  # 5 + 5 + 5 + 1
    # sums in another order differ in the last bits: 1e-5 is 1% of one step at this learning rate
    assert_same_weights(tmp_path / "whole" / "checkpoint-4", tmp_path / "micro" / "checkpoint-4", atol=1e-5)


def test_out_of_memory_halves_the_micro_batch_and_keeps_the_result(model_dir, data, tmp_path, monkeypatch):
    run(model_dir, data, tmp_path / "plain", max_steps=4, save_every=4)
    forward = xlmlab.XLMRForSequenceClassification.forward

    def small_memory(self, input_ids, *args, **kwargs):
        if self.training and input_ids.shape[0] > 4:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(self, input_ids, *args, **kwargs)

    monkeypatch.setattr(xlmlab.XLMRForSequenceClassification, "forward", small_memory)
    runner = run(model_dir, data, tmp_path / "oom", max_steps=4, save_every=4)
    assert runner.micro == 4
    assert_same_weights(tmp_path / "plain" / "checkpoint-4", tmp_path / "oom" / "checkpoint-4", atol=1e-5)


def test_a_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(model_dir, data, tmp_path,
                                                                                   monkeypatch):
    forward = xlmlab.XLMRForSequenceClassification.forward
    calls = []

    def diverging(self, *args, **kwargs):
        logits = forward(self, *args, **kwargs)
        if self.training:
            calls.append(1)
            if len(calls) == 5:
                return logits * float("nan")
        return logits

    monkeypatch.setattr(xlmlab.XLMRForSequenceClassification, "forward", diverging)
    with pytest.raises(TrainingDiverged, match=r"loss is nan at step 5 .*last good checkpoint is .*checkpoint-3"):
        run(model_dir, data, tmp_path / "run", max_steps=6)
    assert (tmp_path / "run" / "latest").read_text().strip() == "checkpoint-3"
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*")) == ["checkpoint-3"]


def test_sparse_embeddings_move_only_the_rows_in_the_batch(model_dir, data, tmp_path):
    runner = run(model_dir, data, tmp_path / "run", max_steps=1, sparse_embeddings=True, save_every=1)
    before = weights(model_dir)["roberta.embeddings.word_embeddings.weight"]
    after = weights(tmp_path / "run" / "checkpoint-1")["roberta.embeddings.word_embeddings.weight"]
    seen = torch.zeros(len(before), dtype=torch.bool)
    rows = runner._batches[0]
    for i in rows:
        seen[torch.from_numpy(runner.train_data.ids[i])] = True
    moved = (before != after).any(dim=1)
    assert moved[seen].all() and not moved[~seen].any()
    dense = run(model_dir, data, tmp_path / "dense", max_steps=1, save_every=1)
    moved_dense = (before != weights(tmp_path / "dense" / "checkpoint-1")[
        "roberta.embeddings.word_embeddings.weight"]).any(dim=1)
    assert moved_dense[~seen].any()  # weight decay moves every row of a dense embedding
    assert dense.model.input_embeddings.sparse is False


def test_a_new_run_refuses_an_occupied_directory_and_resume_refuses_changed_settings(model_dir, data, tmp_path):
    run(model_dir, data, tmp_path / "run", max_steps=3)
    with pytest.raises(FileExistsError, match="resume it"):
        run(model_dir, data, tmp_path / "run", max_steps=3)
    train, evals = data
    runner = Runner(model_dir, train, evals, tmp_path / "run",
                    Settings(max_steps=3, batch_size=16, lr=5e-4, save_every=3, device="cpu"), progress=False)
    with pytest.raises(ValueError, match="lr was 0.001, now 0.0005"):
        runner.fit(resume=True)


def test_a_kept_run_is_named_by_what_decides_it_and_read_back_without_training(model_dir, data, tmp_path):
    train, evals = data
    settings = Settings(max_steps=6, batch_size=16, lr=1e-3, save_every=3, eval_every=3, device="cpu")
    out = run_directory(tmp_path, "nli", model_dir, train, evals, settings)
    assert out.parent == tmp_path and out.name.startswith("nli-")
    assert run_directory(tmp_path, "nli", model_dir, train, evals, settings) == out  # the same inputs, the same name
    changed = {
        "settings": (model_dir, train, evals, dataclasses.replace(settings, lr=5e-4)),
        "training rows": (model_dir, train.iloc[:-1], evals, settings),
        "a training label": (model_dir, train.assign(label=train["label"].iloc[::-1].to_numpy()), evals, settings),
        "the evaluation order": (model_dir, train, {"test": evals["dev"], **evals}, settings),
    }
    names = {what: run_directory(tmp_path, "other", *inputs).name for what, inputs in changed.items()}
    assert len(set(names.values()) | {out.name.replace("nli-", "other-")}) == len(changed) + 1, names
    weights_changed = tmp_path / "model"
    shutil.copytree(model_dir, weights_changed)
    w = weights(weights_changed)
    first_weight = sorted(w)[0]
    w[first_weight].view(-1)[0] += 1
    save_file(w, weights_changed / "model.safetensors")
    assert run_directory(tmp_path, "nli", weights_changed, train, evals, settings) != out

    first = Runner(model_dir, train, evals, out, settings, progress=False)
    first.fit(resume=True)  # nothing kept yet: it trains
    again = Runner(model_dir, train, evals, out, settings, progress=False)
    started = time.perf_counter()
    again.fit(resume=True)  # finished: read back
    assert again.step == 6 and time.perf_counter() - started < 5
    assert again.metrics.equals(first.metrics) and again.log.equals(first.log)
    assert json.loads((out / "metrics.json").read_text())["steps"] == 6

    # one run kept per label: a new digest replaces the old directory, other labels stay
    (tmp_path / "nli-0123456789abcdef").mkdir()
    (tmp_path / "nli-extra-0123456789abcdef").mkdir()
    newer = run_directory(tmp_path, "nli", model_dir, train.iloc[:-1], evals, settings)
    assert not out.exists() and not (tmp_path / "nli-0123456789abcdef").exists()
    assert (tmp_path / "nli-extra-0123456789abcdef").exists() and newer.name.startswith("nli-")


def test_the_xlmv_preset_is_the_papers_recipe():
    s = preset("xlmv")
    assert (s.epochs, s.lr, s.batch_size, s.max_length, s.precision, s.weight_decay, s.warmup) == \
        (12.0, 7.5e-6, 16, 256, "fp16", 0.0, 0.0)
    assert preset("xlmv", lr=1e-5).lr == 1e-5
    with pytest.raises(ValueError, match="no preset"):
        preset("xlmq")


# -- the command line, as separate processes: end to end, hard kill and resume, torchrun ------------

def cli(*args, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "xlmlab", *map(str, args)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """A 384-pair training file and a 3-language dev/test pair of files, in the XNLI-1.0 layout."""
    directory = tmp_path_factory.mktemp("xnli")
    source = nli_sample.path()
    lines = (source / "xnli.train.tsv").read_text(encoding="utf-8").splitlines()[:385]
    (directory / "xnli.train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    evals = directory / "eval"
    evals.mkdir()
    for split in ("dev", "test"):
        lines = (source / f"xnli.{split}.tsv").read_text(encoding="utf-8").splitlines()
        keep = [lines[0]] + [line for line in lines[1:] if line.split("\t")[0] in ("en", "fr", "zh")][::8]
        (evals / f"xnli.{split}.tsv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    return directory


def train_args(model, files, out, *extra):
    return ["xnli", "train", "--model", model, "--train", files / "xnli.train.tsv", "--eval", files / "eval",
            "--out", out, "--max-steps", 24, "--batch-size", 16, "--seed", 3, "--save-every", 4, "--eval-every", 8,
            "--lr", 1e-3, "--device", "cpu", "--quiet", *extra]


def test_cli_trains_writes_metrics_and_evaluates_the_best_model(small_files, tmp_path):
    out = tmp_path / "run"
    done = cli(*train_args("tiny-xlmr", small_files, out))
    log = done.communicate(timeout=300)[0]
    assert done.returncode == 0, log
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["accuracy"]) == {"dev", "test"}
    assert list(metrics["accuracy"]["test"]) == ["en", "fr", "zh", "avg"]
    assert metrics["best_step"] in (8, 16, 24) and metrics["steps"] == 24
    evaluated = cli("xnli", "eval", "--model", out / "best", "--eval", small_files / "eval", "--device", "cpu",
                    "--quiet", "--out", tmp_path / "eval.json")
    log = evaluated.communicate(timeout=300)[0]
    assert evaluated.returncode == 0, log
    assert json.loads((tmp_path / "eval.json").read_text()) == metrics["accuracy"]
    same = subprocess.run([sys.executable, "-m", "xlmlab", "xnli", "--help"], capture_output=True, text=True)
    assert "train" in same.stdout and "eval" in same.stdout


def test_resume_after_a_hard_kill_gives_exactly_the_uninterrupted_result(model_dir, small_files, tmp_path):
    whole = cli(*train_args(model_dir, small_files, tmp_path / "whole"))
    assert whole.wait(timeout=300) == 0, whole.stdout.read()
    out = tmp_path / "killed"
    victim = cli(*train_args(model_dir, small_files, out))
    deadline = time.time() + 300
    while not (out / "latest").is_file() or (out / "latest").read_text().strip() == "checkpoint-4":
        assert victim.poll() is None and time.time() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    (out / ".checkpoint-99.half-written").mkdir()  # what a kill during a save leaves behind
    resumed = cli(*train_args(model_dir, small_files, out, "--resume"))
    log = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, log
    assert_same_weights(tmp_path / "whole" / "checkpoint-24", out / "checkpoint-24")
    assert_same_weights(tmp_path / "whole" / "best", out / "best")
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (tmp_path / "whole", out))
    assert a["accuracy"] == b["accuracy"] and a["best_step"] == b["best_step"]
    assert (tmp_path / "whole" / "metrics.csv").read_text() == (out / "metrics.csv").read_text()
    assert not list(out.glob(".checkpoint-*"))


def test_torchrun_with_two_processes_equals_one_process(model_dir, small_files, tmp_path):
    single = cli(*train_args(model_dir, small_files, tmp_path / "one"))
    assert single.wait(timeout=300) == 0, single.stdout.read()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "xlmlab", *map(str, train_args(model_dir, small_files, tmp_path / "two"))],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stdout + two.stderr
    assert_same_weights(tmp_path / "one" / "checkpoint-24", tmp_path / "two" / "checkpoint-24", atol=1e-5)
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert a["best_step"] == b["best_step"]


def test_an_evaluation_directory_gives_one_set_per_split_without_its_training_file():
    from xlmlab.cli import eval_sets

    sets = eval_sets([nli_sample.path()], ["en", "sw"])
    assert list(sets) == ["dev", "test"]
    assert list(dict.fromkeys(sets["test"]["language"])) == ["en", "sw"]
    assert list(eval_sets([nli_sample.path() / "xnli.train.tsv"], None)) == ["train"]
