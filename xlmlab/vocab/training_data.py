"""Training statistics for vocabularies: word counts per language from `wordfreq` (and, if
asked, from real running text), and how much text each language really has (CC-100 sizes),
which decides how languages are weighted.

SentencePiece can learn a vocabulary from `word<TAB>count` lines instead of raw text. wordfreq
gives relative frequencies; they are scaled to a modest total (a million by default), because
huge counts make SentencePiece's training very slow without changing the pieces much.

    word_counts("de", total=1000)  ->  {'die': 31, 'der': 30, 'und': 24, ...}

Two sources (`source=`):
    "words"       wordfreq's lists alone: lowercase words, digits written as 0, no punctuation;
    "words+text"  those plus the training side of `data/parallel` (`xlmlab.parallel`), real
                  human-translated sentences split at spaces: punctuation, digits, capitals and
                  placeholders as text has them. The text gets TEXT_SHARE of each language's
                  total; languages wordfreq lacks (Swahili, Thai) are text alone.
"""

from __future__ import annotations

import collections
import functools

# CC-100, uncompressed GiB per language (XLM-R paper, appendix): how unequal real corpora are.
# Swedish is the corrected figure (the paper prints 12.1). wordfreq's nb is CC-100's "no".
CC100_GIB = {
    "ar": 28.0, "bg": 57.5, "bn": 8.4, "ca": 10.1, "cs": 16.3, "da": 45.6, "de": 66.6, "el": 46.9, "en": 300.8,
    "es": 53.3, "fa": 111.6, "fi": 54.3, "fr": 56.8, "he": 31.6, "hi": 20.2, "hu": 58.4, "id": 148.3, "is": 3.2,
    "it": 30.2, "ja": 69.3, "ko": 54.2, "lt": 13.7, "lv": 8.8, "mk": 4.8, "ms": 8.5, "nb": 49.0, "nl": 29.3,
    "pl": 44.6, "pt": 49.1, "ro": 61.4, "ru": 278.0, "sk": 23.2, "sl": 10.3, "sv": 85.0, "sw": 1.6, "ta": 12.2,
    "th": 71.7, "tr": 20.9, "uk": 84.6, "ur": 5.7, "vi": 137.3, "zh": 63.5,
}
DEFAULT_GIB = 2.0  # languages wordfreq has but the table lacks (fil, sh): a low-resource size

# The workbook's default: 16 languages, 10 scripts, high- to low-resource (CC-100 sizes above)
DEFAULT_LANGUAGES = ["ar", "bn", "de", "en", "es", "fa", "fr", "he", "hi", "is", "ja", "ru", "ta", "uk", "ur", "zh"]


# The 15 XNLI languages, the embedded models' languages: all have parallel text, 13 word lists
XNLI_LANGUAGES = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]

SOURCES = ("words", "words+text")
TEXT_SHARE = 0.25  # of a language's total, with "words+text", when wordfreq has the language too


def languages(source: str = "words") -> list[str]:
    """The languages a source has statistics for: wordfreq's full lists (42), plus those of the
    parallel text with "words+text"."""
    import wordfreq

    known = set(wordfreq.available_languages(wordlist="best"))
    if check_source(source) == "words+text":
        known |= set(XNLI_LANGUAGES)
    return sorted(known)


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"source {source!r}; expected one of {SOURCES}")
    return source


def check_languages(langs: list[str], source: str = "words") -> list[str]:
    known = languages(source)
    unknown = [lang for lang in langs if lang not in known]
    if unknown:
        raise ValueError(f"no word statistics for {unknown} in source {source!r}; it has {known}")
    if not langs:
        raise ValueError("no languages given")
    return list(langs)


COVERAGE = 0.9995  # SentencePiece's character_coverage unless a build asks for another


def source_key(source: str, character_coverage: float = COVERAGE) -> dict:
    """What a source and a coverage add to a build's cache key: nothing for word lists at the
    default coverage, so that those builds keep the keys they had before these settings."""
    key = {} if check_source(source) == "words" else {"source": source}
    return key if character_coverage == COVERAGE else key | {"character_coverage": character_coverage}


@functools.cache
def _text_frequencies(lang: str) -> tuple[tuple[str, int], ...]:
    """Words (split at spaces) of the distinct sentences of `lang` in the parallel training text
    (for English: the English sides of every language's pairs), with their counts."""
    from .. import parallel

    frame = parallel.pairs("train")
    sentences = set(frame["en"]) if lang == "en" else set(frame.loc[frame["language"] == lang, "text"])
    counts = collections.Counter(word for sentence in sorted(sentences) for word in sentence.split())
    return tuple(sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])))


def text_counts(lang: str, *, total: int) -> dict[str, int]:
    """The running text's words of `lang`, counts scaled to about `total` (each at least 1)."""
    items = _text_frequencies(lang)
    mass = sum(c for _, c in items)
    return {w: max(1, round(c / mass * total)) for w, c in items}


@functools.cache
def _frequencies(lang: str) -> tuple[tuple[str, float], ...]:
    import wordfreq

    items = wordfreq.get_frequency_dict(lang, wordlist="best").items()
    return tuple(sorted(((w, f) for w, f in items if w.strip() and "\t" not in w), key=lambda wf: (-wf[1], wf[0])))


CAPITALISED = 0.1  # wordfreq's lists are lowercase; real text is not


def word_counts(lang: str, *, total: int = 1_000_000, top: int = 10_000, source: str = "words") -> dict[str, int]:
    """The `top` most frequent words of `lang`, counts scaled to about `total` (each at least 1);
    with source "words+text", the running text's words mixed in (TEXT_SHARE of `total`).

    wordfreq lowercases everything, so each word also appears capitalised with a tenth of its
    count: without it no capital letter would be in any vocabulary, and every name in the
    evaluation text would start with an unknown piece. Both methods get the same counts.
    """
    check_languages([lang], source)
    if source == "words":
        return _list_counts(lang, total, top)
    import wordfreq

    if lang not in wordfreq.available_languages(wordlist="best"):
        return text_counts(lang, total=total)
    counts = _list_counts(lang, round(total * (1 - TEXT_SHARE)), top)
    for w, c in text_counts(lang, total=round(total * TEXT_SHARE)).items():
        counts[w] = counts.get(w, 0) + c
    return counts


def _list_counts(lang: str, total: int, top: int) -> dict[str, int]:
    """wordfreq's `top` words of `lang`, each also capitalised, counts scaled to about `total`."""
    items = _frequencies(lang)[:top]
    mass = sum(f for _, f in items) * (1 + CAPITALISED)
    counts: dict[str, int] = {}
    for w, f in items:
        counts[w] = counts.get(w, 0) + max(1, round(f / mass * total))
        if w[:1].upper() + w[1:] != w:
            cap = w[:1].upper() + w[1:]
            counts[cap] = counts.get(cap, 0) + max(1, round(CAPITALISED * f / mass * total))
    return counts


def sampling_probabilities(langs: list[str], alpha: float) -> dict[str, float]:
    """p_l proportional to (n_l / sum n)^alpha over CC-100 sizes: alpha = 1 keeps the real
    imbalance, alpha = 0 makes all languages equal. XLM-R used 0.3; XLM-V's data used 0.5."""
    sizes = {lang: CC100_GIB.get(lang, DEFAULT_GIB) for lang in langs}
    total = sum(sizes.values())
    weights = {lang: (n / total) ** alpha for lang, n in sizes.items()}
    norm = sum(weights.values())
    return {lang: w / norm for lang, w in weights.items()}


def mixed_counts(langs: list[str], probabilities: dict[str, float], *, total: int = 2_000_000,
                 top: int = 10_000, source: str = "words") -> dict[str, int]:
    """One set of word counts for several languages, language l holding a share p_l of `total`
    (words shared by languages add up)."""
    mixed: dict[str, int] = {}
    for lang in langs:
        share = max(1, round(probabilities[lang] * total))
        for w, c in word_counts(lang, total=share, top=top, source=source).items():
            mixed[w] = mixed.get(w, 0) + c
    return mixed
