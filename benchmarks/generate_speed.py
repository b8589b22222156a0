"""Greedy generation speed at xlm-clm-ende-1024 size: xlmlab (key/value cache) against
transformers' `generate` (which re-runs the whole prefix at every step), side by side.

Random weights at the published configuration (vocabulary 64,699, 6 layers x 1024, 8 heads),
saved by transformers and loaded by xlmlab; both generate exactly N new tokens greedily from the
same prompt. transformers is given `causal: true`, so both run the causal model (its generation
still appends a dummy token at every step, the path the published model takes).

    python benchmarks/generate_speed.py [--batch 1] [--new-tokens 96] [--device cpu]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
import transformers

import xlmlab


def timed(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--new-tokens", type=int, default=96)
    parser.add_argument("--prompt", type=int, default=8, help="prompt length")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("generate_speed: no CUDA device here (skipped)")
        return
    torch.manual_seed(0)
    config = transformers.XLMConfig(vocab_size=64699, emb_dim=1024, n_layers=6, n_heads=8, n_langs=2, causal=True,
                                    lang2id={"de": 0, "en": 1}, id2lang={0: "de", 1: "en"})
    reference = transformers.XLMWithLMHeadModel(config).eval()
    with tempfile.TemporaryDirectory() as directory:
        reference.save_pretrained(directory)
        ours = xlmlab.load_model(directory, device=device)
    reference = reference.to(device)
    B, N = args.batch, args.new_tokens
    ids = torch.randint(14, config.vocab_size, (B, args.prompt), device=device)
    ids[:, 0] = config.eos_index

    def run_ours():
        return ours.generate(ids, langs=1, max_new_tokens=N, eos_token_id=None)

    def run_reference():
        with torch.no_grad():
            return reference.generate(ids, max_new_tokens=N, min_new_tokens=N, do_sample=False,
                                      pad_token_id=config.pad_index)

    assert run_ours().shape == (B, args.prompt + N) and run_reference().shape == (B, args.prompt + N)
    o, r = timed(run_ours, device), timed(run_reference, device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"{name}; torch {torch.__version__}, transformers {transformers.__version__}; batch {B}, prompt {args.prompt}, "
          f"{N} new tokens, greedy, float32")
    print(f"xlmlab       {o:7.2f} s  {B * N / o:8.1f} tokens/s")
    print(f"transformers {r:7.2f} s  {B * N / r:8.1f} tokens/s")
    print(f"ratio {r / o:.1f}x")


if __name__ == "__main__":
    main()
