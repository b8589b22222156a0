"""The `xlmlab` command line (also `python -m xlmlab`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import embedded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xlmlab", description="The XLM-family workbook.")
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="build the embedded tiny models (cached, instant when built)")
    assets.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")

    vocab = commands.add_parser("vocab", help="build and compare vocabularies (XLM-R and XLM-V methods)")
    steps = vocab.add_subparsers(dest="step", required=True)
    build = steps.add_parser("build", help="build a vocabulary directory that load_tokenizer reads")
    build.add_argument("--method", choices=["xlmr", "xlmv"], required=True)
    build.add_argument("--size", type=int, required=True, help="number of pieces")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--langs", nargs="+", help="wordfreq language codes (default: the workbook's 16)")
    build.add_argument("--alpha", type=float, default=0.3, help="XLM-R: language sampling exponent")
    build.add_argument("--k", type=int, default=8, help="XLM-V: number of clusters")
    build.add_argument("--equal-size", action="store_true", help="XLM-V: grow capacities until the union has --size pieces")
    build.add_argument("--top", type=int, default=10_000, help="words per language from the word statistics")
    compare = steps.add_parser("compare", help="tokens per sentence, fertility, unknowns... per language")
    compare.add_argument("dirs", nargs="+", type=Path, help="vocabulary or model directories")
    compare.add_argument("--out", type=Path, required=True, help="CSV report")
    compare.add_argument("--langs", nargs="+", help="languages to evaluate (default: the workbook's 16)")
    compare.add_argument("--text", type=Path, help="a directory of <lang>.txt files instead of CLDR names")
    args = parser.parse_args(argv)

    if args.command == "assets":
        for name, path in embedded.build_all(force=args.force).items():
            print(f"{name:10s} {path}")
    elif args.step == "build":
        from . import training_data, vocab_build

        langs = args.langs or training_data.DEFAULT_LANGUAGES
        if args.method == "xlmr":
            out = vocab_build.build_xlmr(langs, args.size, args.out, alpha=args.alpha, top=args.top)
        else:
            settings = vocab_build.XLMVSettings(k=args.k, top=args.top)
            out = vocab_build.build_xlmv(langs, args.size, args.out, settings=settings, equal_size=args.equal_size)
        print(f"{args.method} vocabulary: {out}")
    else:
        from . import training_data, vocab_analysis
        from .load import load_tokenizer

        langs = args.langs or training_data.DEFAULT_LANGUAGES
        texts = vocab_analysis.read_text_dir(args.text) if args.text else vocab_analysis.cldr_texts(langs)
        tokenizers = {str(d): load_tokenizer(d) for d in args.dirs}
        report = vocab_analysis.measure(tokenizers, texts)
        report.to_csv(args.out, index=False)
        print(report.groupby("tokenizer")[["tokens_per_sentence", "fertility", "unk_rate"]].mean().to_string())
        print(f"report: {args.out}")
    return 0
