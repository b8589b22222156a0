"""Fine-tuning a tagger: the runner's task for NER, trained on one language, scored on every one.

    runner = NERRunner("tiny-xlmr", train_en, {"dev": dev, "test": test}, "runs/ner", Settings(max_steps=300))
    runner.fit()            # entity F1 per language at every evaluation; runs/ner/best keeps the best

The label set is read from the data (`tag_names`: O, then B-/I- of each type) unless given. A
pretrained masked LM gets a new token-classification head (N(0, 0.02), as the reference
initialises it); a directory that already holds a tagger for these labels goes on from it.

The loss is the cross-entropy of every word's first piece, summed over the batch and divided by
the number of sentences in it (the runner's convention, so micro-batches add up exactly).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..models.checkpoint import load_classifier
from ..train.batching import eval_batches
from ..train.runner import Runner
from ..train.settings import Settings
from .align import IGNORE, EncodedWords, encode_words
from .data import tag_names
from .tags import f1_by_language


class NERRunner(Runner):
    """Fine-tune a token classifier on `read_ner` tables; entity F1 per language. See `train.Runner`."""

    metric, group, desc = "f1", "language", "fine-tuning (NER)"

    def __init__(self, model: str | os.PathLike, train: pd.DataFrame, evals: dict[str, pd.DataFrame],
                 out: str | os.PathLike, settings: Settings | None = None, *, labels: list[str] | None = None,
                 **kwargs):
        self.labels = list(labels) if labels is not None else tag_names(train, *evals.values())
        super().__init__(model, train, evals, out, settings, **kwargs)

    def build_model(self, directory: Path, *, seed: int = 0) -> nn.Module:
        return load_classifier(directory, self.labels, device=self.device, seed=seed, task="token")

    def encode(self, frame: pd.DataFrame) -> EncodedWords:
        return encode_words(self.tokenizer, frame, self.labels, max_length=self.settings.max_length,
                            lang2id=self.model.lang2id)

    def loss(self, net: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        labels = batch.pop("labels")  # (B, T)
        logits = net(**batch).float()  # (B, T, L)
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction="sum")

    def evaluate(self) -> dict[str, dict[str, float]]:
        """Entity F1 per language on every evaluation set, with the current weights."""
        results = {}
        for name, words in self.eval_data.items():
            predicted = predict_tags(self.model, words, self.labels, device=self.device,
                                     batch_size=self.settings.eval_batch_size, dtype=self.dtype,
                                     progress=self.progress, desc=f"evaluating {name}")
            results[name] = f1_by_language(self.evals[name], predicted)
        return results


@torch.no_grad()
def predict_tags(model: nn.Module, words: EncodedWords, labels: list[str], *, device: torch.device | str = "cpu",
                 batch_size: int = 128, dtype: torch.dtype | None = None, progress: bool = False,
                 desc: str = "tagging") -> list[list[str]]:
    """The predicted tag of every word (its first piece's argmax); a word cut off by truncation gets O."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out: list[list[str] | None] = [None] * len(words)
    for rows in tqdm(eval_batches(words.lengths, batch_size), desc=desc, disable=not progress, leave=False,
                     mininterval=1.0):
        batch = {k: v.to(device) for k, v in words.collate(rows).items() if k != "labels"}
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            best = model(**batch).argmax(-1).cpu().numpy()  # (B, T)
        for r, i in enumerate(rows):
            tags = [labels[t] for t in best[r, words.first_piece[i]]]
            out[i] = tags + ["O"] * (words.n_words[i] - len(tags))
    model.train(was_training)
    return out

