"""Entity tags: the BIO schemes, the entities a tag sequence holds, and seqeval's entity-level F1.

A named-entity tagger gives every word a tag. In IOB2 (WikiANN, MasakhaNER, CoNLL as usually
distributed today) `B-TYPE` begins an entity, `I-TYPE` continues it and `O` is outside any:

    Ada    Lovelace  visited  Nairobi  .
    B-PER  I-PER     O        B-LOC    O      -> entities (PER, 0, 1) and (LOC, 3, 3)

IOB1 (the original CoNLL-2003 files) writes `I-` at the start of an entity too, and `B-` only
where an entity directly follows another of the same type; `iob1_to_iob2` converts.

Scores are counted over entities, not words (as `seqeval` and the CoNLL script count them): an
entity is right only if its type, first and last word all match. `entities` follows seqeval's
default (lenient) reading: an `I-` after `O` or after another type starts an entity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def is_tag(tag: str) -> bool:
    """'O', 'B-PER', 'I-LOC' -> True; 'PER', 'B-', 'b-per' -> False."""
    return tag == "O" or (len(tag) > 2 and tag[:2] in ("B-", "I-"))


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Every entity starts with B-: ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC'] ->
    ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC']."""
    out = []
    for i, tag in enumerate(tags):
        previous = tags[i - 1] if i else "O"
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
    return out


def entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The (type, first, last) word spans of one sentence, read as seqeval reads them.

    ['B-PER', 'I-PER', 'O', 'I-LOC', 'B-LOC'] -> [('PER', 0, 1), ('LOC', 3, 3), ('LOC', 4, 4)]
    """
    found, start, kind = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, this = tag[0], tag[2:]
        # an entity ends at O, at a B-, or where the type changes
        if start is not None and (prefix in "OB" or this != kind):
            found.append((kind, start, i - 1))
            start = None
        # one starts at B-, or (lenient) at an I- that does not continue the open entity
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, this
    return found


def entity_counts(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> np.ndarray:
    """(N, 3): per sentence, entities right, predicted and in the gold tags."""
    counts = np.zeros((len(gold), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, predicted)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        g_set, p_set = set(entities(g)), set(entities(p))
        counts[i] = len(g_set & p_set), len(p_set), len(g_set)
    return counts


def f1_from_counts(counts: np.ndarray) -> dict[str, float]:
    """Micro precision, recall and F1 (%) over all entities, as seqeval gives them (0 where undefined)."""
    right, predicted, gold = counts.sum(0)
    precision = right / predicted if predicted else 0.0
    recall = right / gold if gold else 0.0
    f1 = 2 * right / (predicted + gold) if predicted + gold else 0.0
    return {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * f1}


def f1_score(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Entity-level micro F1 (%), equal to `seqeval.metrics.f1_score` * 100."""
    return f1_from_counts(entity_counts(gold, predicted))["f1"]


def f1_by_language(frame: pd.DataFrame, predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity F1 (%) per language in the frame's order, and their plain average ("avg")."""
    counts = entity_counts(frame["tags"].tolist(), predicted)
    scores = {}
    for lang in dict.fromkeys(frame["language"]):
        rows = np.flatnonzero(frame["language"].to_numpy() == lang)
        scores[lang] = round(f1_from_counts(counts[rows])["f1"], 4)
    return scores | {"avg": round(float(np.mean(list(scores.values()))), 4)}
