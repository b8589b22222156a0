"""Wall time of the two vocabulary builds for the workbook's defaults, from an empty cache.

XLM-R method: one unigram model of N pieces over the 16 default languages.
XLM-V method: per-language models, lexical vectors, k-means, ALP curves and allocation,
cluster models and their union, grown to exactly N pieces (equal_size).

    python benchmarks/vocab_build_time.py [--size 32000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["XLMLAB_HOME"] = home  # an empty cache: nothing is reused
        from xlmlab import vocab as vb
        from xlmlab.vocab import training_data

        langs = training_data.DEFAULT_LANGUAGES
        print(f"{len(langs)} languages, {args.size:,} pieces, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}")
        start = time.perf_counter()
        vb.build_xlmr(langs, args.size)
        xlmr = time.perf_counter() - start
        start = time.perf_counter()
        vb.build_xlmv(langs, args.size, equal_size=True)
        xlmv = time.perf_counter() - start
        print(f"XLM-R method: {xlmr:6.1f} s")
        print(f"XLM-V method: {xlmv:6.1f} s ({xlmv / xlmr:.1f}x), equal size")


if __name__ == "__main__":
    main()
