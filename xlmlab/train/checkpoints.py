"""Checkpoints of a run, and resuming one exactly.

    out/checkpoint-<step>/   model.safetensors + config.json (the published layout) and
                             training_state.pt: optimisers, schedules, loss scaler, random-number
                             states, data position, metrics so far
    out/latest               the name of the newest complete checkpoint
    out/best/                the selected model with its tokenizer, ready for `load_model`

Every directory is built under a temporary name and renamed (`paths.staged_directory`), and
`latest` is rewritten only after its checkpoint is complete, so a run killed at any moment
(SIGKILL included) resumes from the last complete checkpoint. Only the newest is kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torch import nn

from ..models.checkpoint import save_model
from ..paths import staged_directory, write_atomic

STATE_FILE = "training_state.pt"
TOKENIZER_FILES = ("sentencepiece.bpe.model", "tokenizer_config.json", "vocab.json", "merges.txt")


def remove_stale(out: Path) -> None:
    """Remove what a run killed while writing a checkpoint left behind."""
    for stale in out.glob(".checkpoint-*"):
        shutil.rmtree(stale, ignore_errors=True)


def latest(out: Path) -> Path | None:
    """The newest complete checkpoint of the run in `out`, or None."""
    pointer = out / "latest"
    if not pointer.is_file():
        return None
    path = out / pointer.read_text().strip()
    return path if (path / STATE_FILE).is_file() else None


def save_model_directory(model: nn.Module, tokenizer_source: Path, target: Path) -> None:
    """The model and the tokenizer files of `tokenizer_source`: a directory `load_model` and
    `load_tokenizer` both read."""
    with staged_directory(target) as staging:
        save_model(model, staging)
        for name in TOKENIZER_FILES:
            if (tokenizer_source / name).is_file():
                shutil.copy(tokenizer_source / name, staging / name)


def save(out: Path, step: int, model: nn.Module, state: dict) -> Path:
    """Write `out/checkpoint-<step>`, point `latest` at it, then remove the previous one."""
    name = f"checkpoint-{step}"
    with staged_directory(out / name) as staging:
        save_model(model, staging)
        torch.save(state, staging / STATE_FILE)
    previous = latest(out)
    write_atomic(out / "latest", lambda tmp: Path(tmp).write_text(name + "\n"))
    if previous is not None and previous.name != name:
        shutil.rmtree(previous, ignore_errors=True)
    return out / name


def load_state(checkpoint: Path, settings: dict) -> dict:
    """The training state of a checkpoint, refused if it was made with other `settings`."""
    state = torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=False)
    saved = state["settings"]
    changed = {k: (saved.get(k), v) for k, v in settings.items() if saved.get(k) != v}
    if changed:
        raise ValueError(f"{checkpoint}: cannot resume with different settings: "
                         + ", ".join(f"{k} was {a!r}, now {b!r}" for k, (a, b) in changed.items()))
    return state


def random_states() -> dict:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_random_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
