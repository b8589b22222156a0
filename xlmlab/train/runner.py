"""The training runner: fine-tune a classifier on NLI, evaluate it per language, lose nothing.

One runner serves the notebook and the command line (`xlmlab xnli train`). It follows the
XLM-R protocol for XNLI: train on English, evaluate every language during training, keep the
checkpoint with the best *average* dev accuracy over languages, report test accuracy per
language for that checkpoint.

    runner = Runner("tiny-xlmr", train, {"dev": dev, "test": test}, "runs/tiny", Settings(max_steps=600))
    runner.fit()                  # -> metrics DataFrame; runs/tiny/metrics.json holds the result

What it does for the hardware:
- device chosen by `try_gpu` (CUDA, MPS, CPU); bf16 autocast on GPUs that have it, fp16 with
  loss scaling otherwise, float32 on a CPU (exactly reproducible);
- gradient accumulation: `batch_size` is the effective batch of one optimisation step, split
  into micro-batches; a CUDA out-of-memory halves the micro-batch and retries the step, so the
  effective batch never changes;
- several GPUs with `torchrun` (DistributedDataParallel): each process takes its share of
  every step's examples, and the losses are scaled so the update equals one process's;
- row-sparse embedding updates (`sparse_embeddings`): only the rows of the tokens in the batch
  move (SparseAdam), instead of dense AdamW over the whole matrix: 692M parameters for XLM-V.

What it does to lose nothing: every `save_every` steps the model, optimiser, scheduler, loss
scaler, random-number states and data position go into `out/checkpoint-<step>/`, written under
a temporary name and renamed; `out/latest` names the newest complete one. `resume=True` goes on
from there and reaches exactly the weights and metrics of an uninterrupted run (on a CPU with the
same seed). A non-finite loss stops the run with a clear message; nothing is saved from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..models.checkpoint import _atomic, load_classifier, save_model
from ..device import try_gpu
from ..load import load_tokenizer, locate
from ..nli.xnli import (
    LABELS,
    EncodedPairs,
    encode_pairs,
    eval_batches,
    length_grouped_batches,
)

TOKENIZER_FILES = ("sentencepiece.bpe.model", "tokenizer_config.json", "vocab.json", "merges.txt")


@dataclass
class Settings:
    """How to train. `batch_size` is the effective batch: examples per optimisation step."""

    max_steps: int | None = None  # None: `epochs` passes over the training set
    epochs: float = 2.0
    batch_size: int = 32
    micro_batch_size: int | None = None  # per process; None: the whole share of a step at once
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup: float = 0.06  # share of the steps with a linearly rising learning rate; then linear decay to 0
    max_length: int = 128
    clip: float | None = 1.0  # gradient-norm clipping; None: off
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    eval_every: int | None = None  # steps between evaluations; None: once per epoch (and at the end)
    save_every: int = 500
    eval_batch_size: int = 128
    seed: int = 0
    sparse_embeddings: bool = False
    device: str | None = None  # None: try_gpu()

    # what must match for a checkpoint to be resumed: everything that changes the result
    RESULT_FIELDS = ("epochs", "max_steps", "batch_size", "lr", "weight_decay", "warmup", "max_length", "clip",
                     "precision", "seed", "sparse_embeddings", "eval_every")


PRESETS = {
    # The XLM-V paper's XNLI recipe: 12 epochs, lr 7.5e-6, batch 16, length 256, fp16, no weight
    # decay, no warmup; best checkpoint by average dev accuracy.
    "xlmv": dict(epochs=12.0, lr=7.5e-6, batch_size=16, max_length=256, precision="fp16", weight_decay=0.0,
                 warmup=0.0),
}


def preset(name: str, **overrides) -> Settings:
    if name not in PRESETS:
        raise ValueError(f"no preset {name!r}; expected one of {sorted(PRESETS)}")
    return Settings(**(PRESETS[name] | overrides))


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """None (float32) or the dtype to autocast to."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision {precision!r}; expected auto, fp32, bf16 or fp16")
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def linear_schedule(total: int, warmup: float):
    """step -> learning-rate factor: 0 -> 1 over the warm-up, then 1 -> 0 at `total`."""
    warm = round(warmup * total)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))
    return factor


def clip_gradients(params: list[torch.nn.Parameter], max_norm: float) -> torch.Tensor:
    """Scale all gradients, dense and row-sparse alike, so their joint norm is at most `max_norm`."""
    grads = [p.grad for p in params if p.grad is not None]
    if not any(g.is_sparse for g in grads):
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    norms = [(g.coalesce().values() if g.is_sparse else g).float().norm() for g in grads]
    total = torch.stack(norms).norm()
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad = p.grad.coalesce() * scale if p.grad.is_sparse else p.grad.mul_(scale)
    return total


@torch.no_grad()
def predict(model: torch.nn.Module, pairs: EncodedPairs, *, device: torch.device, batch_size: int = 128,
            dtype: torch.dtype | None = None, progress: bool = False, desc: str = "evaluating") -> np.ndarray:
    """The predicted label of every pair, batched by length."""
    was_training = model.training
    model.eval()
    predictions = np.empty(len(pairs), dtype=np.int64)
    for rows in tqdm(eval_batches(pairs.lengths, batch_size), desc=desc, disable=not progress, leave=False,
                     mininterval=1.0):
        batch = {k: v.to(device) for k, v in pairs.collate(rows).items() if k != "labels"}
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(**batch)
        predictions[rows] = logits.argmax(-1).cpu().numpy()
    model.train(was_training)
    return predictions


def accuracy_by_language(frame: pd.DataFrame, predictions: np.ndarray) -> dict[str, float]:
    """Accuracy (%) per language in the frame's order, and their plain average ("avg")."""
    correct = pd.Series(predictions == frame["label"].to_numpy(), index=frame.index)
    by_language = correct.groupby(frame["language"], sort=False).mean() * 100
    return {**by_language.round(4).to_dict(), "avg": round(float(by_language.mean()), 4)}


def _replace_dir(staging: Path, target: Path) -> None:
    """Put a finished directory in place of `target`; a reader never sees it half-written."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


class Runner:
    """Fine-tune `model` (a name or directory; see `load_model`) on `train`, evaluate on `evals`.

    `evals` maps a split name to a table from `read_xnli`; the first is the one the best
    checkpoint is chosen on (the dev set), all are reported.
    """

    def __init__(self, model: str | os.PathLike, train: pd.DataFrame, evals: dict[str, pd.DataFrame],
                 out: str | os.PathLike, settings: Settings | None = None, *, progress: bool = True):
        self.settings = settings or Settings()
        self.out = Path(out)
        self.source = locate(model)
        self.train_frame, self.evals = train, evals
        self.progress = progress
        if not evals:
            raise ValueError("at least one evaluation set is needed: the best checkpoint is chosen on the first")
        if self.settings.save_every < 1:
            raise ValueError(f"save_every must be a positive number of steps; found {self.settings.save_every}")
        self.world, self.rank = 1, 0
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            self._init_distributed()
        s = self.settings
        self.device = torch.device(s.device) if s.device else try_gpu(int(os.environ.get("LOCAL_RANK", "0")))
        self.dtype = autocast_dtype(s.precision, self.device)
        if s.batch_size % self.world:
            raise ValueError(f"batch_size {s.batch_size} does not split over {self.world} processes")
        self.share = s.batch_size // self.world  # examples per process per step
        self.micro = min(s.micro_batch_size or self.share, self.share)
        self.tokenizer = load_tokenizer(self.source)
        self.metric_rows: list[tuple] = []  # (step, split, language, accuracy)
        self.log_rows: list[tuple] = []  # (step, loss, lr, grad_norm, samples_per_s)

    @property
    def metrics(self) -> pd.DataFrame:
        """Accuracy per evaluation, split and language ("avg": their average), one row each."""
        return pd.DataFrame(self.metric_rows, columns=["step", "split", "language", "accuracy"])

    @property
    def log(self) -> pd.DataFrame:
        """Loss, learning rate, gradient norm (before clipping) and speed at every step."""
        return pd.DataFrame(self.log_rows, columns=["step", "loss", "lr", "grad_norm", "samples_per_s"])

    # -- setup ---------------------------------------------------------------------------------

    def _init_distributed(self) -> None:
        if not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        if self.settings.sparse_embeddings:
            raise ValueError("sparse_embeddings is not supported with several processes; use dense AdamW")

    def _encode(self, frame: pd.DataFrame) -> EncodedPairs:
        lang2id = getattr(self.model.config, "lang2id", None) if self.model.config.model_type == "xlm" else None
        return encode_pairs(self.tokenizer, frame, max_length=self.settings.max_length, lang2id=lang2id)

    def _build(self) -> None:
        s = self.settings
        torch.manual_seed(s.seed)
        self.model = load_classifier(self.source, LABELS, device=self.device, seed=s.seed)
        if s.sparse_embeddings:
            self.model.input_embeddings.sparse = True
        self.train_pairs = self._encode(self.train_frame)
        self.eval_pairs = {name: self._encode(frame) for name, frame in self.evals.items()}
        self.steps_per_epoch = len(self.train_pairs) // s.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"{len(self.train_pairs)} training pairs do not fill one batch of {s.batch_size}")
        self.total = s.max_steps or math.ceil(s.epochs * self.steps_per_epoch)
        self.eval_every = s.eval_every or self.steps_per_epoch

        embedding = self.model.input_embeddings.weight
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            if p is embedding and s.sparse_embeddings:
                continue
            (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
        groups = [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        fused = {"fused": True} if self.device.type == "cuda" else {}
        self.optimizers = [torch.optim.AdamW(groups, lr=s.lr, **fused)]
        if s.sparse_embeddings:
            self.optimizers.append(torch.optim.SparseAdam([embedding], lr=s.lr))
        factor = linear_schedule(self.total, s.warmup)
        self.schedules = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in self.optimizers]
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.step, self.best = 0, (-1.0, 0)  # (average dev accuracy, step)

    # -- one optimisation step -----------------------------------------------------------------

    def _batch_rows(self, step: int) -> np.ndarray:
        """This process's share of the examples of `step` (fixed by seed, epoch and position)."""
        epoch, index = divmod(step, self.steps_per_epoch)
        if index == 0 or getattr(self, "_epoch", None) != epoch:
            self._epoch = epoch
            self._batches = length_grouped_batches(self.train_pairs.lengths, self.settings.batch_size,
                                                   seed=self.settings.seed, epoch=epoch)
        return self._batches[index][self.rank::self.world]

    def _train_step(self, step: int) -> tuple[float, float]:
        rows = self._batch_rows(step)
        while True:
            try:
                return self._accumulate(rows)
            except torch.OutOfMemoryError:
                for o in self.optimizers:
                    o.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                if self.micro == 1 or self.world > 1:
                    raise
                self.micro //= 2
                tqdm.write(f"out of memory at step {step + 1}: micro-batch halved to {self.micro}, "
                           f"{math.ceil(self.share / self.micro)} micro-batches per step (effective batch unchanged)")

    def _accumulate(self, rows: np.ndarray) -> tuple[float, float]:
        s = self.settings
        parts = [rows[i:i + self.micro] for i in range(0, len(rows), self.micro)]
        total_loss = torch.zeros((), device=self.device)
        for i, part in enumerate(parts):
            batch = {k: v.to(self.device, non_blocking=True) for k, v in self.train_pairs.collate(part).items()}
            labels = batch.pop("labels")
            last = i == len(parts) - 1
            sync = self.net.no_sync() if self.world > 1 and not last else contextlib.nullcontext()
            with sync:
                with torch.autocast(self.device.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
                    logits = self.net(**batch)
                # the sum over the whole effective batch, divided once: micro-batches and processes
                # add up to exactly the gradient of one big batch (DDP averages over processes)
                loss = F.cross_entropy(logits.float(), labels, reduction="sum") * (self.world / s.batch_size)
                self.scaler.scale(loss).backward()
            total_loss += loss.detach()
        if self.world > 1:
            dist.all_reduce(total_loss)
            total_loss /= self.world
        loss_value = total_loss.item()
        if not math.isfinite(loss_value):
            for o in self.optimizers:
                o.zero_grad(set_to_none=True)
            raise TrainingDiverged(self._diverged_message(loss_value))
        params = [p for p in self.model.parameters() if p.grad is not None]
        for o in self.optimizers:
            self.scaler.unscale_(o)
        norm = clip_gradients(params, s.clip) if s.clip else torch.zeros(())
        for o in self.optimizers:
            self.scaler.step(o)
        self.scaler.update()
        for o, schedule in zip(self.optimizers, self.schedules):
            o.zero_grad(set_to_none=True)
            schedule.step()
        return loss_value, float(norm)

    def _diverged_message(self, loss: float) -> str:
        latest = self._latest()
        kept = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
        return (f"the training loss is {loss} at step {self.step + 1} (learning rate "
                f"{self.schedules[0].get_last_lr()[0]:.3g}); stopped without saving: {kept}. Try a lower "
                "--lr, a longer warm-up, or bf16 instead of fp16.")

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(self) -> dict[str, dict[str, float]]:
        """Accuracy per language on every evaluation set, with the current weights."""
        results = {}
        for name, pairs in self.eval_pairs.items():
            predictions = predict(self.model, pairs, device=self.device, batch_size=self.settings.eval_batch_size,
                                  dtype=self.dtype, progress=self.progress, desc=f"evaluating {name}")
            results[name] = accuracy_by_language(self.evals[name], predictions)
        return results

    def _evaluate_and_select(self) -> None:
        if self.rank == 0:
            results = self.evaluate()
            self.metric_rows += [(self.step, name, lang, acc) for name, accs in results.items()
                                 for lang, acc in accs.items()]
            selection = results[next(iter(self.evals))]["avg"]
            if selection > self.best[0]:
                self.best = (selection, self.step)
                self._save_model_dir(self.out / "best")
            self._write_metrics()
        if self.world > 1:
            dist.barrier()

    # -- files -----------------------------------------------------------------------------------

    def _save_model_dir(self, target: Path) -> None:
        staging = Path(tempfile.mkdtemp(dir=self.out, prefix=f".{target.name}."))
        save_model(self.model, staging)
        for name in TOKENIZER_FILES:
            if (self.source / name).is_file():
                shutil.copy(self.source / name, staging / name)
        _replace_dir(staging, target)

    def _latest(self) -> Path | None:
        pointer = self.out / "latest"
        if not pointer.is_file():
            return None
        path = self.out / pointer.read_text().strip()
        return path if (path / "training_state.pt").is_file() else None

    def _save_checkpoint(self) -> None:
        if self.rank == 0:
            name = f"checkpoint-{self.step}"
            staging = Path(tempfile.mkdtemp(dir=self.out, prefix=f".{name}."))
            save_model(self.model, staging)
            state = {
                "step": self.step, "best": self.best, "micro": self.micro,
                "settings": {f: getattr(self.settings, f) for f in Settings.RESULT_FIELDS},
                "optimizers": [o.state_dict() for o in self.optimizers],
                "schedules": [s.state_dict() for s in self.schedules],
                "scaler": self.scaler.state_dict(),
                "rng": {"torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
                "metrics": self.metric_rows, "log": self.log_rows,
            }
            torch.save(state, staging / "training_state.pt")
            _replace_dir(staging, self.out / name)
            previous = self._latest()
            _atomic(self.out / "latest", lambda tmp: Path(tmp).write_text(name + "\n"))
            if previous is not None and previous.name != name:
                shutil.rmtree(previous, ignore_errors=True)
        if self.world > 1:
            dist.barrier()

    def _restore(self, checkpoint: Path) -> None:
        state = torch.load(checkpoint / "training_state.pt", map_location="cpu", weights_only=False)
        saved = state["settings"]
        now = {f: getattr(self.settings, f) for f in Settings.RESULT_FIELDS}
        changed = {k: (saved.get(k), v) for k, v in now.items() if saved.get(k) != v}
        if changed:
            raise ValueError(f"{checkpoint}: cannot resume with different settings: "
                             + ", ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in changed.items()))
        weights = load_classifier(checkpoint, LABELS, device=self.device)
        with torch.no_grad():
            for ours, theirs in zip(self.model.parameters(), weights.parameters()):
                ours.copy_(theirs)
        for o, saved_state in zip(self.optimizers, state["optimizers"]):
            o.load_state_dict(saved_state)
        for s, saved_state in zip(self.schedules, state["schedules"]):
            s.load_state_dict(saved_state)
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.step, self.best, self.micro = state["step"], tuple(state["best"]), min(state["micro"], self.micro)
        self.metric_rows, self.log_rows = list(state["metrics"]), list(state["log"])

    def _write_metrics(self) -> None:
        _atomic(self.out / "metrics.csv", lambda tmp: self.metrics.to_csv(tmp, index=False))
        _atomic(self.out / "train_log.csv", lambda tmp: self.log.to_csv(tmp, index=False))
        _atomic(self.out / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(self.result(), indent=2)))

    def result(self) -> dict:
        """What metrics.json holds: per-language accuracies at the selected (best) step."""
        step = self.best[1]
        at_best = self.metrics[self.metrics["step"] == step]
        accuracy = {name: dict(zip(g["language"], g["accuracy"])) for name, g in at_best.groupby("split", sort=False)}
        return {"model": str(self.source), "best_step": int(step), "steps": int(self.step), "total_steps": self.total,
                "selected_on": f"{next(iter(self.evals))} average accuracy", "accuracy": accuracy,
                "settings": dataclasses.asdict(self.settings)}

    # -- the loop --------------------------------------------------------------------------------

    def fit(self, *, resume: bool = False) -> pd.DataFrame:
        """Train to the last step (evaluating and checkpointing on the way); returns the metrics."""
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in self.out.glob(".checkpoint-*"):  # left by a run killed while writing
            shutil.rmtree(stale, ignore_errors=True)
        self._build()
        latest = self._latest()
        if resume and latest is not None:
            self._restore(latest)
        elif not resume and latest is not None:
            raise FileExistsError(f"{self.out} holds a run ({latest.name}); resume it (--resume) or choose another --out")
        self.model.train()
        # one refresh a second at most: a notebook front end drops messages when flooded
        bar = tqdm(total=self.total, initial=self.step, desc="fine-tuning", disable=not self.progress or self.rank,
                   mininterval=1.0)
        started, since = time.perf_counter(), self.step
        while self.step < self.total:
            loss, norm = self._train_step(self.step)
            self.step += 1
            lr = self.schedules[0].get_last_lr()[0]
            speed = (self.step - since) * self.settings.batch_size / (time.perf_counter() - started)
            self.log_rows.append((self.step, loss, lr, norm, speed))
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", refresh=False)
            bar.update(1)
            if self.step % self.eval_every == 0 or self.step == self.total:
                self._evaluate_and_select()
            if self.step % self.settings.save_every == 0 or self.step == self.total:
                self._save_checkpoint()
        bar.close()
        if self.rank == 0:
            self._write_metrics()
        return self.metrics


def evaluate_directory(model: str | os.PathLike, evals: dict[str, pd.DataFrame], *, max_length: int = 128,
                       batch_size: int = 128, device: str | None = None, precision: str = "auto",
                       progress: bool = True) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """Accuracy per language of a fine-tuned classifier directory (e.g. `out/best`), and its predictions."""
    source = locate(model)
    dev = torch.device(device) if device else try_gpu()
    classifier = load_classifier(source, LABELS, device=dev, require_head=True).eval()
    tokenizer = load_tokenizer(source)
    lang2id = getattr(classifier.config, "lang2id", None) if classifier.config.model_type == "xlm" else None
    results, predictions = {}, {}
    for name, frame in evals.items():
        pairs = encode_pairs(tokenizer, frame, max_length=max_length, lang2id=lang2id)
        predictions[name] = predict(classifier, pairs, device=dev, batch_size=batch_size,
                                    dtype=autocast_dtype(precision, dev), progress=progress, desc=f"evaluating {name}")
        results[name] = accuracy_by_language(frame, predictions[name])
    return results, predictions
