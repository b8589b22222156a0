"""CPU forward pass at xlm-roberta-base size: xlmlab against transformers, side by side.

Both models hold the same random weights (transformers saves, xlmlab loads) and run on the same
batch (32 x 128 tokens) under torch.inference_mode, timed alternately, the order flipping every
round, so that both see the same machine state. Prints median seconds per forward, tokens/s,
and the median over rounds of reference time / xlmlab time in that round (>1: xlmlab faster).

    python benchmarks/forward_cpu.py [--batch 32] [--length 128] [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import transformers

import xlmlab


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)

    config = transformers.XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1,
                                           layer_norm_eps=1e-5, attn_implementation="sdpa")
    reference = transformers.XLMRobertaModel(config).eval()
    with tempfile.TemporaryDirectory() as directory:
        reference.save_pretrained(directory)
        ours = xlmlab.load_model(directory)

    B, T = args.batch, args.length
    ids = torch.randint(5, config.vocab_size, (B, T))
    ids[:, 0], ids[:, -1] = 0, 2
    lengths = torch.randint(T // 2, T + 1, (B,))
    padded_mask = (torch.arange(T)[None] < lengths[:, None]).long()
    padded_ids = ids.masked_fill(padded_mask == 0, config.pad_token_id)

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.get_num_threads()} threads; batch {B} x {T}")
    print(f"{'input':>10} {'xlmlab s':>9} {'reference s':>12} {'xlmlab tok/s':>13} {'ratio':>6} {'max |diff|':>11}")
    for label, x, mask in (("full", ids, None), ("padded", padded_ids, padded_mask)):
        with torch.inference_mode():
            diff = (ours(x, mask) - reference(input_ids=x, attention_mask=mask).last_hidden_state)
            diff = diff[padded_mask.bool()] if mask is not None else diff
            ours(x, mask), reference(input_ids=x, attention_mask=mask)  # warm-up
            ours_s, ref_s = [], []
            for i in range(args.repeats):  # alternate who goes first, so neither always runs on a warmer cache
                pair = [(ours_s, lambda: ours(x, mask)), (ref_s, lambda: reference(input_ids=x, attention_mask=mask))]
                for times, run in pair[:: 1 if i % 2 == 0 else -1]:
                    times.append(timed(run))
        o, r = statistics.median(ours_s), statistics.median(ref_s)
        paired = statistics.median(b / a for a, b in zip(ours_s, ref_s))  # per round: drift cancels out
        print(f"{label:>10} {o:9.3f} {r:12.3f} {B * T / o:13.0f} {paired:6.3f} {diff.abs().max().item():11.1e}")


if __name__ == "__main__":
    main()
