"""Measuring vocabularies on text: how many tokens each language needs, and why.

Works on any tokenizer `load_tokenizer` returns: the embedded pair built here, or the real
XLM-R and XLM-V files when you have them. Results are pandas DataFrames, one row per
(tokenizer, language):

    tokens_per_sentence   the paper's FLoRes measure: shorter is better for a model
    fertility             tokens per whitespace-separated word (for zh, ja, th, which do not
                          separate words with spaces, it is tokens per space-separated chunk)
    unk_rate              share of tokens that are the unknown piece
    pieces_used           distinct pieces the language's text uses
    vocabulary_share      pieces_used / vocabulary size
    alp                   average log-probability of a sentence under the unigram model
                          (SentencePiece vocabularies only; higher is better)
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from . import cldr, unigram
from .training_data import CC100_GIB, DEFAULT_GIB

# FLoRes-200 file names for the languages of the word statistics
FLORES = {
    "ar": "arb_Arab", "bg": "bul_Cyrl", "bn": "ben_Beng", "ca": "cat_Latn", "cs": "ces_Latn", "da": "dan_Latn",
    "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn", "es": "spa_Latn", "fa": "pes_Arab", "fi": "fin_Latn",
    "fil": "tgl_Latn", "fr": "fra_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hu": "hun_Latn", "id": "ind_Latn",
    "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "ko": "kor_Hang", "lt": "lit_Latn", "lv": "lvs_Latn",
    "mk": "mkd_Cyrl", "ms": "zsm_Latn", "nb": "nob_Latn", "nl": "nld_Latn", "pl": "pol_Latn", "pt": "por_Latn",
    "ro": "ron_Latn", "ru": "rus_Cyrl", "sh": "hrv_Latn", "sk": "slk_Latn", "sl": "slv_Latn", "sv": "swe_Latn",
    "ta": "tam_Taml", "th": "tha_Thai", "tr": "tur_Latn", "uk": "ukr_Cyrl", "ur": "urd_Arab", "vi": "vie_Latn",
    "zh": "zho_Hans",
}


def resource_level(lang: str) -> str:
    """high (>= 50 GiB in CC-100), medium (>= 10 GiB) or low: the paper's gains are at the low end."""
    gib = CC100_GIB.get(lang, DEFAULT_GIB)
    return "high" if gib >= 50 else "medium" if gib >= 10 else "low"


def cldr_texts(langs: list[str]) -> dict[str, list[str]]:
    """CLDR names (territories, languages, currencies) in each language: short parallel phrases,
    the same list in every language. Languages CLDR does not have are left out."""
    out = {}
    for lang in langs:
        try:
            out[lang] = list(cldr.names(lang))
        except Exception:  # babel has no locale of that name
            continue
    return out


def read_text_dir(directory: str | Path) -> dict[str, list[str]]:
    """Your own text: `<lang>.txt` files, one sentence per line (blank lines skipped)."""
    directory = Path(directory)
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"{directory}: no <lang>.txt files (one sentence per line)")
    lines = {f.stem: f.read_text(encoding="utf-8").splitlines() for f in files}
    return {lang: [line.strip() for line in text if line.strip()] for lang, text in lines.items()}


def read_flores(directory: str | Path, langs: list[str], split: str = "devtest") -> dict[str, list[str]]:
    """A FLoRes-200 directory (`<split>/<code>.<split>`, e.g. devtest/eng_Latn.devtest)."""
    directory = Path(directory)
    out = {}
    for lang in langs:
        path = directory / split / f"{FLORES[lang]}.{split}"
        if path.is_file():
            out[lang] = path.read_text(encoding="utf-8").splitlines()
    if not out:
        raise FileNotFoundError(f"{directory}: no {split}/<code>.{split} files for {langs}")
    return out


def measure(tokenizers: dict, texts: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (tokenizer, language) with the measures in this module's docstring."""
    rows = []
    for name, tok in tokenizers.items():
        for lang, sentences in texts.items():
            flat, lengths = tok.encode_ragged(sentences)
            words = sum(len(s.split()) for s in sentences)
            used = np.unique(flat).size
            sp = getattr(tok, "sp", None)
            alp = unigram.weighted_alp(sp, dict.fromkeys(sentences, 1)) if sp is not None else float("nan")
            rows.append({"tokenizer": name, "lang": lang, "level": resource_level(lang), "sentences": len(sentences),
                         "tokens_per_sentence": lengths.mean(), "fertility": lengths.sum() / max(words, 1),
                         "unk_rate": float((flat == tok.unk_token_id).mean()) if flat.size else 0.0,
                         "pieces_used": used, "vocabulary_share": used / tok.vocab_size, "alp": alp})
    return pd.DataFrame(rows)


def head_to_head(measures: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per language: tokens per sentence of `a` and `b`, and b's difference in percent (< 0: b shorter)."""
    wide = measures.pivot(index="lang", columns="tokenizer", values="tokens_per_sentence")[[a, b]]
    wide["difference_%"] = 100 * (wide[b] / wide[a] - 1)
    wide["level"] = [resource_level(lang) for lang in wide.index]
    return wide


def by_level(comparison: pd.DataFrame) -> pd.DataFrame:
    """The head-to-head averaged per resource level, and overall."""
    grouped = comparison.groupby("level").mean(numeric_only=True)
    grouped.loc["all"] = comparison.mean(numeric_only=True)
    grouped["difference_%"] = 100 * (grouped.iloc[:, 1] / grouped.iloc[:, 0] - 1)
    return grouped


def overlap(tok, texts: dict[str, list[str]]) -> pd.DataFrame:
    """Jaccard overlap of the pieces each pair of languages uses: how much vocabulary they share."""
    used = {lang: set(np.unique(tok.encode_ragged(s)[0]).tolist()) for lang, s in texts.items()}
    langs = list(used)
    return pd.DataFrame([[len(used[a] & used[b]) / max(len(used[a] | used[b]), 1) for b in langs] for a in langs],
                        index=langs, columns=langs)


PALETTE = ["#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5", "#d7f0f7", "#fce1c8", "#e9f5db"]


def pieces_html(tokenizers: dict, text: str) -> str:
    """The text's pieces under each tokenizer, side by side, alternately coloured, with ids on
    hover: the explorer of notebook 01 renders this. A piece the vocabulary lacks shows the
    character(s) it stands for, outlined in red, with its id, <unk>, on hover."""
    rows = []
    for name, tok in tokenizers.items():
        pieces = tok.tokenize(text)
        ids = tok.convert_tokens_to_ids(pieces)
        spans = "".join(
            f'<span title="id {i}{" (<unk>)" if i == tok.unk_token_id else ""}" style="background:'
            f'{PALETTE[k % len(PALETTE)]};padding:1px 2px;margin:1px;border-radius:3px;font-family:monospace'
            f'{";outline:2px solid #d62728" if i == tok.unk_token_id else ""}">{html.escape(piece)}</span>'
            for k, (i, piece) in enumerate(zip(ids, pieces)))
        unknown = sum(i == tok.unk_token_id for i in ids)
        rows.append(f"<tr><td style='padding-right:8px'><b>{html.escape(name)}</b><br>{len(ids)} tokens"
                    f"{f', {unknown} unknown' if unknown else ''}</td><td style='text-align:left'>{spans}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"
