"""Unknown pieces on the held-out translated strings (Django, 225 per language, never trained on),
per language: the embedded vocabularies as they are built now (the 15 XNLI languages, word lists
plus the parallel training text, every character kept) against the earlier recipe (16 languages,
word lists alone, 99.95% character coverage).

    python benchmarks/unknown_pieces.py
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from xlmlab import parallel, vocab
from xlmlab.tokenizers import SentencePieceTokenizer
from xlmlab.vocab.training_data import DEFAULT_LANGUAGES, XNLI_LANGUAGES


def unknown_percent(directory, held_out: pd.DataFrame) -> dict[str, float]:
    tok = SentencePieceTokenizer(directory / "sentencepiece.bpe.model")
    texts = {"en": sorted(set(held_out["en"]))} | {lang: g["text"].tolist() for lang, g in held_out.groupby("language")}
    rates = {}
    for lang, sentences in texts.items():
        flat, _ = tok.encode_ragged(sentences)
        rates[lang] = 100 * float(np.mean(flat == tok.unk_token_id))
    return rates


def main() -> int:
    held_out = parallel.pairs("eval")
    text = vocab.XLMVSettings(source="words+text", character_coverage=1.0)
    builds = {
        "XLM-R 8k, word lists (before)": vocab.build_xlmr(DEFAULT_LANGUAGES, 8000),
        "XLM-V 32k, word lists (before)": vocab.build_xlmv(DEFAULT_LANGUAGES, 32000, equal_size=True),
        "XLM-R 8k, + text (tiny-xlmr)": vocab.build_xlmr(XNLI_LANGUAGES, 8000, source="words+text",
                                                         character_coverage=1.0),
        "XLM-V 32k, + text (tiny-xlmv)": vocab.build_xlmv(XNLI_LANGUAGES, 32000, equal_size=True, settings=text),
    }
    table = pd.DataFrame({name: unknown_percent(directory, held_out) for name, directory in builds.items()})
    table.loc["max"] = table.max()
    print("unknown pieces on the held-out strings, % of tokens")
    print(table.round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
