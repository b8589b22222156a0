"""The `xlmlab` command line (also `python -m xlmlab`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import tiny_models as embedded


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
    _xnli_commands(commands)
    args = parser.parse_args(argv)

    if args.command == "xnli":
        return _xnli(args)
    if args.command == "assets":
        for name, path in embedded.build_all(force=args.force).items():
            print(f"{name:10s} {path}")
    elif args.step == "build":
        from .vocab import word_counts as training_data, xlmv as vocab_build

        langs = args.langs or training_data.DEFAULT_LANGUAGES
        if args.method == "xlmr":
            out = vocab_build.build_xlmr(langs, args.size, args.out, alpha=args.alpha, top=args.top)
        else:
            settings = vocab_build.XLMVSettings(k=args.k, top=args.top)
            out = vocab_build.build_xlmv(langs, args.size, args.out, settings=settings, equal_size=args.equal_size)
        print(f"{args.method} vocabulary: {out}")
    else:
        from .vocab import analysis as vocab_analysis, word_counts as training_data
        from .load import load_tokenizer

        langs = args.langs or training_data.DEFAULT_LANGUAGES
        texts = vocab_analysis.read_text_dir(args.text) if args.text else vocab_analysis.cldr_texts(langs)
        tokenizers = {str(d): load_tokenizer(d) for d in args.dirs}
        report = vocab_analysis.measure(tokenizers, texts)
        report.to_csv(args.out, index=False)
        print(report.groupby("tokenizer")[["tokens_per_sentence", "fertility", "unk_rate"]].mean().to_string())
        print(f"report: {args.out}")
    return 0


def _xnli_commands(commands) -> None:
    from .train.runner import PRESETS, Settings

    xnli = commands.add_parser("xnli", help="fine-tune on NLI and evaluate zero-shot per language")
    steps = xnli.add_subparsers(dest="step", required=True)
    train = steps.add_parser("train", help="fine-tune a classifier; writes OUT/metrics.json, OUT/best, checkpoints")
    train.add_argument("--model", required=True, help="model directory, hub id or embedded name (tiny-xlmr ...)")
    train.add_argument("--train", required=True, type=Path, help="training file or directory (XNLI-MT, MultiNLI, XNLI layout)")
    train.add_argument("--train-languages", nargs="+", default=["en"], help="languages to train on (default: en)")
    train.add_argument("--train-split", default=None, help="keep one split of --train (e.g. train)")
    train.add_argument("--eval", required=True, action="append", type=Path,
                       help="evaluation file or directory; repeat for more; the first selects the best checkpoint")
    train.add_argument("--languages", nargs="+", help="evaluation languages (default: all in the files)")
    train.add_argument("--out", required=True, type=Path)
    train.add_argument("--preset", choices=sorted(PRESETS), help="a published recipe; other options override it")
    defaults = Settings()
    for name, kind, what in [
        ("max-steps", int, "optimisation steps (default: --epochs)"), ("epochs", float, "passes over the data"),
        ("batch-size", int, "effective batch (examples per step)"),
        ("micro-batch-size", int, "examples per forward pass and process (gradient accumulation)"),
        ("lr", float, "peak learning rate"), ("weight-decay", float, "AdamW weight decay"),
        ("warmup", float, "share of steps with rising learning rate"), ("max-length", int, "tokens per pair"),
        ("clip", float, "gradient-norm clipping (0: off)"), ("eval-every", int, "steps between evaluations"),
        ("save-every", int, "steps between checkpoints"), ("seed", int, "random seed"),
    ]:
        field = name.replace("-", "_")
        train.add_argument(f"--{name}", type=kind, default=None,
                           help=f"{what} (default: {getattr(defaults, field)})")
    train.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default=None,
                       help="auto: bf16 (or fp16) on a GPU, fp32 on a CPU")
    train.add_argument("--sparse-embeddings", action="store_true", default=None,
                       help="row-sparse embedding updates (SparseAdam) instead of dense AdamW")
    train.add_argument("--device", help="cuda, cuda:1, mps, cpu (default: the first GPU, else the CPU)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bars")

    evaluate = steps.add_parser("eval", help="accuracy per language of a fine-tuned model directory")
    evaluate.add_argument("--model", required=True, help="a fine-tuned classifier, e.g. OUT/best")
    evaluate.add_argument("--eval", required=True, action="append", type=Path, help="file or directory; repeatable")
    evaluate.add_argument("--languages", nargs="+")
    evaluate.add_argument("--max-length", type=int, default=128)
    evaluate.add_argument("--batch-size", type=int, default=128)
    evaluate.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto")
    evaluate.add_argument("--device")
    evaluate.add_argument("--out", type=Path, help="write the accuracies as JSON here")
    evaluate.add_argument("--quiet", action="store_true")


def _eval_sets(paths: list[Path], languages: list[str] | None) -> dict:
    """One evaluation set per split found in the given files: {"dev": frame, "test": frame}.
    A directory's training files are not evaluation sets; name a training file to evaluate on it."""
    from .nli.xnli import read_xnli

    sets = {}
    for path in paths:
        frame = read_xnli(path)
        for split, part in frame.groupby("split", sort=False):
            if split == "train" and path.is_dir():
                continue
            name = split if split not in sets else f"{path.name}:{split}"
            sets[name] = read_xnli(path, languages, split=split) if languages else part.reset_index(drop=True)
    return sets


def _xnli(args) -> int:
    import json

    from .train.runner import Runner, Settings, evaluate_directory, preset
    from .nli.xnli import read_xnli

    evals = _eval_sets(args.eval, args.languages)
    if args.step == "eval":
        results, _ = evaluate_directory(args.model, evals, max_length=args.max_length, batch_size=args.batch_size,
                                        device=args.device, precision=args.precision, progress=not args.quiet)
        for name, accuracy in results.items():
            print(name, " ".join(f"{lang} {acc:.1f}" for lang, acc in accuracy.items()))
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))
        return 0
    overrides = {k: v for k, v in vars(args).items() if v is not None and k in Settings.__dataclass_fields__}
    if overrides.get("clip") == 0:
        overrides["clip"] = None
    settings = preset(args.preset, **overrides) if args.preset else Settings(**overrides)
    train = read_xnli(args.train, args.train_languages, split=args.train_split)
    if train["split"].nunique() > 1:
        raise SystemExit(f"{args.train} holds the splits {sorted(train['split'].unique())}: "
                         "name the training file, or choose one with --train-split")
    runner = Runner(args.model, train, evals, args.out, settings, progress=not args.quiet)
    runner.fit(resume=args.resume)
    result = runner.result()
    for name, accuracy in result["accuracy"].items():
        print(name, " ".join(f"{lang} {acc:.1f}" for lang, acc in accuracy.items()))
    print(f"best step {result['best_step']} of {result['total_steps']}: {args.out / 'best'}; "
          f"metrics: {args.out / 'metrics.json'}")
    return 0
