"""Tokenizer speed and size: xlmlab against transformers on the same files, side by side.

1. Batch encoding to padded tensors (truncation at 128) with a SentencePiece unigram model
   trained here on CLDR text: xlmlab's SentencePieceTokenizer vs transformers' XLMRobertaTokenizer.
2. Loading a ~1M-piece vocabulary (the scale of XLM-V): a unigram model file of 1M pieces built
   here, loaded by sentencepiece itself, by xlmlab and by transformers (which converts it); time
   and the growth of resident memory with the tokenizer loaded, each in a fresh process.
3. XLM (Moses + BPE) throughput: xlmlab's XLMTokenizer vs transformers' XLMTokenizer on en/de
   texts, with a BPE vocabulary learned here; first pass over unseen texts, then a second pass.

    python benchmarks/tokenizers_speed.py [--texts 5000] [--pieces 1000000]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sentencepiece
import transformers

import xlmlab
from xlmlab.tokenizers.bpe import write_xlm_vocabulary
from xlmlab.tokenizers.xlm import moses_words
from xlmlab.vocab import cldr

LANGS = ["en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko", "vi", "tr", "sw", "el", "bg", "ur"]


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batch_encoding(directory: Path, n_texts: int) -> None:
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(t for lang in LANGS for t in cldr.names(lang)), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(directory / "sentencepiece.bpe"),
                                             vocab_size=12000, model_type="unigram", minloglevel=2)
    ours = xlmlab.load_tokenizer(directory)
    theirs = transformers.XLMRobertaTokenizer.from_pretrained(directory)
    texts = cldr.sentences(LANGS, n_texts)
    a = ours(texts, max_length=128)["input_ids"]
    b = theirs(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")["input_ids"]
    sp = sentencepiece.SentencePieceProcessor(model_file=str(directory / "sentencepiece.bpe.model"))
    oracle = [[0] + [3 if i == 0 else i + 1 for i in ids][:126] + [2] for ids in sp.encode(texts)]
    assert all(row[:len(o)].tolist() == o for row, o in zip(a, oracle)), "xlmlab differs from sentencepiece"
    differ = [t for t, x, y in zip(texts, a, b) if not (x == y).all()]
    o = best_of(lambda: ours(texts, max_length=128), 5)
    t = best_of(lambda: theirs(texts, truncation=True, max_length=128, padding=True, return_tensors="pt"), 5)
    print(f"1. batch encoding: {n_texts} texts ({sum(map(len, texts)) / n_texts:.0f} chars on average), "
          f"truncation 128; xlmlab = sentencepiece + fairseq on every text, transformers differs on {len(differ)}")
    for text in differ[:3]:
        print(f"   differs: {text[:60]}...")
    print(f"   xlmlab {o * 1e3:.1f} ms ({n_texts / o:,.0f} texts/s), transformers {t * 1e3:.1f} ms; ratio {t / o:.1f}x")


def build_large_model(directory: Path, pieces: int) -> Path:
    """A unigram model of `pieces` pieces: a trained base plus character n-grams of CLDR words."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    base = directory / "base"
    base.mkdir()
    (base / "corpus.txt").write_text("\n".join(t for lang in LANGS for t in cldr.names(lang)), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(input=str(base / "corpus.txt"), model_prefix=str(base / "m"),
                                             vocab_size=8000, model_type="unigram", minloglevel=2)
    model = pb.ModelProto()
    model.ParseFromString((base / "m.model").read_bytes())
    seen = {p.piece for p in model.pieces}
    langs = sorted({loc.split("_")[0] for loc in __import__("babel").localedata.locale_identifiers()})
    grams = collections.Counter()
    for lang in langs:
        try:
            words = [w for name in cldr.names(lang) for w in name.split()]
        except Exception:  # a locale without names
            continue
        for w in words:
            w = "▁" + w
            for n in range(2, 9):
                grams.update(w[i:i + n] for i in range(len(w) - n + 1))
        if len(grams) > 3 * pieces:
            break
    for gram, count in grams.most_common():
        if len(model.pieces) >= pieces:
            break
        if gram not in seen:
            seen.add(gram)
            model.pieces.add(piece=gram, score=-12.0 - 1.0 / count - 0.1 * len(gram), type=pb.ModelProto.SentencePiece.NORMAL)
    out = directory / "large"
    out.mkdir()
    (out / "sentencepiece.bpe.model").write_bytes(model.SerializeToString())
    return out


LOADERS = {
    "sentencepiece": "import sentencepiece; t = sentencepiece.SentencePieceProcessor(model_file=str(d / 'sentencepiece.bpe.model')); n = len(t)",
    "xlmlab": "import xlmlab; t = xlmlab.load_tokenizer(d); n = t.vocab_size",
    "transformers": "import transformers; t = transformers.XLMRobertaTokenizer.from_pretrained(d); n = len(t)",
}
PROBE = """
import os, sys, time, json
from pathlib import Path
def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
d = Path(sys.argv[1])
{imports}
before = resident_mib()
start = time.perf_counter()
{load}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "memory_mib": resident_mib() - before, "size": n}}))
"""


def large_vocabulary(directory: Path, pieces: int) -> None:
    large = build_large_model(directory, pieces)
    size_mb = (large / "sentencepiece.bpe.model").stat().st_size / 1e6
    print(f"2. loading a {pieces:,}-piece unigram model ({size_mb:.1f} MB), each in a fresh process:")
    results = {}
    for name, load in LOADERS.items():
        imports = load.split(";")[0]  # import first, so that its memory is not counted
        code = PROBE.format(imports=imports, load=";".join(load.split(";")[1:]).strip())
        out = subprocess.run([sys.executable, "-c", code, str(large)], capture_output=True, text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[name]
        print(f"   {name:13s} {r['seconds']:7.2f} s  resident memory +{r['memory_mib']:6.0f} MiB  vocabulary {r['size']:,}")
    print(f"   transformers / xlmlab: {results['transformers']['seconds'] / results['xlmlab']['seconds']:.1f}x the time, "
          f"{results['transformers']['memory_mib'] / max(results['xlmlab']['memory_mib'], 1):.1f}x the memory")


def xlm_throughput(directory: Path, n_texts: int) -> None:
    counts = collections.Counter(w for lang in ("en", "de") for t in cldr.names(lang) for w in moses_words(t, lang))
    write_xlm_vocabulary(directory, counts, 1000, lang2id={"de": 0, "en": 1})
    texts = cldr.sentences(["en", "de"], n_texts, seed=1)
    ours = xlmlab.load_tokenizer(directory)
    theirs = transformers.XLMTokenizer(vocab_file=str(directory / "vocab.json"), merges_file=str(directory / "merges.txt"),
                                       lang2id={"de": 0, "en": 1}, id2lang={0: "de", 1: "en"})
    rows = []
    for label in ("first pass", "second pass"):
        start = time.perf_counter()
        a = ours(texts, lang="en", max_length=128)["input_ids"]
        o = time.perf_counter() - start
        start = time.perf_counter()
        b = theirs(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")["input_ids"]
        t = time.perf_counter() - start
        assert (a == b).all(), "the two tokenizers disagree"
        rows.append((label, o, t))
    print(f"3. XLM tokenizer (Moses + BPE), {n_texts} en/de texts, English rules, identical ids:")
    for label, o, t in rows:
        print(f"   {label:11s} xlmlab {o:6.2f} s ({n_texts / o:,.0f} texts/s), transformers {t:6.2f} s; ratio {t / o:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--pieces", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["batch", "large", "xlm"])
    args = parser.parse_args()
    print(f"sentencepiece {sentencepiece.__version__}, transformers {transformers.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, run in (("batch", lambda d: batch_encoding(d, args.texts)), ("large", lambda d: large_vocabulary(d, args.pieces)),
                          ("xlm", lambda d: xlm_throughput(d, args.texts))):
            if args.only in (None, name):
                (tmp / name).mkdir()
                run(tmp / name)


if __name__ == "__main__":
    main()
