"""MLM training step on a CPU at XLM-R base size: xlmlab (output layer on the masked positions only)
against transformers' XLMRobertaForMaskedLM with `labels` (every position projected).

Batch 8 x 128, float32, 15% of the positions masked, forward + backward; the same random weights
in both (transformers saves, xlmlab loads), the same masked positions and targets; the two models
alternate every round and the median is kept. The memory a step takes above the loaded model is
measured in a child process per model (the kernel's peak resident set size during a step after a
warm-up). `--vocab 901629` gives XLM-V base.

    python benchmarks/mlm_step_cpu.py [--vocab 250002] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
import transformers

import xlmlab


def setup(vocab: int, batch: int, length: int, directory: str):
    """Random weights saved by transformers into `directory`, the batch, its masked positions."""
    torch.manual_seed(0)
    config = transformers.XLMRobertaConfig(vocab_size=vocab, max_position_embeddings=514, type_vocab_size=1,
                                           layer_norm_eps=1e-5, attn_implementation="sdpa")
    transformers.XLMRobertaForMaskedLM(config).save_pretrained(directory)
    return batch_of(vocab, batch, length)


def batch_of(vocab: int, batch: int, length: int):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, vocab, (batch, length), generator=generator)
    masked = torch.rand(batch, length, generator=generator) < 0.15
    labels = torch.where(masked, ids, torch.full_like(ids, -100))
    return ids, masked, labels


def load(name: str, directory: str):
    if name == "transformers":
        return transformers.XLMRobertaForMaskedLM.from_pretrained(directory, attn_implementation="sdpa").train()
    return xlmlab.load_model(directory).train()


def steps(reference, ours, ids, masked, labels):
    def xlmlab_step():
        logits = ours(ids, masked_positions=masked)  # (M, V)
        F.cross_entropy(logits, ids[masked]).backward()
        ours.zero_grad(set_to_none=True)

    def reference_step():
        reference(input_ids=ids, labels=labels).loss.backward()
        reference.zero_grad(set_to_none=True)
    return {"xlmlab": xlmlab_step, "transformers": reference_step}


def resident() -> int:
    """Bytes resident now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def high_water_mark() -> int:
    """Bytes of the largest resident set since the last reset (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def peak_memory(name: str, directory: str, args) -> float:
    """GiB a step takes above the loaded model, in a child process that loads one model only
    (the kernel's peak resident set size during the second step)."""
    code = (f"import sys; sys.argv = ['x', '--child', '{name}', '--weights', '{directory}', '--vocab', '{args.vocab}', "
            f"'--batch', '{args.batch}', '--length', '{args.length}']; sys.path.insert(0, 'benchmarks'); "
            "import mlm_step_cpu as m; m.main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_gib"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=250002)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one model only, in its own process: the memory its step takes
        model = load(args.child, args.weights)
        ids, masked, labels = batch_of(args.vocab, args.batch, args.length)
        run = steps(model, model, ids, masked, labels)[args.child]
        run()  # warm-up: allocator caches exist from here on
        before = resident()
        with open("/proc/self/clear_refs", "w") as f:  # resets the peak resident set size (VmHWM)
            f.write("5")
        run()
        print(json.dumps({"peak_gib": (high_water_mark() - before) / 2**30}))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        ids, masked, labels = setup(args.vocab, args.batch, args.length, directory)
        reference, ours = load("transformers", directory), load("xlmlab", directory)
        run = steps(reference, ours, ids, masked, labels)
        reference.eval(), ours.eval()
        with torch.no_grad():  # the same loss from both (no dropout), before timing
            mine = F.cross_entropy(ours(ids, masked_positions=masked), ids[masked]).item()
            theirs = reference(input_ids=ids, labels=labels).loss.item()
        reference.train(), ours.train()
        print(f"{args.batch} x {args.length}, vocab {args.vocab:,}, float32, {int(masked.sum())} masked positions, "
              f"{torch.get_num_threads()} threads; torch {torch.__version__}, transformers {transformers.__version__}")
        print(f"loss check (eval): xlmlab {mine:.5f}, transformers {theirs:.5f}")
        times = {name: [] for name in run}
        for name in run:  # warm-up
            run[name]()
        for i in range(args.steps):
            for name in list(run)[:: 1 if i % 2 == 0 else -1]:
                start = time.perf_counter()
                run[name]()
                times[name].append(time.perf_counter() - start)
        del reference, ours, run
        memory = {name: peak_memory(name, directory, args) for name in times}
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name in times:
        print(f"{name:13s} {medians[name]:7.2f} s/step  step memory {memory[name]:5.2f} GiB above the model")
    print(f"ratio (transformers time / xlmlab time): {medians['transformers'] / medians['xlmlab']:.2f}x; "
          f"memory saved {memory['transformers'] - memory['xlmlab']:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
