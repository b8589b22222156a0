"""Pretraining: the runner's task for MLM and TLM, on parallel text.

    runner = PretrainRunner("tiny-xlmr", parallel.pairs("train"), {"dev": parallel.pairs("eval")},
                            "runs/mlm", Settings(max_steps=2000, lr=5e-4), objective="mlm")
    runner.fit()   # masked-token accuracy per language on the held-out text, as it goes

The model is any masked or causal LM of the family (XLM-R / XLM-V masked LMs; XLM with its LM
head); its weights are where training starts (the embedded tiny models: random). The loss is the
cross-entropy of the masked tokens, averaged over the masked tokens of each micro-batch; only
the masked positions go through the output layer (`masked_positions`). The evaluation masks the
held-out text once (epoch 0 of `seed`) and reports the share of masked tokens predicted right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..models.checkpoint import load_directory
from ..train.batching import eval_batches
from ..train.runner import Runner
from .data import MaskedExamples, examples

OBJECTIVES = ("mlm", "tlm", "mlm+tlm")
LM_ARCHITECTURES = ("XLMRobertaForMaskedLM", "XLMWithLMHeadModel")


class PretrainRunner(Runner):
    """Pretrain a masked LM with MLM, TLM or both; accuracy of masked tokens per language."""

    metric, group, desc = "accuracy", "language", "pretraining"

    def __init__(self, model, train: pd.DataFrame, evals: dict[str, pd.DataFrame], out, settings=None, *,
                 objective: str = "mlm", alpha: float | None = 0.3, progress: bool = True, tokenizer=None):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
        self.objective, self.alpha = objective, alpha
        super().__init__(model, train, evals, out, settings, progress=progress, tokenizer=tokenizer)

    def build_model(self, directory: Path, *, seed: int = 0) -> nn.Module:
        model = load_directory(directory, device=self.device).train()
        if model.architecture not in LM_ARCHITECTURES:
            raise ValueError(f"{directory}: pretraining needs a language model ({' or '.join(LM_ARCHITECTURES)}); "
                             f"found {model.architecture}")
        if getattr(model.config, "causal", False):
            raise ValueError(f"{directory}: MLM and TLM need a bidirectional model; this one is causal "
                             "(causal: true in config.json, a CLM like tiny-xlm)")
        return model

    def encode(self, frame: pd.DataFrame) -> MaskedExamples:
        """Training text resampled by language with alpha; evaluation text as it is."""
        alpha = self.alpha if frame is self.train_frame else None
        parts = [examples(self.tokenizer, frame, objective=o, max_length=self.settings.max_length,
                          seed=self.settings.seed, alpha=alpha, lang2id=self.model.lang2id)
                 for o in self.objective.split("+")]
        return parts[0] if len(parts) == 1 else _concatenate(parts)

    def loss(self, net: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        targets = batch.pop("targets")
        logits = net(**batch)  # (M, V): only the masked positions
        rows = batch["input_ids"].shape[0]
        # mean over this micro-batch's masked tokens, weighted by its examples (the runner divides
        # by the effective batch)
        return F.cross_entropy(logits.float(), targets, reduction="sum") * (rows / max(len(targets), 1))

    def evaluate(self) -> dict[str, dict[str, float]]:
        return {name: masked_accuracy(self.model, data, device=self.device, batch_size=self.settings.eval_batch_size,
                                      progress=self.progress, desc=f"evaluating {name}")
                for name, data in self.eval_data.items()}


def _concatenate(parts: list[MaskedExamples]) -> MaskedExamples:
    """MLM and TLM examples in one set (TLM's positions; MLM's count from 0)."""
    first = parts[0]
    positions = [p for part in parts for p in (part.positions or [np.arange(len(i)) for i in part.ids])]
    return MaskedExamples(ids=[i for part in parts for i in part.ids],
                          language=[lang for part in parts for lang in part.language],
                          mask_id=first.mask_id, pad_id=first.pad_id, special_ids=first.special_ids,
                          random_ids=first.random_ids, seed=first.seed,
                          langs=[x for part in parts for x in part.langs], positions=positions)


@torch.no_grad()
def masked_counts(model: nn.Module, data: MaskedExamples, *, device: torch.device, batch_size: int = 128,
                  progress: bool = False, desc: str = "evaluating", only_masks: bool = False) -> pd.DataFrame:
    """For every example: its language, how many of its chosen positions were counted and how
    many of those the model predicted right (columns example, language, masked, correct).

    Of the positions chosen, 10% keep their token, which a model that copies its input (as a
    freshly initialised XLM, whose output layer is its input embedding, nearly does) gets right;
    `only_masks=True` counts only the positions shown as `<mask>`, where nothing can be copied.
    The masks are those of epoch 0 of the data's seed.
    """
    was_training = model.training
    model.eval()
    data.set_epoch(0)
    rows_out = []
    for rows in tqdm(eval_batches(data.lengths, batch_size), desc=desc, disable=not progress, leave=False,
                     mininterval=1.0):
        batch = {k: v.to(device) for k, v in data.collate(rows).items()}
        targets = batch.pop("targets")
        predicted = model(**batch).argmax(-1)  # (M,)
        counted = batch["input_ids"][batch["masked_positions"]] == data.mask_id if only_masks else \
            torch.ones_like(targets, dtype=torch.bool)  # (M,)
        per_row = batch["masked_positions"].sum(1).tolist()
        for row, hit, keep in zip(rows, (predicted == targets).cpu().split(per_row), counted.cpu().split(per_row)):
            rows_out.append((int(row), data.language[row], int(keep.sum()), int(hit[keep].sum())))
    model.train(was_training)
    frame = pd.DataFrame(rows_out, columns=["example", "language", "masked", "correct"])
    return frame.sort_values("example", ignore_index=True)


def masked_accuracy(model: nn.Module, data: MaskedExamples, *, device: torch.device, batch_size: int = 128,
                    progress: bool = False, desc: str = "evaluating", only_masks: bool = False) -> dict[str, float]:
    """Share (%) of masked tokens predicted right, per language in order of appearance, and their
    average (see `masked_counts`)."""
    counts = masked_counts(model, data, device=device, batch_size=batch_size, progress=progress, desc=desc,
                           only_masks=only_masks)
    totals = counts.groupby("language", sort=False)[["correct", "masked"]].sum()
    accuracy = {lang: round(100 * c / max(n, 1), 4) for lang, (c, n) in
                zip(totals.index, totals.itertuples(index=False))}
    accuracy = {lang: accuracy.get(lang, 0.0) for lang in dict.fromkeys(data.language)}
    return {**accuracy, "avg": round(float(np.mean(list(accuracy.values()))), 4)}
