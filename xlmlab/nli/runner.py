"""Fine-tuning on NLI: the runner's task for XNLI, following the XLM-R protocol.

Train on English, evaluate every language during training, keep the checkpoint with the best
*average* dev accuracy over languages, report test accuracy per language for that checkpoint:

    runner = NLIRunner("tiny-xlmr", train, {"dev": dev, "test": test}, "runs/tiny", Settings(max_steps=600))
    runner.evaluate()             # before training: the new head guesses
    runner.fit()                  # -> metrics DataFrame; runs/tiny/metrics.json holds the result

A pretrained masked or causal LM gets a new classification head (N(0, 0.02), as the reference
implementation initialises it); a directory that already holds an NLI classifier goes on from it.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..models.checkpoint import load_classifier
from ..train.runner import Runner
from .evaluate import accuracy_by_language, predict
from .pairs import EncodedPairs, encode_pairs
from .xnli import LABELS


class NLIRunner(Runner):
    """Fine-tune a classifier on `read_xnli` tables; accuracy per language. See `train.Runner`."""

    metric, group, desc = "accuracy", "language", "fine-tuning"

    def build_model(self, directory: Path, *, seed: int = 0) -> nn.Module:
        return load_classifier(directory, LABELS, device=self.device, seed=seed)

    def encode(self, frame) -> EncodedPairs:
        return encode_pairs(self.tokenizer, frame, max_length=self.settings.max_length, lang2id=self.model.lang2id)

    def loss(self, net: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        labels = batch.pop("labels")
        return F.cross_entropy(net(**batch).float(), labels, reduction="sum")

    def evaluate(self) -> dict[str, dict[str, float]]:
        """Accuracy per language on every evaluation set, with the current weights."""
        results = {}
        for name, pairs in self.eval_data.items():
            predictions = predict(self.model, pairs, device=self.device, batch_size=self.settings.eval_batch_size,
                                  dtype=self.dtype, progress=self.progress, desc=f"evaluating {name}")
            results[name] = accuracy_by_language(self.evals[name], predictions)
        return results
