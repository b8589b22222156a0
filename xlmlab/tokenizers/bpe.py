"""Learning an XLM-style BPE vocabulary: `vocab.json` + `merges.txt` with word-final `</w>`.

The classic algorithm (Sennrich et al. 2016), on word counts: start from characters, the last
one of each word marked `</w>`, and repeatedly merge the most frequent adjacent pair.

    {"low": 5, "lower": 2}  ->  l o w</w> (5), l o w e r</w> (2)  ->  first merge ('l', 'o'): 7 ...

The vocabulary starts with XLM's 14 specials (<s> </s> <pad> <unk> <special0>..<special9>),
so <special1> = 5 is the mask token, as in the published models.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

SPECIALS = ["<s>", "</s>", "<pad>", "<unk>"] + [f"<special{i}>" for i in range(10)]


def word_symbols(word: str) -> tuple[str, ...]:
    return (*word[:-1], word[-1] + "</w>")


def learn_merges(word_counts: dict[str, int], num_merges: int, *, progress: bool = False) -> list[tuple[str, str]]:
    """The merges, most useful first. Ties go to the pair that sorts first, so runs are repeatable."""
    words = {word_symbols(w): c for w, c in word_counts.items() if w}
    merges = []
    for _ in tqdm(range(num_merges), desc="BPE merges", disable=not progress):
        pairs: Counter = Counter()
        for symbols, count in words.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        words = {merge_pair(symbols, best): c for symbols, c in words.items()}
    return merges


def merge_pair(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """('l', 'o', 'w</w>'), ('l', 'o') -> ('lo', 'w</w>'): every occurrence, left to right."""
    out, i = [], 0
    while i < len(symbols):
        if i < len(symbols) - 1 and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def build_vocab(word_counts: dict[str, int], merges: list[tuple[str, str]]) -> dict[str, int]:
    """Specials, then every piece the merges produce on the training words, then every
    character (with and without `</w>`), most frequent first."""
    counts: Counter = Counter()
    words = {word_symbols(w): c for w, c in word_counts.items() if w}
    for pair in merges:
        words = {merge_pair(s, pair): c for s, c in words.items()}
    for symbols, c in words.items():
        counts.update({s: c for s in symbols})
    for w in word_counts:
        for ch in w:
            counts[ch] += 0
            counts[ch + "</w>"] += 0
    for a, b in merges:
        counts[a + b] += 0
    ordered = sorted(counts, key=lambda s: (-counts[s], s))
    return {token: i for i, token in enumerate(SPECIALS + [t for t in ordered if t not in SPECIALS])}


def write_xlm_vocabulary(directory: str | Path, word_counts: dict[str, int], num_merges: int, *,
                         lang2id: dict[str, int] | None = None, lowercase: bool = True,
                         progress: bool = False) -> Path:
    """Write `vocab.json`, `merges.txt` and `tokenizer_config.json` that `load_tokenizer` reads."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    merges = learn_merges(word_counts, num_merges, progress=progress)
    vocab = build_vocab(word_counts, merges)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    (directory / "merges.txt").write_text("".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    config = {"do_lowercase_and_remove_accent": lowercase, "model_max_length": 512, "tokenizer_class": "XLMTokenizer"}
    if lang2id:
        config |= {"lang2id": lang2id, "id2lang": {str(i): lang for lang, i in lang2id.items()}}
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return directory
