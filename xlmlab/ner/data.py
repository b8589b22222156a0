"""Reading NER data in its published layouts into one table: language, tokens, tags, split.

    WikiANN (XTREME's PAN-X)   `lang:token<TAB>tag` per line, e.g. `de:Berlin	B-LOC`
    CoNLL style (MasakhaNER)   `token tag` per line, or CoNLL-2003's `token POS chunk tag`
                               (the tag is the last column); `-DOCSTART-` lines are skipped

A blank line ends a sentence in both. Tags are checked as they are read (`O`, `B-TYPE`,
`I-TYPE`); `scheme="iob1"` converts CoNLL-2003's original IOB1 to IOB2. A line that breaks the
layout raises `DataError` naming the file and the line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .tags import iob1_to_iob2, is_tag

COLUMNS = ["language", "tokens", "tags", "split"]
WIKIANN_LINE = re.compile(r"^([a-z]{2,3}(?:[-_][A-Za-z]+)?):(.+)\t(\S+)$")


class DataError(ValueError):
    """A data file that does not have the expected layout; says which file and line."""


def _layout(path: Path, lines: list[str]) -> str:
    """'wikiann' when the first token line looks like `xx:token<TAB>tag`, else 'conll'."""
    first = next((line for line in lines if line.strip() and not line.startswith("-DOCSTART-")), "")
    return "wikiann" if WIKIANN_LINE.match(first) else "conll"


def read_ner(path: str | os.PathLike, *, language: str | None = None, split: str | None = None,
             layout: str = "auto", scheme: str = "iob2") -> pd.DataFrame:
    """Sentences of one file as rows: language, tokens (list of words), tags (list), split.

    WikiANN lines carry their language; a CoNLL-style file needs `language=` (MasakhaNER's
    files sit in one folder per language). `split` defaults to the file's stem (`train`,
    `dev`, `test`).
    """
    path = Path(path)
    if layout not in ("auto", "wikiann", "conll"):
        raise ValueError(f"layout {layout!r}; expected 'auto', 'wikiann' or 'conll'")
    if scheme not in ("iob1", "iob2"):
        raise ValueError(f"scheme {scheme!r}; expected 'iob2' (B- starts every entity) or 'iob1' (CoNLL-2003)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: not found") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    layout = _layout(path, lines) if layout == "auto" else layout
    if layout == "conll" and language is None:
        raise DataError(f"{path}: a CoNLL-style file does not say its language; pass language=")
    split = split or path.name.split(".")[0].split("-")[0]
    rows: list[tuple[str, list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    lang_of_sentence = language

    def end_sentence() -> None:
        nonlocal tokens, tags
        if tokens:
            rows.append((lang_of_sentence, tokens, iob1_to_iob2(tags) if scheme == "iob1" else tags))
        tokens, tags = [], []

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            end_sentence()
            continue
        if line.startswith("-DOCSTART-"):
            continue
        if layout == "wikiann":
            found = WIKIANN_LINE.match(line)
            if not found:
                raise DataError(f"{path}:{number}: expected 'lang:token<TAB>tag' (WikiANN); found {line[:80]!r}")
            lang, token, tag = found.groups()
            if tokens and lang != lang_of_sentence:
                raise DataError(f"{path}:{number}: language {lang!r} in the middle of a {lang_of_sentence!r} "
                                "sentence; expected a blank line between sentences")
            lang_of_sentence = lang
        else:
            fields = line.split()
            if len(fields) < 2:
                raise DataError(f"{path}:{number}: expected 'token tag' (CoNLL style); found {line[:80]!r}")
            token, tag = fields[0], fields[-1]
        if not is_tag(tag):
            raise DataError(f"{path}:{number}: tag {tag!r} is not O, B-TYPE or I-TYPE")
        tokens.append(token)
        tags.append(tag)
    end_sentence()
    frame = pd.DataFrame(rows, columns=COLUMNS[:3])
    frame["split"] = split
    return frame


def write_wikiann(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """The rows of a table as a WikiANN (XTREME) file: `lang:token<TAB>tag`, blank line between sentences."""
    lines = []
    for lang, tokens, tags in zip(frame["language"], frame["tokens"], frame["tags"]):
        lines += [f"{lang}:{token}\t{tag}" for token, tag in zip(tokens, tags)] + [""]
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def tag_names(*frames: pd.DataFrame) -> list[str]:
    """The label set of the data: O first, then B- and I- of each type, types sorted.

    tags B-PER I-PER O B-ORG -> ['O', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']
    """
    kinds = sorted({tag[2:] for frame in frames for tags in frame["tags"] for tag in tags if tag != "O"})
    return ["O", *(f"{prefix}-{kind}" for kind in kinds for prefix in "BI")]
