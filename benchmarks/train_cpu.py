"""Fine-tuning speed on a CPU: xlmlab's runner against a plain transformers training loop.

Same weights, same batches (length-grouped pairs of the embedded NLI sample for the tiny model,
fixed 128-token batches for the base-sized one), same precision (float32), same optimiser
(AdamW, no decay on biases and norms, linear schedule, gradient clipping at 1.0). The two are
timed in alternating rounds in one process, so both see the same machine state.

    python benchmarks/train_cpu.py [--rounds 3] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from xlmlab.load import locate
from xlmlab.models.checkpoint import build_model, save_model
from xlmlab.models.config import XLMRConfig
from xlmlab.nli import NLIRunner as Runner
from xlmlab.nli import read_xnli
from xlmlab.nli import sample as nli_sample
from xlmlab.train import Settings
from xlmlab.train.settings import linear_schedule


def base_sized(directory: Path) -> Path:
    """A random XLM-R-base-sized masked LM with the tiny vocabulary's tokenizer files."""
    config = XLMRConfig(vocab_size=250002, architectures=["XLMRobertaForMaskedLM"])
    torch.manual_seed(0)
    save_model(build_model(config), directory)
    for name in ("sentencepiece.bpe.model", "tokenizer_config.json"):
        shutil.copy(locate("tiny-xlmr") / name, directory / name)
    return directory


def reference_loop(directory: Path, batches: list[dict], settings: Settings):
    """The transformers model and an ordinary training step over the same batches."""
    import transformers

    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(directory, num_labels=3).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "LayerNorm" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=settings.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_schedule(10_000, settings.warmup))

    def step(i: int) -> None:
        batch = batches[i % len(batches)]
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss = F.cross_entropy(logits, batch["labels"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
    return step


def measure(name: str, directory: Path, settings: Settings, rounds: int, steps: int, fixed_length: int | None):
    frame = read_xnli(nli_sample.path() / "xnli.train.tsv")
    out = Path(tempfile.mkdtemp(prefix="xlmlab-bench-"))
    runner = Runner(directory, frame, {"dev": frame.iloc[:32]}, out, settings, progress=False)
    runner.total = 10_000
    if fixed_length:  # base-sized: full-length rows, the shape of real XNLI batches
        runner.train_data.ids = [np.resize(ids, fixed_length) for ids in runner.train_data.ids]
    batches = [runner.train_data.collate(runner._batch_rows(i)) for i in range(steps)]
    theirs = reference_loop(directory, batches, settings)
    ours_time, theirs_time = [], []
    runner._train_step(0), theirs(0)  # warm-up
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(steps):
            runner._train_step(i)
        ours_time.append(time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(steps):
            theirs(i)
        theirs_time.append(time.perf_counter() - start)
    shutil.rmtree(out, ignore_errors=True)
    samples = steps * settings.batch_size
    ours_rate, theirs_rate = samples / min(ours_time), samples / min(theirs_time)
    tokens = sum(int(b["attention_mask"].sum()) for b in batches) / len(batches) / settings.batch_size
    print(f"{name:10s} batch {settings.batch_size:3d}, {tokens:5.1f} tokens/pair: xlmlab {ours_rate:7.1f} samples/s, "
          f"transformers {theirs_rate:7.1f} samples/s, ratio {ours_rate / theirs_rate:.2f}x")
    return {"model": name, "batch": settings.batch_size, "xlmlab_samples_per_s": round(ours_rate, 1),
            "transformers_samples_per_s": round(theirs_rate, 1), "ratio": round(ours_rate / theirs_rate, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32")
    results = [measure("tiny-xlmr", locate("tiny-xlmr"), Settings(batch_size=32, device="cpu"), args.rounds,
                       args.steps, None)]
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure("base-size", base_sized(Path(tmp)), Settings(batch_size=8, device="cpu"),
                               args.rounds, max(2, args.steps // 10), 128))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
