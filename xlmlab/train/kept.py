"""Runs kept under a name that says what decides them, so that a notebook run again reads its
trainings back instead of repeating them.

    out = run_directory(home() / "runs", "04-random", start, train, evals, settings)
    NLIRunner(start, train, evals, out, settings).fit(resume=True)

The name is the label and a digest of everything a run's result depends on: the start model's
files, the training and evaluation tables (their order too: the first evaluation set chooses the
best checkpoint), the settings, xlmlab's code, torch's version, and the CPU's kernels and thread
count. On a CPU in float32 training is exactly reproducible, so a finished run found under that
name is the run that would be trained again: `fit(resume=True)` restores its last checkpoint and
returns; a run that was stopped goes on from its last checkpoint. One run is kept per label: a
new digest replaces the older directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import torch

from ..load import locate
from .settings import Settings

PACKAGE = Path(__file__).resolve().parents[1]


def run_digest(model: str | os.PathLike, train: pd.DataFrame, evals: dict[str, pd.DataFrame],
               settings: Settings) -> str:
    """A digest of everything that decides a run's result (see the module's docstring)."""
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}:{len(data)}:".encode())
        h.update(data)

    source = locate(model)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        add(f"model/{path.relative_to(source).as_posix()}", path.read_bytes())
    for name, frame in [("train", train), *evals.items()]:
        add(f"table/{name}/columns", json.dumps([str(c) for c in frame.columns]).encode())
        add(f"table/{name}/rows", pd.util.hash_pandas_object(_hashable(frame), index=False).to_numpy().tobytes())
    add("settings", json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str).encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        add(f"code/{path.relative_to(PACKAGE).as_posix()}", path.read_bytes())
    add("torch", f"{torch.__version__} {torch.backends.cpu.get_cpu_capability()} {torch.get_num_threads()}".encode())
    return h.hexdigest()[:16]


def _hashable(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of lists (NER's words and tags) as joined strings, which pandas can hash."""
    lists = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, tuple))).any()]
    return frame.assign(**{c: frame[c].map(lambda v: "\x1f".join(map(str, v))) for c in lists}) if lists else frame


def run_directory(root: str | os.PathLike, label: str, model: str | os.PathLike, train: pd.DataFrame,
                  evals: dict[str, pd.DataFrame], settings: Settings) -> Path:
    """`root/label-digest`: where this run is kept. Other runs of the same label are removed."""
    root = Path(root)
    out = root / f"{label}-{run_digest(model, train, evals, settings)}"
    if root.is_dir():
        same_label = re.compile(rf"{re.escape(label)}-[0-9a-f]{{16}}")
        for older in root.iterdir():
            if older != out and older.is_dir() and same_label.fullmatch(older.name):
                shutil.rmtree(older)
    return out
