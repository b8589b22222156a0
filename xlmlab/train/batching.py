"""Batches of examples of similar length: little padding, and a new order every epoch.

The runner only needs each example's length; the task's `collate(rows)` turns the rows of a
batch into padded tensors (`EncodedRows` does it for tasks with one label per example or per token).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def length_grouped_batches(lengths: np.ndarray, batch_size: int, *, seed: int, epoch: int,
                           group: int = 50) -> list[np.ndarray]:
    """One epoch of batches of similar length, in an order fixed by (seed, epoch).

    The last, smaller batch is dropped so every optimisation step sees `batch_size` examples.
    """
    rng = np.random.default_rng([seed, epoch])
    # shuffle all examples, then cut the order into windows of `group` batches
    order = rng.permutation(len(lengths))
    window = batch_size * group
    batches = []
    for start in range(0, len(order), window):
        # within a window, longest first, then cut into batches: neighbours have similar lengths
        part = order[start:start + window]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part) - batch_size + 1, batch_size)]
    # shuffle the batches, so the long ones do not all come first
    return [batches[i] for i in rng.permutation(len(batches))]


def eval_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """All rows, sorted by length (least padding), in batches; nothing dropped.

    lengths [3, 9, 5], batch_size 2 -> [array([1, 2]), array([0])]
    """
    order = np.argsort(-lengths, kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def pad_right(rows: list[np.ndarray], value: int) -> np.ndarray:
    """Rows of different lengths as one (B, T) int64 array, each padded on the right with `value`.

    [array([5, 6, 7]), array([8])], value 1 -> [[5, 6, 7], [8, 1, 1]]
    """
    out = np.full((len(rows), max(len(r) for r in rows)), value, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


@dataclass
class EncodedRows:
    """Token ids of a task's examples, one array per example; a task adds its labels and `collate`."""

    ids: list[np.ndarray]
    langs: np.ndarray | None  # (N,) language ids for XLM models, else None
    pad_id: int

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(x) for x in self.ids), dtype=np.int64, count=len(self.ids))

    def batch(self, rows: np.ndarray | list[int], labels: np.ndarray) -> dict[str, torch.Tensor]:
        """Right-padded tensors for the given rows, as long as the longest of them, with `labels`."""
        input_ids = pad_right([self.ids[i] for i in rows], self.pad_id)  # (B, T)
        batch = {"input_ids": torch.from_numpy(input_ids),
                 "attention_mask": torch.from_numpy((input_ids != self.pad_id).astype(np.int64)),
                 "labels": torch.from_numpy(labels)}
        if self.langs is not None:  # one language per example, repeated at every position
            batch["langs"] = torch.from_numpy(np.repeat(self.langs[np.asarray(rows)][:, None], input_ids.shape[1], 1))
        return batch
