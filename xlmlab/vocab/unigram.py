"""SentencePiece unigram models: trained from word counts, read, pruned and merged.

A unigram model is a list of pieces with scores, the log-probabilities of the unigram language
model that segmentation maximises. That makes a model file easy to work with directly:

    prune   keep every character and the k best-scored longer pieces: a smaller vocabulary
    union   pieces of several models in one file, the ids of `load_tokenizer` order by score

Files are deterministic: training input paths are cleared from the stored trainer settings, so
the same counts give byte-identical files.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import sentencepiece
from sentencepiece import sentencepiece_model_pb2 as pb

NORMAL = pb.ModelProto.SentencePiece.NORMAL


class VocabularyError(ValueError):
    """Settings a vocabulary cannot be built with; the message says what to change.
    `bound` is the nearest size that would work, when SentencePiece says which."""

    def __init__(self, message: str, bound: int | None = None):
        super().__init__(message)
        self.bound = bound


def train(counts: dict[str, int], size: int, out_file: Path, *, character_coverage: float = 0.9995,
          num_threads: int = 2) -> Path:
    """Train a unigram model of `size` pieces on word counts and write it to `out_file`."""
    if not counts:
        raise VocabularyError("the corpus is empty: no word counts to learn a vocabulary from")
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "counts.tsv"
        tsv.write_text("".join(f"{w}\t{c}\n" for w, c in sorted(counts.items())), encoding="utf-8")
        try:
            sentencepiece.SentencePieceTrainer.train(
                input=str(tsv), input_format="tsv", model_prefix=str(Path(tmp) / "m"), vocab_size=size,
                model_type="unigram", character_coverage=character_coverage, num_threads=num_threads,
                minloglevel=2)
        except RuntimeError as err:
            raise _explain(str(err), size) from None
        model = read(Path(tmp) / "m.model")
    model.trainer_spec.ClearField("input")
    model.trainer_spec.ClearField("model_prefix")
    write(model, out_file)
    return out_file


def _explain(message: str, size: int) -> VocabularyError:
    high = re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", message)
    if high:
        most = int(high.group(2))
        return VocabularyError(f"size {size} is more than these word counts support; use at most {most} "
                               "or add data", bound=most)
    low = re.search(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)", message)
    if low:
        chars = int(low.group(2))
        return VocabularyError(f"size {size} is too small for the {chars} characters these languages need; "
                               f"use a size above {chars} or fewer languages", bound=chars + 4)
    return VocabularyError(f"SentencePiece could not train a vocabulary of {size}: {message.strip().splitlines()[-1]}")


def read(path: Path) -> pb.ModelProto:
    model = pb.ModelProto()
    model.ParseFromString(Path(path).read_bytes())
    return model


def write(model: pb.ModelProto, path: Path) -> Path:
    Path(path).write_bytes(model.SerializeToString())
    return Path(path)


def scores(model: pb.ModelProto) -> dict[str, float]:
    """piece -> log-probability, for the ordinary pieces."""
    return {p.piece: p.score for p in model.pieces if p.type == NORMAL}


def prune(model: pb.ModelProto, extra: int) -> pb.ModelProto:
    """The model cut to its control pieces, every single character (so any text the full model
    covers is still covered) and its `extra` best-scored longer pieces (ties broken by piece).

    XLM-V uses it twice: for the ALP curves (how a language fares with fewer pieces) and to cut
    the union of the cluster vocabularies to exactly N pieces.
    """
    longer = [p for p in model.pieces if p.type == NORMAL and len(p.piece) > 1]
    longer.sort(key=lambda p: (-p.score, p.piece))
    keep = {p.piece for p in longer[:max(extra, 0)]}
    pruned = pb.ModelProto()
    pruned.CopyFrom(model)
    del pruned.pieces[:]
    pruned.pieces.extend(p for p in model.pieces if p.type != NORMAL or len(p.piece) == 1 or p.piece in keep)
    pruned.trainer_spec.vocab_size = len(pruned.pieces)
    return pruned


def union(models: list[pb.ModelProto]) -> pb.ModelProto:
    """One model holding every ordinary piece of `models`.

    A piece learned by several models keeps its highest log-probability: in the cluster where it
    matters most it is that likely, and segmentation elsewhere stays as it was. Pieces are ordered
    by score (ties by piece), after the control pieces (<unk>, <s>, </s>) of the first model.
    """
    best: dict[str, float] = {}
    for model in models:
        for piece, score in scores(model).items():
            best[piece] = max(score, best.get(piece, float("-inf")))
    merged = pb.ModelProto()
    merged.CopyFrom(models[0])
    del merged.pieces[:]
    merged.pieces.extend(p for p in models[0].pieces if p.type != NORMAL)
    for piece, score in sorted(best.items(), key=lambda ps: (-ps[1], ps[0])):
        merged.pieces.add(piece=piece, score=score, type=NORMAL)
    merged.trainer_spec.vocab_size = len(merged.pieces)
    return merged


def processor(model: pb.ModelProto) -> sentencepiece.SentencePieceProcessor:
    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(model.SerializeToString())
    return sp


def weighted_alp(model: pb.ModelProto | sentencepiece.SentencePieceProcessor, counts: dict[str, int]) -> float:
    """ALP over a corpus given as text -> count. An unknown piece scores the model's lowest
    log-probability minus 10, the penalty SentencePiece itself gives unknowns."""
    sp = model if isinstance(model, sentencepiece.SentencePieceProcessor) else processor(model)
    table = [sp.GetScore(i) for i in range(len(sp))]
    ordinary = [score for i, score in enumerate(table) if not (sp.IsControl(i) or sp.IsUnknown(i))]
    table[sp.unk_id()] = min(ordinary, default=0.0) - 10.0
    texts = list(counts)
    total = sum(counts.values())
    return sum(counts[t] * sum(table[i] for i in row) for t, row in zip(texts, sp.encode(texts))) / max(total, 1)
