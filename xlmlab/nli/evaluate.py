"""Accuracy per language: predicting every pair of an evaluation set, and evaluating a saved model.

XNLI's zero-shot protocol reports accuracy for each of its 15 languages and their plain average;
`accuracy_by_language` gives both, in the table's language order.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..device import try_gpu
from ..load import load_tokenizer, locate
from ..models.checkpoint import load_classifier
from ..train.batching import eval_batches
from ..train.settings import autocast_dtype
from .pairs import EncodedPairs, encode_pairs
from .xnli import LABELS


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


def evaluate_directory(model: str | os.PathLike, evals: dict[str, pd.DataFrame], *, max_length: int = 128,
                       batch_size: int = 128, device: str | None = None, precision: str = "auto",
                       progress: bool = True) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """Accuracy per language of a fine-tuned classifier directory (e.g. `out/best`), and its predictions."""
    source = locate(model)
    dev = torch.device(device) if device else try_gpu()
    classifier = load_classifier(source, LABELS, device=dev, require_head=True).eval()
    tokenizer = load_tokenizer(source)
    results, predictions = {}, {}
    for name, frame in evals.items():
        pairs = encode_pairs(tokenizer, frame, max_length=max_length, lang2id=classifier.lang2id)
        predictions[name] = predict(classifier, pairs, device=dev, batch_size=batch_size,
                                    dtype=autocast_dtype(precision, dev), progress=progress, desc=f"evaluating {name}")
        results[name] = accuracy_by_language(frame, predictions[name])
    return results, predictions
