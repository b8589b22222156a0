"""The runner that fine-tuning and pretraining share (notebook 04).

    settings      Settings, the published presets, precision, the learning-rate schedule
    runner        the training loop; a task subclasses it (`nli.NLIRunner`)
    batching      batches of similar length
    optimisers    AdamW (+ SparseAdam for row-sparse embeddings), clipping
    checkpoints   atomic checkpoints and exact resume
    kept          finished runs kept under a digest of what decides them (notebooks run again)
    selection     evaluation results and the best step
"""

from .kept import run_directory
from .runner import Runner, TrainingDiverged
from .settings import PRESETS, Settings, preset

__all__ = ["run_directory", "Runner", "TrainingDiverged", "PRESETS", "Settings", "preset"]
