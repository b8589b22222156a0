"""The XLM-V method (Liang et al. 2023, section 3): vocabularies per cluster of similar languages.

One unigram model over all languages (the XLM-R method, `xlmr.py`) lets languages with much
data take most of the pieces, and lets languages that share little compete for them. XLM-V
groups languages by the pieces they use and gives each group a vocabulary of its own, step by
step, each step a function here:

  1. `per_language_models`  one unigram model per language;
  2. `lexical_vectors`      each language as the vector of its pieces' log-probabilities over the
                            union of all the per-language vocabularies;
  3. `cluster`              k-means on those vectors (k = 8);
  4. `alp_curves`, `allocate`, `cluster_capacities`
                            how much each language gains in average log-probability (ALP) as its
                            vocabulary grows; pieces go where the gain, weighted by the language's
                            probability^0.7, is largest (VoCap); a cluster's capacity is the sum of
                            its languages' shares, rescaled to N;
  5. `cluster_models`, `unigram.union`
                            one unigram model per cluster, and the union of their pieces.

Overlap makes the union smaller than N; `build(..., equal_size=True)` grows the capacities until
the union reaches N and cuts it to exactly N (`unigram.prune`), so both methods can be compared
at one size. Builds are cached and deterministic (`cache.py`): the same settings give
byte-identical files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import unigram
from .cache import cache_path, copy_to, count_pieces, write_directory
from .training_data import COVERAGE, check_languages, mixed_counts, sampling_probabilities, source_key, word_counts
from .unigram import VocabularyError


@dataclass(frozen=True)
class XLMVSettings:
    k: int = 8                       # clusters
    per_language_size: int = 8000    # the paper used 30,000 on 1B lines; these word lists are smaller
    top: int = 10_000                # words per language taken from the word statistics
    alpha: float = 0.5               # data sampling for the cluster models (the paper's t = 2)
    vocap_beta: float = 0.7          # VoCap weights languages by probability^0.7
    step: int = 500                  # allocation granularity, pieces
    seed: int = 0
    source: str = "words"            # word lists alone, or "words+text" (`training_data`)
    character_coverage: float = COVERAGE  # of the characters' occurrences, by single-character pieces

    def key(self) -> dict:
        """The settings as a cache key (a word-list build at the default coverage keeps the key it
        had before these two settings existed)."""
        own = {k: v for k, v in asdict(self).items() if k not in ("source", "character_coverage")}
        return own | source_key(self.source, self.character_coverage)


# XLM-V, step 1: per-language models -----------------------------------------------------------
def per_language_models(langs: list[str], size: int = 8000, *, top: int = 10_000, source: str = "words",
                        character_coverage: float = COVERAGE) -> dict[str, object]:
    """A unigram model per language (cached)."""
    models = {}
    for lang in tqdm(check_languages(langs, source), desc="per-language models", leave=False):
        key = {"lang": lang, "size": size, "top": top, **source_key(source, character_coverage)}
        path = cache_path("language", key).with_suffix(".model")
        if not path.is_file():
            _train_within(word_counts(lang, top=top, source=source), size, path, character_coverage)
        models[lang] = unigram.read(path)
    return models


def _train_within(counts: dict[str, int], size: int, path: Path, character_coverage: float = COVERAGE) -> None:
    """Train at `size`, or at the nearest size the data allows: all the pieces a small corpus
    supports, or as many as the characters it needs."""
    try:
        unigram.train(counts, size, path, character_coverage=character_coverage)
    except VocabularyError as err:
        if err.bound is None:
            raise
        unigram.train(counts, err.bound, path, character_coverage=character_coverage)


# step 2: lexical vectors -----------------------------------------------------------------------
def lexical_vectors(models: dict[str, object]) -> pd.DataFrame:
    """Languages x pieces: each language's log-probability of every piece of the union.

    A piece a language's model does not have gets one common floor: the lowest log-probability
    found in any of the models. Two languages that both lack a piece then agree on it, and a
    piece one has and the other lacks separates them by how likely it is where it exists.
    (Minus infinity would make every distance infinite; zero would make absent pieces the most
    likely of all; a floor per language would let the floors, not the pieces, decide.)
    """
    table = {lang: unigram.scores(model) for lang, model in models.items()}
    pieces = sorted(set().union(*table.values()))
    column = {p: j for j, p in enumerate(pieces)}
    floor = min(min(scores.values()) for scores in table.values())
    vectors = np.full((len(table), len(pieces)), floor, dtype=np.float32)
    for i, scores in enumerate(table.values()):
        vectors[i, [column[p] for p in scores]] = list(scores.values())
    return pd.DataFrame(vectors, index=list(table), columns=pieces)


# step 3: clusters ------------------------------------------------------------------------------
def cluster(vectors: pd.DataFrame, k: int = 8, seed: int = 0) -> dict[str, int]:
    """k-means over the lexical vectors; clusters numbered by their first language."""
    from sklearn.cluster import KMeans

    k = min(k, len(vectors))
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors.to_numpy())
    order = {label: i for i, label in enumerate(dict.fromkeys(labels))}
    return {lang: order[label] for lang, label in zip(vectors.index, labels)}


# step 4: ALP and capacities --------------------------------------------------------------------
def characters(model) -> set[str]:
    """The single-character pieces: every vocabulary of these languages needs them."""
    return {p for p in unigram.scores(model) if len(p) == 1}


def alp_curves(models: dict[str, object], *, step: int = 500, words: int = 5000,
               source: str = "words") -> pd.DataFrame:
    """ALP of each language's own words (its `words` most frequent, weighted by count) under its
    characters plus the `extra` best pieces of its model, for extra = 0, step, 2 step, ...:
    how much a larger vocabulary still helps that language."""
    rows = []
    for lang, model in tqdm(models.items(), desc="ALP curves", leave=False):
        counts = word_counts(lang, top=words, source=source)
        longer = len(unigram.scores(model)) - len(characters(model))
        for extra in range(0, longer + step, step):
            pruned = unigram.prune(model, extra)  # every character and the `extra` best longer pieces
            rows.append({"lang": lang, "extra": min(extra, longer), "size": count_pieces(pruned),
                         "alp": unigram.weighted_alp(pruned, counts)})
    return pd.DataFrame(rows).drop_duplicates(["lang", "extra"]).reset_index(drop=True)


def allocate(curves: pd.DataFrame, weights: dict[str, float], total: int, *, step: int = 500) -> dict[str, int]:
    """VoCap: pieces beyond the characters go `step` at a time to the language whose ALP gain
    for them, times its weight, is largest, until `total` extra pieces are given out.

    A greedy water-filling: ALP curves rise steeply first and flatten, so each round's best use
    of `step` more pieces is the language still on the steep part of its curve, scaled by how
    much of the data it is (weight = probability^beta).
    """
    by_language = curves.sort_values("extra").groupby("lang")
    curve = {lang: (g["extra"].to_numpy(), g["alp"].to_numpy()) for lang, g in by_language}
    extra = dict.fromkeys(sorted(curve), 0)  # every language starts with its characters only

    def gain(lang: str) -> float:
        """Weighted ALP gain of `step` more pieces for `lang`, read off its curve (interpolated)."""
        x, y = curve[lang]  # flat beyond the curve's end: more pieces than the model has help nothing
        return weights[lang] * (np.interp(extra[lang] + step, x, y) - np.interp(extra[lang], x, y))

    # hand out whole steps to the language that gains most from its next one ...
    while sum(extra.values()) + step <= total:
        extra[max(extra, key=gain)] += step
    # ... and the remainder, less than a step, to the language that gains most then
    extra[max(extra, key=gain)] += total - sum(extra.values())
    return extra


def cluster_capacities(allocation: dict[str, int], clusters: dict[str, int], chars: dict[int, int],
                       size: int) -> dict[int, int]:
    """Each cluster's characters plus the sum of its languages' extra pieces, the extras
    rescaled so that the capacities add up to `size` (largest remainders)."""
    room = size - sum(chars.values())
    if room < 0:
        raise VocabularyError(f"size {size:,} is smaller than the {sum(chars.values()):,} characters the clusters "
                              "need; use a larger size or fewer languages")
    raw = pd.Series(allocation).groupby(pd.Series(clusters)).sum().reindex(sorted(chars), fill_value=0).astype(float)
    scaled = raw / max(raw.sum(), 1) * room
    extra = np.floor(scaled).astype(int)
    for c in (scaled - extra).sort_values(ascending=False).index[: room - extra.sum()]:
        extra[c] += 1
    return {int(c): int(chars[c] + extra[c]) for c in extra.index}


# step 5: cluster models ------------------------------------------------------------------------
def cluster_models(clusters: dict[str, int], capacities: dict[int, int], *, alpha: float = 0.5,
                   top: int = 10_000, source: str = "words", character_coverage: float = COVERAGE) -> dict[int, object]:
    """One unigram model per cluster, trained on its languages' words (sampled with `alpha`);
    a capacity beyond what the cluster's data supports is cut to what it supports."""
    models = {}
    for c, capacity in tqdm(sorted(capacities.items()), desc="cluster models", leave=False):
        langs = sorted(lang for lang, k in clusters.items() if k == c)
        key = {"langs": langs, "size": capacity, "alpha": alpha, "top": top,
               **source_key(source, character_coverage)}
        path = cache_path("cluster", key).with_suffix(".model")
        if not path.is_file():
            counts = mixed_counts(langs, sampling_probabilities(langs, alpha), top=top, source=source)
            _train_within(counts, capacity, path, character_coverage)
        models[c] = unigram.read(path)
    return models


def build(langs: list[str], size: int, out: Path | None = None, *, settings: XLMVSettings = XLMVSettings(),
          equal_size: bool = False) -> Path:
    """The XLM-V method end to end; `equal_size` grows capacities until the union has `size` pieces."""
    langs = check_languages(sorted(langs), settings.source)
    key = {"method": "xlmv", "langs": langs, "size": size, "equal_size": equal_size, **settings.key()}
    cached = cache_path("xlmv", key)
    if (cached / "vocabulary.json").is_file():
        return copy_to(cached, out)
    # steps 1-3: a model per language, the languages as vectors of log-probabilities, clusters
    models = per_language_models(langs, settings.per_language_size, top=settings.top, source=settings.source,
                                 character_coverage=settings.character_coverage)
    clusters = cluster(lexical_vectors(models), settings.k, settings.seed)
    # step 4: VoCap weights languages by their share of the data to the power beta; every cluster
    # needs its languages' characters, the rest of the budget goes where the ALP gain is largest
    weights = {lang: p ** settings.vocap_beta for lang, p in sampling_probabilities(langs, 1.0).items()}
    chars = {c: len(set().union(*(characters(models[lang]) for lang in langs if clusters[lang] == c)))
             for c in sorted(set(clusters.values()))}
    curves = alp_curves(models, step=settings.step, source=settings.source)
    allocation = allocate(curves, weights, max(size - sum(chars.values()), 0), step=settings.step)
    capacities = cluster_capacities(allocation, clusters, chars, size)
    # step 5: a model per cluster at its capacity, and their union. Pieces shared by clusters
    # count once in the union, so it falls short of `size`; with `equal_size`, scale every
    # capacity up (2% beyond the shortfall each round) until the union is large enough
    scale, union = 1.0, None
    for _ in range(6):
        target = cluster_capacities(allocation, clusters, chars, round(size * scale))
        found = cluster_models(clusters, target, alpha=settings.alpha, top=settings.top, source=settings.source,
                               character_coverage=settings.character_coverage)
        union = unigram.union(list(found.values()))
        if not equal_size or count_pieces(union) >= size:
            break
        scale *= size / count_pieces(union) * 1.02
    if equal_size:
        if count_pieces(union) < size:
            raise VocabularyError(f"the clusters' data cannot supply {size:,} distinct pieces "
                                  f"(reached {count_pieces(union):,}); use a smaller size")
        # cut to exactly `size`: the control pieces, every character, the best longer pieces
        controls = count_pieces(union) - len(unigram.scores(union))
        union = unigram.prune(union, size - controls - len(characters(union)))
    info = key | {"clusters": clusters, "allocation": allocation, "capacities": capacities,
                  "scale": scale, "pieces": count_pieces(union)}
    write_directory(cached, union, info)
    return copy_to(cached, out)
