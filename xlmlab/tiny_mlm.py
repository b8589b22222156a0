"""The embedded pretrained encoders: XLM-R, XLM-V and XLM (MLM+TLM) in miniature.

Three models of one body size, pretrained here on the parallel text of the 15 XNLI languages
(`data/parallel`, training side) with the same number of steps, batch and sequence length, so
that what differs between them is what the papers compare:

    tiny-xlmr     XLM-R: MLM, one 8,000-piece vocabulary over all languages (the XLM-R method)
    tiny-xlmv     XLM-V: the same, with a 32,000-piece vocabulary built by the XLM-V method (4x,
                  as 901K is to 250K)
    tiny-xlm-tlm  XLM with 15 language embeddings, MLM and TLM: the miniature of
                  xlm-mlm-tlm-xnli15-1024 (with tiny-xlmr's vocabulary, not XLM's BPE, which needs
                  word segmenters for Chinese and Thai that are not installed here)

Each starts from the reference initialisation (kept, `tiny_models.initial`, as the "random"
model to compare with) and is trained by `PretrainRunner`, the runner of `xlmlab pretrain`:

    xlmlab pretrain --model <initial> --objective mlm --max-steps 600 --batch-size 16
                    --max-length 128 --lr 1e-3 --warmup 0.06 --seed 0 --device cpu

The recipe trains on the CPU whatever the machine has, so that every machine builds the same
recipe; float32 sums still come out in another order on another CPU, so the weights are not
bit-identical across machines (see `tiny_models`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import parallel
from .pretrain import PretrainRunner
from .train import Settings, checkpoints

OBJECTIVES = {"tiny-xlmr": "mlm", "tiny-xlmv": "mlm", "tiny-xlm-tlm": "mlm+tlm"}
SETTINGS = Settings(max_steps=600, batch_size=16, max_length=128, lr=1e-3, warmup=0.06, eval_every=100,
                    save_every=600, seed=0, device="cpu")
LOGS = {"train_log.csv": "pretraining_log.csv", "metrics.csv": "pretraining_metrics.csv"}
ALPHA = 0.3  # XLM-R's language sampling, for all three: only the objective and the vocabulary differ


def pretrain(name: str, initial: Path, out: Path, *, progress: bool = True) -> Path:
    """Pretrain the embedded model `name` from the directory `initial` into `out`: the weights of
    the last step (the held-out text is measured every 100 steps, never used to choose), the
    config, and the run's curves (`pretraining_log.csv`: loss, learning rate and gradient norm
    at every step; `pretraining_metrics.csv`: masked-token accuracy per language on the held-out
    text). The caller adds the tokenizer files."""
    train = parallel.pairs("train")
    held_out = {"held-out": parallel.pairs("eval")}
    with tempfile.TemporaryDirectory() as work:
        runner = PretrainRunner(initial, train, held_out, Path(work) / "run", SETTINGS, objective=OBJECTIVES[name],
                                alpha=ALPHA, progress=progress)
        runner.fit()
        run = Path(work) / "run"
        last = checkpoints.latest(run)
        out.mkdir(parents=True, exist_ok=True)
        for file in ("config.json", "model.safetensors"):
            shutil.copy(last / file, out / file)
        for file, kept in LOGS.items():
            shutil.copy(run / file, out / kept)
    return out
