"""The runner: one training loop for fine-tuning and pretraining, that loses nothing.

A task subclasses `Runner` and says four things; the runner does the rest:

    build_model(directory, seed)  the model to train, from a model directory (the start, or a checkpoint)
    encode(frame)                 the examples of a table: `len`, `lengths` and `collate(rows)` -> tensors
    loss(net, batch)              the loss summed over the examples of a batch
    evaluate()                    {split: {group: value, ..., "avg": value}} with the current weights

`nli.NLIRunner` (fine-tuning on XNLI, exported as `xlmlab.Runner`) is one. The model is built with
the runner, so `evaluate()` works before `fit()`:

    runner = NLIRunner("tiny-xlmr", train, {"dev": dev, "test": test}, "runs/tiny", Settings(max_steps=600))
    runner.fit()                  # -> metrics DataFrame; runs/tiny/metrics.json holds the result

What it does for the hardware:
- device chosen by `try_gpu` (CUDA, MPS, CPU); bf16 autocast on GPUs that have it, fp16 with
  loss scaling otherwise, float32 on a CPU (exactly reproducible);
- gradient accumulation: `batch_size` is the effective batch of one optimisation step, split
  into micro-batches; a CUDA out-of-memory halves the micro-batch and retries the step, so the
  effective batch never changes;
- several GPUs with `torchrun` (DistributedDataParallel): each process takes its share of
  every step's examples, and the losses are scaled so the update equals one process's;
- row-sparse embedding updates (`sparse_embeddings`, see `optimisers`).

What it does to lose nothing (`checkpoints`): every `save_every` steps a complete checkpoint,
written under a temporary name and renamed; `resume=True` goes on from the newest and reaches
exactly the weights and metrics of an uninterrupted run (on a CPU with the same seed). A
non-finite loss stops the run with a clear message; nothing is saved from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from ..device import try_gpu
from ..load import load_tokenizer, locate
from . import checkpoints
from .batching import length_grouped_batches
from .optimisers import clip_gradients, optimisers
from .selection import Selection
from .settings import Settings, autocast_dtype


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class Runner:
    """Train the model `model` (a name or directory; see `load_model`) on `train`, evaluate on `evals`.

    `evals` maps a split name to a table; the first is the one the best checkpoint is chosen on
    (the dev set), all are reported.
    """

    metric = "accuracy"  # what `evaluate` measures, per `group`
    group = "language"
    desc = "training"  # the progress bar's name

    # the task -------------------------------------------------------------------------------------
    def build_model(self, directory: Path, *, seed: int = 0) -> nn.Module:
        raise NotImplementedError

    def encode(self, frame: pd.DataFrame):
        raise NotImplementedError

    def loss(self, net: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def evaluate(self) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    # setup ------------------------------------------------------------------------------------------
    def __init__(self, model: str | os.PathLike, train: pd.DataFrame, evals: dict[str, pd.DataFrame],
                 out: str | os.PathLike, settings: Settings | None = None, *, progress: bool = True,
                 tokenizer: str | os.PathLike | None = None):
        self.settings = s = settings or Settings()
        self.out = Path(out)
        self.source = locate(model)
        # the tokenizer's directory: the model's, or another (a vocabulary built for a new model)
        self.tokenizer_source = locate(tokenizer, weights=False) if tokenizer is not None else self.source
        self.train_frame, self.evals = train, evals
        self.progress = progress
        if not evals:
            raise ValueError("at least one evaluation set is needed: the best checkpoint is chosen on the first")
        if s.save_every < 1:
            raise ValueError(f"save_every must be a positive number of steps; found {s.save_every}")
        self.world, self.rank = 1, 0
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            self._init_distributed()
        self.device = torch.device(s.device) if s.device else try_gpu(int(os.environ.get("LOCAL_RANK", "0")))
        self.dtype = autocast_dtype(s.precision, self.device)
        if s.batch_size % self.world:
            raise ValueError(f"batch_size {s.batch_size} does not split over {self.world} processes")
        self.share = s.batch_size // self.world  # examples per process per step
        self.micro = min(s.micro_batch_size or self.share, self.share)
        self.tokenizer = load_tokenizer(self.tokenizer_source)
        self.selection = Selection(self.metric, self.group)
        self.log_rows: list[tuple] = []  # (step, loss, lr, grad_norm, samples_per_s)

        torch.manual_seed(s.seed)
        self.model = self.build_model(self.source, seed=s.seed)
        if s.sparse_embeddings:
            self.model.input_embeddings.sparse = True
        self.train_data = self.encode(train)
        self.eval_data = {name: self.encode(frame) for name, frame in evals.items()}
        self.steps_per_epoch = len(self.train_data) // s.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"{len(self.train_data)} training examples do not fill one batch of {s.batch_size}")
        self.total = s.max_steps or math.ceil(s.epochs * self.steps_per_epoch)
        self.eval_every = s.eval_every or self.steps_per_epoch
        self.optimizers, self.schedules = optimisers(self.model, s, self.total, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.step = 0

    def _init_distributed(self) -> None:
        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        if self.settings.sparse_embeddings:
            raise ValueError("sparse_embeddings is not supported with several processes; use dense AdamW")

    @property
    def metrics(self) -> pd.DataFrame:
        """The metric per evaluation, split and group ("avg": their average), one row each."""
        return self.selection.frame

    @property
    def log(self) -> pd.DataFrame:
        """Loss, learning rate, gradient norm (before clipping) and speed at every step."""
        return pd.DataFrame(self.log_rows, columns=["step", "loss", "lr", "grad_norm", "samples_per_s"])

    # the loop ---------------------------------------------------------------------------------------
    def fit(self, *, resume: bool = False) -> pd.DataFrame:
        """Train to the last step (evaluating and checkpointing on the way); returns the metrics."""
        self.out.mkdir(parents=True, exist_ok=True)
        checkpoints.remove_stale(self.out)
        latest = checkpoints.latest(self.out)
        if resume and latest is not None:
            self._restore(latest)
        elif not resume and latest is not None:
            raise FileExistsError(f"{self.out} holds a run ({latest.name}); resume it (--resume) "
                                  "or choose another --out")
        self.model.train()
        # one refresh a second at most: a notebook front end drops messages when flooded
        bar = tqdm(total=self.total, initial=self.step, desc=self.desc, disable=not self.progress or self.rank,
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

    def _batch_rows(self, step: int) -> np.ndarray:
        """This process's share of the examples of `step` (fixed by seed, epoch and position)."""
        epoch, index = divmod(step, self.steps_per_epoch)
        if index == 0 or getattr(self, "_epoch", None) != epoch:
            self._epoch = epoch
            if hasattr(self.train_data, "set_epoch"):  # data that changes every epoch (MLM masks)
                self.train_data.set_epoch(epoch)
            self._batches = length_grouped_batches(self.train_data.lengths, self.settings.batch_size,
                                                   seed=self.settings.seed, epoch=epoch)
        return self._batches[index][self.rank::self.world]

    def _train_step(self, step: int) -> tuple[float, float]:
        """One optimisation step; on a CUDA out-of-memory, the same step with half the micro-batch."""
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
        """Forward and backward over the micro-batches of `rows`, then one update: (loss, grad norm)."""
        s = self.settings
        parts = [rows[i:i + self.micro] for i in range(0, len(rows), self.micro)]
        total_loss = torch.zeros((), device=self.device)
        for i, part in enumerate(parts):
            batch = {k: v.to(self.device, non_blocking=True) for k, v in self.train_data.collate(part).items()}
            # DDP averages gradients over processes at the last micro-batch only
            last = i == len(parts) - 1
            sync = self.net.no_sync() if self.world > 1 and not last else contextlib.nullcontext()
            autocast = torch.autocast(self.device.type, dtype=self.dtype or torch.float32,
                                      enabled=self.dtype is not None)
            with sync:
                with autocast:
                    # the sum over the whole effective batch, divided once: micro-batches and processes
                    # add up to exactly the gradient of one big batch
                    loss = self.loss(self.net, batch) * (self.world / s.batch_size)
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
        # unscale (fp16), clip, step, update the scaler, clear, advance the schedule
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
        latest = checkpoints.latest(self.out)
        kept = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
        return (f"the training loss is {loss} at step {self.step + 1} (learning rate "
                f"{self.schedules[0].get_last_lr()[0]:.3g}); stopped without saving: {kept}. Try a lower "
                "--lr, a longer warm-up, or bf16 instead of fp16.")

    # evaluation and selection -----------------------------------------------------------------------
    def _evaluate_and_select(self) -> None:
        if self.rank == 0:
            if self.selection.record(self.step, self.evaluate()):
                checkpoints.save_model_directory(self.model, self.tokenizer_source, self.out / "best")
            self._write_metrics()
        if self.world > 1:
            dist.barrier()

    def _write_metrics(self) -> None:
        self.selection.write(self.out, self.log, self.result())

    def result(self) -> dict:
        """What metrics.json holds: the metric per split and group at the selected (best) step."""
        return {"model": str(self.source), "best_step": int(self.selection.best[1]), "steps": int(self.step),
                "total_steps": self.total, "selected_on": f"{next(iter(self.evals))} average {self.metric}",
                self.metric: self.selection.at_best(), "settings": dataclasses.asdict(self.settings)}

    # checkpoints ------------------------------------------------------------------------------------
    def _save_checkpoint(self) -> None:
        if self.rank == 0:
            state = {
                "step": self.step, "best": self.selection.best, "micro": self.micro,
                "settings": self.settings.result_fields(),
                "optimizers": [o.state_dict() for o in self.optimizers],
                "schedules": [s.state_dict() for s in self.schedules],
                "scaler": self.scaler.state_dict(),
                "rng": checkpoints.random_states(),
                "metrics": self.selection.rows, "log": self.log_rows,
            }
            checkpoints.save(self.out, self.step, self.model, state)
        if self.world > 1:
            dist.barrier()

    def _restore(self, checkpoint: Path) -> None:
        state = checkpoints.load_state(checkpoint, self.settings.result_fields())
        weights = self.build_model(checkpoint)
        with torch.no_grad():
            for ours, theirs in zip(self.model.parameters(), weights.parameters()):
                ours.copy_(theirs)
        for o, saved in zip(self.optimizers, state["optimizers"]):
            o.load_state_dict(saved)
        for s, saved in zip(self.schedules, state["schedules"]):
            s.load_state_dict(saved)
        self.scaler.load_state_dict(state["scaler"])
        checkpoints.restore_random_states(state["rng"])
        self.step, self.micro = state["step"], min(state["micro"], self.micro)
        self.selection.best = tuple(state["best"])
        self.selection.rows, self.log_rows = list(state["metrics"]), list(state["log"])
