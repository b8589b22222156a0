"""The `xlmlab` command line (also `python -m xlmlab`): one handler per command.

    xlmlab assets                       build the embedded tiny models
    xlmlab vocab build | compare        vocabularies the XLM-R and XLM-V ways, compared per language
    xlmlab xnli train | eval            fine-tune on NLI, accuracy per language
    xlmlab ner train                    fine-tune a tagger (WikiANN / CoNLL files), entity F1 per language
    xlmlab convert DIR OUT              a fairseq XLM-R / XLM-V directory -> the published layout
    xlmlab pretrain                     MLM and/or TLM on parallel text, masked accuracy per language

Each parser names its handler (`set_defaults(handler=...)`), which reads the arguments, calls
the package and prints the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .train.settings import PRESETS, Settings


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.handler(args)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xlmlab", description="The XLM-family workbook.")
    commands = parser.add_subparsers(dest="command", required=True)
    assets = commands.add_parser("assets", help="build the embedded tiny models (cached, instant when built)")
    assets.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")
    assets.set_defaults(handler=run_assets)
    _vocab_commands(commands)
    _xnli_commands(commands)
    _ner_command(commands)
    _pretrain_command(commands)
    convert = commands.add_parser("convert", help="write a fairseq directory (model.pt, dict.txt, "
                                  "sentencepiece.bpe.model) in the published layout")
    convert.add_argument("directory", type=Path)
    convert.add_argument("out", type=Path)
    convert.set_defaults(handler=run_convert)
    return parser


def run_convert(args) -> int:
    from .load import convert_fairseq, load_tokenizer

    out = convert_fairseq(args.directory, args.out)
    order = "SentencePiece's order: weights as they are" if load_tokenizer(args.directory).follows_shift else \
        "reordered from dict.txt's order to SentencePiece's"
    print(f"{out}: config.json, model.safetensors, sentencepiece.bpe.model ({order})")
    return 0


# assets -----------------------------------------------------------------------------------------
def run_assets(args) -> int:
    from . import tiny_models

    for name, path in tiny_models.build_all(force=args.force).items():
        print(f"{name:13s} {path}")
    return 0


# vocab ------------------------------------------------------------------------------------------
def _vocab_commands(commands) -> None:
    vocab = commands.add_parser("vocab", help="build and compare vocabularies (XLM-R and XLM-V methods)")
    steps = vocab.add_subparsers(dest="step", required=True)
    build = steps.add_parser("build", help="build a vocabulary directory that load_tokenizer reads")
    build.add_argument("--method", choices=["xlmr", "xlmv"], required=True)
    build.add_argument("--size", type=int, required=True, help="number of pieces")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--langs", nargs="+", help="wordfreq language codes (default: the workbook's 16)")
    build.add_argument("--alpha", type=float, default=0.3, help="XLM-R: language sampling exponent")
    build.add_argument("--k", type=int, default=8, help="XLM-V: number of clusters")
    build.add_argument("--equal-size", action="store_true",
                       help="XLM-V: grow capacities until the union has --size pieces")
    build.add_argument("--top", type=int, default=10_000, help="words per language from the word statistics")
    build.set_defaults(handler=run_vocab_build)
    compare = steps.add_parser("compare", help="tokens per sentence, fertility, unknowns... per language")
    compare.add_argument("dirs", nargs="+", type=Path, help="vocabulary or model directories")
    compare.add_argument("--out", type=Path, required=True, help="CSV report")
    compare.add_argument("--langs", nargs="+", help="languages to evaluate (default: the workbook's 16)")
    compare.add_argument("--text", type=Path, help="a directory of <lang>.txt files instead of CLDR names")
    compare.set_defaults(handler=run_vocab_compare)


def run_vocab_build(args) -> int:
    from .vocab import XLMVSettings, build_xlmr, build_xlmv, training_data

    langs = args.langs or training_data.DEFAULT_LANGUAGES
    if args.method == "xlmr":
        out = build_xlmr(langs, args.size, args.out, alpha=args.alpha, top=args.top)
    else:
        out = build_xlmv(langs, args.size, args.out, settings=XLMVSettings(k=args.k, top=args.top),
                         equal_size=args.equal_size)
    print(f"{args.method} vocabulary: {out}")
    return 0


def run_vocab_compare(args) -> int:
    from .load import load_tokenizer
    from .vocab import analysis, training_data

    langs = args.langs or training_data.DEFAULT_LANGUAGES
    texts = analysis.read_text_dir(args.text) if args.text else analysis.cldr_texts(langs)
    tokenizers = {str(d): load_tokenizer(d) for d in args.dirs}
    report = analysis.measure(tokenizers, texts)
    report.to_csv(args.out, index=False)
    print(report.groupby("tokenizer")[["tokens_per_sentence", "fertility", "unk_rate"]].mean().to_string())
    print(f"report: {args.out}")
    return 0


# xnli -------------------------------------------------------------------------------------------
def _settings_options(train) -> None:
    """The run's Settings as options (None: the Settings default), device, --resume and --quiet."""
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


def _xnli_commands(commands) -> None:
    xnli = commands.add_parser("xnli", help="fine-tune on NLI and evaluate zero-shot per language")
    steps = xnli.add_subparsers(dest="step", required=True)
    train = steps.add_parser("train", help="fine-tune a classifier; writes OUT/metrics.json, OUT/best, checkpoints")
    train.add_argument("--model", required=True, help="model directory, hub id or embedded name (tiny-xlmr ...)")
    train.add_argument("--train", required=True, type=Path,
                       help="training file or directory (XNLI-MT, MultiNLI, XNLI layout)")
    train.add_argument("--train-languages", nargs="+", default=["en"], help="languages to train on (default: en)")
    train.add_argument("--train-split", default=None, help="keep one split of --train (e.g. train)")
    train.add_argument("--eval", required=True, action="append", type=Path,
                       help="evaluation file or directory; repeat for more; the first selects the best checkpoint")
    train.add_argument("--languages", nargs="+", help="evaluation languages (default: all in the files)")
    train.add_argument("--out", required=True, type=Path)
    train.add_argument("--preset", choices=sorted(PRESETS), help="a published recipe; other options override it")
    _settings_options(train)
    train.set_defaults(handler=run_xnli_train)

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
    evaluate.set_defaults(handler=run_xnli_eval)


def eval_sets(paths: list[Path], languages: list[str] | None) -> dict:
    """One evaluation set per split found in the given files: {"dev": frame, "test": frame}.
    A directory's training files are not evaluation sets; name a training file to evaluate on it."""
    from .nli import read_xnli

    sets = {}
    for path in paths:
        frame = read_xnli(path)
        for split, part in frame.groupby("split", sort=False):
            if split == "train" and path.is_dir():
                continue
            name = split if split not in sets else f"{path.name}:{split}"
            sets[name] = read_xnli(path, languages, split=split) if languages else part.reset_index(drop=True)
    return sets


def _print_accuracies(results: dict[str, dict[str, float]]) -> None:
    for name, accuracy in results.items():
        print(name, " ".join(f"{lang} {acc:.1f}" for lang, acc in accuracy.items()))


def run_xnli_train(args) -> int:
    from .nli import NLIRunner, read_xnli
    from .train import preset

    overrides = {k: v for k, v in vars(args).items() if v is not None and k in Settings.__dataclass_fields__}
    if overrides.get("clip") == 0:
        overrides["clip"] = None
    settings = preset(args.preset, **overrides) if args.preset else Settings(**overrides)
    train = read_xnli(args.train, args.train_languages, split=args.train_split)
    if train["split"].nunique() > 1:
        raise SystemExit(f"{args.train} holds the splits {sorted(train['split'].unique())}: "
                         "name the training file, or choose one with --train-split")
    runner = NLIRunner(args.model, train, eval_sets(args.eval, args.languages), args.out, settings,
                       progress=not args.quiet)
    runner.fit(resume=args.resume)
    result = runner.result()
    _print_accuracies(result["accuracy"])
    print(f"best step {result['best_step']} of {result['total_steps']}: {args.out / 'best'}; "
          f"metrics: {args.out / 'metrics.json'}")
    return 0


def run_xnli_eval(args) -> int:
    from .nli import evaluate_directory

    results, _ = evaluate_directory(args.model, eval_sets(args.eval, args.languages), max_length=args.max_length,
                                    batch_size=args.batch_size, device=args.device, precision=args.precision,
                                    progress=not args.quiet)
    _print_accuracies(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


# ner --------------------------------------------------------------------------------------------
def _ner_command(commands) -> None:
    ner = commands.add_parser("ner", help="fine-tune a token classifier (NER) and evaluate per language")
    steps = ner.add_subparsers(dest="step", required=True)
    train = steps.add_parser("train", help="fine-tune a tagger; writes OUT/metrics.json, OUT/best, checkpoints")
    train.add_argument("--model", required=True, help="model directory, hub id or embedded name (tiny-xlmr ...)")
    train.add_argument("--train", required=True, type=Path, help="a WikiANN or CoNLL-style file (e.g. English train)")
    train.add_argument("--eval", required=True, action="append", type=Path,
                       help="evaluation file; repeat for more; the first selects the best checkpoint")
    train.add_argument("--language", help="the language of CoNLL-style files (WikiANN lines carry theirs)")
    train.add_argument("--scheme", choices=["iob2", "iob1"], default="iob2", help="iob1: CoNLL-2003's original tags")
    train.add_argument("--out", required=True, type=Path)
    _settings_options(train)
    train.set_defaults(handler=run_ner_train)


def run_ner_train(args) -> int:
    from .ner import NERRunner, read_ner

    overrides = {k: v for k, v in vars(args).items() if v is not None and k in Settings.__dataclass_fields__}
    if overrides.get("clip") == 0:
        overrides["clip"] = None

    def read(path: Path):
        return read_ner(path, language=args.language, scheme=args.scheme)

    evals = {path.stem: read(path) for path in args.eval}
    runner = NERRunner(args.model, read(args.train), evals, args.out, Settings(**overrides), progress=not args.quiet)
    runner.fit(resume=args.resume)
    result = runner.result()
    for split, scores in result["f1"].items():
        print(f"{split}: " + "  ".join(f"{lang} {value:.1f}" for lang, value in scores.items()))
    print(f"best step {result['best_step']} of {result['total_steps']}: {args.out / 'best'}")
    return 0


# pretrain ---------------------------------------------------------------------------------------
def _pretrain_command(commands) -> None:
    pretrain = commands.add_parser("pretrain", help="MLM and/or TLM on parallel text; writes OUT/best, checkpoints")
    pretrain.add_argument("--model", required=True, help="a masked LM: directory, hub id or embedded name")
    pretrain.add_argument("--tokenizer", help="a tokenizer directory or name (default: the model's)")
    pretrain.add_argument("--objective", choices=["mlm", "tlm", "mlm+tlm"], default="mlm")
    pretrain.add_argument("--train", type=Path, default=None,
                          help="a data/parallel directory (default: the one in this checkout)")
    pretrain.add_argument("--languages", nargs="+", help="languages besides English (default: all 14)")
    pretrain.add_argument("--alpha", type=float, default=0.3, help="language sampling exponent (XLM-R 0.3)")
    pretrain.add_argument("--out", required=True, type=Path)
    defaults = Settings()
    for name, kind in [("max-steps", int), ("batch-size", int), ("micro-batch-size", int), ("lr", float),
                       ("warmup", float), ("max-length", int), ("eval-every", int), ("save-every", int),
                       ("seed", int)]:
        field = name.replace("-", "_")
        pretrain.add_argument(f"--{name}", type=kind, default=None, help=f"(default: {getattr(defaults, field)})")
    pretrain.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default=None)
    pretrain.add_argument("--device", help="cuda, cuda:1, mps, cpu (default: the first GPU, else the CPU)")
    pretrain.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    pretrain.add_argument("--quiet", action="store_true", help="no progress bars")
    pretrain.set_defaults(handler=run_pretrain)


def run_pretrain(args) -> int:
    from . import parallel
    from .pretrain import PretrainRunner

    overrides = {k: v for k, v in vars(args).items() if v is not None and k in Settings.__dataclass_fields__}
    directory = args.train or parallel.COMMITTED
    train = parallel.pairs("train", args.languages, directory)
    evals = {"eval": parallel.pairs("eval", args.languages, directory)}
    runner = PretrainRunner(args.model, train, evals, args.out, Settings(**overrides), objective=args.objective,
                            alpha=args.alpha, progress=not args.quiet, tokenizer=args.tokenizer)
    runner.fit(resume=args.resume)
    result = runner.result()
    _print_accuracies(result["accuracy"])
    print(f"best step {result['best_step']} of {result['total_steps']}: {args.out / 'best'}; "
          f"metrics: {args.out / 'metrics.json'}")
    return 0
