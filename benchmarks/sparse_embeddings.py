"""Row-sparse embedding updates against dense AdamW: speed, memory and accuracy.

XLM-V's 901,629 x 768 embedding matrix is 692M of the model's 778M parameters. Dense AdamW reads
and writes the whole matrix, its gradient and two moment buffers at every step, although a batch
of 16 x 128 tokens touches at most 2,048 rows. With `sparse_embeddings` the embedding gets a
row-sparse gradient and SparseAdam moves only the rows in the batch (no weight decay on them,
and their moments are updated lazily: only when the row is seen).

1. Speed and peak memory: an XLM-V-sized embedding under a 2-layer body, batch 8 x 128, one
   process per variant (so each peak is its own); float32 on a CPU, bf16 on a GPU.
2. Accuracy: tiny-xlmv (32k pieces) fine-tuned on the embedded NLI sample both ways, same seed.

    python benchmarks/sparse_embeddings.py [--steps 6] [--accuracy-steps 3000]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from xlmlab.load import locate
from xlmlab.models.checkpoint import build_model, save_model
from xlmlab.models.config import XLMRConfig
from xlmlab.nli import NLIRunner as Runner
from xlmlab.nli import read_xnli
from xlmlab.nli import sample as nli_sample
from xlmlab.train import Settings


def make_model(directory: Path) -> None:
    config = XLMRConfig(vocab_size=901_629, num_hidden_layers=2, architectures=["XLMRobertaForMaskedLM"])
    torch.manual_seed(0)
    save_model(build_model(config), directory)
    for name in ("sentencepiece.bpe.model", "tokenizer_config.json"):
        shutil.copy(locate("tiny-xlmv") / name, directory / name)


def one_variant(directory: Path, sparse: bool, steps: int) -> None:
    """Run in a child process: time `steps` training steps, report seconds per step and peak memory."""
    import numpy as np

    frame = read_xnli(nli_sample.path(), split="train")
    out = Path(tempfile.mkdtemp(prefix="xlmlab-sparse-"))
    runner = Runner(directory, frame, {"dev": frame.iloc[:8]}, out,
                    Settings(batch_size=8, sparse_embeddings=sparse, lr=1e-4), progress=False)
    rng = np.random.default_rng(0)  # 128 random tokens per row: the most rows a batch can touch
    runner.train_data.ids = [rng.integers(4, 901_629, 128) for _ in runner.train_data.ids]
    if runner.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    runner._train_step(0)
    times = []
    for step in range(1, steps + 1):
        if runner.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        runner._train_step(step)
        if runner.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() if runner.device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"sparse": sparse, "device": str(runner.device), "s_per_step": sorted(times)[len(times) // 2],
                      "peak_gib": peak / 2**30}))


def accuracy(sparse: bool, steps: int) -> dict:
    data = read_xnli(nli_sample.path())
    train, dev, test = (data[data["split"] == s].reset_index(drop=True) for s in ("train", "dev", "test"))
    out = Path(tempfile.mkdtemp(prefix="xlmlab-sparse-acc-"))
    settings = Settings(max_steps=steps, batch_size=32, lr=1e-3, eval_every=steps // 4, save_every=steps, device="cpu",
                        sparse_embeddings=sparse)
    runner = Runner("tiny-xlmv", train, {"dev": dev, "test": test}, out, settings, progress=False)
    start = time.perf_counter()
    runner.fit()
    elapsed = time.perf_counter() - start
    result = runner.result()
    shutil.rmtree(out, ignore_errors=True)
    return {"sparse": sparse, "seconds": round(elapsed, 1), "best_step": result["best_step"],
            "dev_avg": result["accuracy"]["dev"]["avg"], "test_avg": result["accuracy"]["test"]["avg"],
            "test_en": result["accuracy"]["test"]["en"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--accuracy-steps", type=int, default=3000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return one_variant(Path(args.child[0]), args.child[1] == "sparse", args.steps)

    with tempfile.TemporaryDirectory() as tmp:
        make_model(Path(tmp))
        speed = {}
        for variant in ("dense", "sparse"):
            done = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", tmp, variant],
                                  capture_output=True, text=True, check=True)
            speed[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    d, s = speed["dense"], speed["sparse"]
    print(f"XLM-V-sized embedding (901,629 x 768), 2-layer body, batch 8 x 128, {d['device']}:")
    print(f"  dense AdamW   {d['s_per_step']:.3f} s/step, peak {d['peak_gib']:.2f} GiB")
    print(f"  sparse rows   {s['s_per_step']:.3f} s/step, peak {s['peak_gib']:.2f} GiB")
    print(f"  sparse/dense  {d['s_per_step'] / s['s_per_step']:.2f}x faster, {d['peak_gib'] - s['peak_gib']:.2f} GiB less")
    results = [accuracy(False, args.accuracy_steps), accuracy(True, args.accuracy_steps)]
    print(f"tiny-xlmv on the embedded NLI sample, {args.accuracy_steps} steps, CPU:")
    for r in results:
        print(f"  {'sparse' if r['sparse'] else 'dense '}  dev avg {r['dev_avg']:.1f}, test avg {r['test_avg']:.1f}, "
              f"test en {r['test_en']:.1f}, best step {r['best_step']}, {r['seconds']:.0f} s")
    print(json.dumps({"speed": speed, "accuracy": results}))


if __name__ == "__main__":
    main()
