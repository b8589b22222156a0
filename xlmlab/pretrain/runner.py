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
def masked_predictions(model: nn.Module, data: MaskedExamples, *, device: torch.device, batch_size: int = 128,
                       progress: bool = False, desc: str = "evaluating", only_masks: bool = False) -> pd.DataFrame:
    """Every chosen position of the data, masked as in epoch 0 of its seed: the example, its
    language, the original piece (`target`), the model's first choice (`predicted`) and whether
    the model was shown `<mask>` there (`shown_mask`; else a random piece or the piece itself).
    `only_masks=True` keeps the positions shown as `<mask>` only."""
    was_training = model.training
    model.eval()
    data.set_epoch(0)
    parts = []
    for rows in tqdm(eval_batches(data.lengths, batch_size), desc=desc, disable=not progress, leave=False,
                     mininterval=1.0):
        batch = {k: v.to(device) for k, v in data.collate(rows).items()}
        targets = batch.pop("targets")
        predicted = model(**batch).argmax(-1)  # (M,)
        chosen = batch["masked_positions"]
        example = torch.as_tensor(rows, device=chosen.device)[chosen.nonzero()[:, 0]]  # (M,): row-major, as targets
        shown = (batch["input_ids"][chosen] == data.mask_id).long()
        parts.append(torch.stack([example, targets, predicted, shown]).cpu())
    model.train(was_training)
    example, target, predicted, shown = torch.cat(parts, 1).numpy() if parts else np.zeros((4, 0), dtype=np.int64)
    frame = pd.DataFrame({"example": example, "language": np.asarray(data.language, dtype=object)[example],
                          "target": target, "predicted": predicted, "shown_mask": shown.astype(bool)})
    if only_masks:
        frame = frame[frame["shown_mask"]]
    return frame.sort_values("example", kind="stable", ignore_index=True)


def masked_counts(model: nn.Module, data: MaskedExamples, *, device: torch.device, batch_size: int = 128,
                  progress: bool = False, desc: str = "evaluating", only_masks: bool = False) -> pd.DataFrame:
    """For every example: its language, how many of its chosen positions were counted and how
    many of those the model predicted right (columns example, language, masked, correct).

    Of the positions chosen, 10% keep their token, which a model that copies its input (as a
    freshly initialised XLM, whose output layer is its input embedding, nearly does) gets right;
    `only_masks=True` counts only the positions shown as `<mask>`, where nothing can be copied.
    """
    found = masked_predictions(model, data, device=device, batch_size=batch_size, progress=progress, desc=desc,
                               only_masks=only_masks)
    per_example = pd.DataFrame({"masked": 1, "correct": (found["predicted"] == found["target"]).astype(int)}) \
        .groupby(found["example"]).sum().reindex(range(len(data)), fill_value=0)
    return pd.DataFrame({"example": np.arange(len(data)), "language": list(data.language),
                         "masked": per_example["masked"].to_numpy(), "correct": per_example["correct"].to_numpy()})


def masked_accuracy(model: nn.Module, data: MaskedExamples, *, device: torch.device, batch_size: int = 128,
                    progress: bool = False, desc: str = "evaluating", only_masks: bool = False) -> dict[str, float]:
    """Share (%) of masked tokens predicted right, per language in order of appearance, and their
    average (see `masked_counts`)."""
    counts = masked_counts(model, data, device=device, batch_size=batch_size, progress=progress, desc=desc,
                           only_masks=only_masks)
    totals = counts.groupby("language", sort=False)[["correct", "masked"]].sum()  # languages in order of appearance
    accuracy = {lang: round(100 * c / max(n, 1), 4)
                for lang, c, n in zip(totals.index, totals["correct"], totals["masked"])}
    return {**accuracy, "avg": round(float(np.mean(list(accuracy.values()))), 4)}
