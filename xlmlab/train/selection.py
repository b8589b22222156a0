"""Evaluation results over a run, and the choice of the best step.

Every evaluation adds one row per split and group (a language, say) and one for their plain
average ("avg"). The best step is the one with the highest average on the first split (the dev
set, as in the XLM-R protocol): the test set never decides anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..paths import write_atomic


class Selection:
    """Metric rows `(step, split, group, value)` and the best `(average, step)` so far."""

    def __init__(self, metric: str = "accuracy", group: str = "language"):
        self.metric, self.group = metric, group
        self.rows: list[tuple] = []
        self.best: tuple[float, int] = (-1.0, 0)

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["step", "split", self.group, self.metric])

    def record(self, step: int, results: dict[str, dict[str, float]]) -> bool:
        """Add the results of one evaluation; True when they are the best so far."""
        self.rows += [(step, split, key, value) for split, values in results.items() for key, value in values.items()]
        average = next(iter(results.values()))["avg"]
        if average > self.best[0]:
            self.best = (average, step)
            return True
        return False

    def at_best(self) -> dict[str, dict[str, float]]:
        """{split: {group: value}} at the best step."""
        frame = self.frame
        rows = frame[frame["step"] == self.best[1]]
        return {split: dict(zip(g[self.group], g[self.metric])) for split, g in rows.groupby("split", sort=False)}

    def write(self, out: Path, log: pd.DataFrame, result: dict) -> None:
        """metrics.csv (every evaluation), train_log.csv (every step), metrics.json (the result)."""
        write_atomic(out / "metrics.csv", lambda tmp: self.frame.to_csv(tmp, index=False))
        write_atomic(out / "train_log.csv", lambda tmp: log.to_csv(tmp, index=False))
        write_atomic(out / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
