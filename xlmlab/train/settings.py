"""How to train: the settings of a run, the published recipes, precision and the learning-rate schedule."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Settings:
    """How to train. `batch_size` is the effective batch: examples per optimisation step."""

    max_steps: int | None = None  # None: `epochs` passes over the training set
    epochs: float = 2.0
    batch_size: int = 32
    micro_batch_size: int | None = None  # per process; None: the whole share of a step at once
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup: float = 0.06  # share of the steps with a linearly rising learning rate; then linear decay to 0
    max_length: int = 128
    clip: float | None = 1.0  # gradient-norm clipping; None: off
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    eval_every: int | None = None  # steps between evaluations; None: once per epoch (and at the end)
    save_every: int = 500
    eval_batch_size: int = 128
    seed: int = 0
    sparse_embeddings: bool = False
    device: str | None = None  # None: try_gpu()

    # what must match for a checkpoint to be resumed: everything that changes the result
    RESULT_FIELDS = ("epochs", "max_steps", "batch_size", "lr", "weight_decay", "warmup", "max_length", "clip",
                     "precision", "seed", "sparse_embeddings", "eval_every")

    def result_fields(self) -> dict:
        return {f: getattr(self, f) for f in self.RESULT_FIELDS}


PRESETS = {
    # The XLM-V paper's XNLI recipe: 12 epochs, lr 7.5e-6, batch 16, length 256, fp16, no weight
    # decay, no warmup; best checkpoint by average dev accuracy.
    "xlmv": dict(epochs=12.0, lr=7.5e-6, batch_size=16, max_length=256, precision="fp16", weight_decay=0.0,
                 warmup=0.0),
}


def preset(name: str, **overrides) -> Settings:
    """A published recipe, with any field overridden: `preset("xlmv", max_steps=100)`."""
    if name not in PRESETS:
        raise ValueError(f"no preset {name!r}; expected one of {sorted(PRESETS)}")
    return Settings(**(PRESETS[name] | overrides))


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """None (float32) or the dtype to autocast to: "auto" is bf16 on GPUs that have it, fp16 on
    older GPUs, float32 on a CPU (exactly reproducible)."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision {precision!r}; expected auto, fp32, bf16 or fp16")
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def linear_schedule(total: int, warmup: float):
    """step -> learning-rate factor: 0 -> 1 over the warm-up, then 1 -> 0 at `total`.

    linear_schedule(10, 0.2): steps 0, 1 -> 0.5, 1.0; steps 2 .. 9 -> 1.0, 0.875, ..., 0.125
    """
    warm = round(warmup * total)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))
    return factor
