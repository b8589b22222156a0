"""XNLI and MultiNLI data: the published file layouts, read into one table, and batches for training.

Natural language inference: given a premise and a hypothesis, is the hypothesis entailed,
neutral, or contradicted? XNLI (Conneau et al. 2018) has human translations of 7,500 English
pairs into 14 languages; the XLM-R and XLM-V papers train on English MultiNLI and evaluate on
all 15 languages without any training data in them ("zero-shot cross-lingual transfer").

`read_xnli` reads every published layout into one DataFrame, labels as the Hugging Face datasets
number them (entailment 0, neutral 1, contradiction 2; the original XLM code used the reverse):

    XNLI-1.0     xnli.dev.tsv / xnli.test.tsv: 18 tab-separated columns with a header
                 (language, gold_label, ..., sentence1, sentence2, ...)
    XNLI-MT-1.0  multinli.train.{lang}.tsv: premise, hypo, label ("contradictory" = contradiction)
    MultiNLI     multinli_1.0_*.jsonl: gold_label, sentence1, sentence2 (label "-" is dropped)

Real files contain unbalanced double quotes, so lines are split on tabs with no quoting rules; a
CSV reader with quoting on silently merges rows.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

LABELS = ("entailment", "neutral", "contradiction")
LABEL_IDS = {name: i for i, name in enumerate(LABELS)} | {"contradictory": 2}
COLUMNS = ["language", "premise", "hypothesis", "label", "split"]
XNLI_LANGUAGES = ["en", "fr", "es", "de", "el", "bg", "ru", "tr", "ar", "vi", "th", "zh", "hi", "sw", "ur"]
XNLI_COLUMNS = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse", "sentence1_parse",
                "sentence2_parse", "sentence1", "sentence2", "promptID", "pairID", "genre", "label1", "label2",
                "label3", "label4", "label5", "sentence1_tokenized", "sentence2_tokenized", "match"]
MT_FILE = re.compile(r"^multinli\.(train|dev)\.([a-z]{2,3}(?:-[A-Za-z]+)?)\.tsv$")

# Test accuracy (%) of the published full-scale models, XNLI test set, trained on English MultiNLI.
PUBLISHED = pd.DataFrame({
    "XLM-R base (XLM-V paper)": [85.4, 78.5, 79.1, 77.7, 76.1, 78.1, 76.3, 73.9, 72.3, 75.6, 73.0, 74.9, 70.5,
                                 65.8, 66.5],
    "XLM-V base": [85.6, 79.6, 79.5, 78.4, 76.9, 79.6, 76.6, 74.0, 73.1, 76.2, 73.0, 75.1, 72.0, 70.5, 69.4],
}, index=pd.Index(XNLI_LANGUAGES, name="language"))


class DataError(ValueError):
    """A data file that does not have the expected layout; says which file and line."""


def _label(value: str, where: str) -> int:
    try:
        return LABEL_IDS[value]
    except KeyError:
        raise DataError(f"{where}: label {value!r}; expected one of {', '.join(LABEL_IDS)}") from None


def _tsv_rows(path: Path):
    """(line number, header, fields) for each data line of a tab-separated file, quoting off."""
    with open(path, encoding="utf-8", newline="") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        for number, line in enumerate(f, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != len(header):
                raise DataError(f"{path}:{number}: expected {len(header)} tab-separated fields as in the header, "
                                f"found {len(fields)}")
            yield number, header, fields


def _read_xnli_tsv(path: Path) -> pd.DataFrame:
    """XNLI-1.0 `xnli.{dev,test}.tsv` (the embedded sample also writes `xnli.train.tsv`)."""
    rows = []
    needed = ("language", "gold_label", "sentence1", "sentence2")
    for number, header, fields in _tsv_rows(path):
        if len(rows) == 0:
            missing = [c for c in needed if c not in header]
            if missing:
                raise DataError(f"{path}:1: XNLI-1.0 header without {missing}; found {header}")
            at = {c: header.index(c) for c in needed}
        rows.append((fields[at["language"]], fields[at["sentence1"]], fields[at["sentence2"]],
                     _label(fields[at["gold_label"]], f"{path}:{number}")))
    split = path.name.split(".")[1] if path.name.count(".") >= 2 else path.stem
    return _frame(rows, split)


def _read_mt_tsv(path: Path) -> pd.DataFrame:
    """XNLI-MT-1.0 `multinli.train.{lang}.tsv`: premise, hypo, label; language from the file name."""
    name = MT_FILE.match(path.name)
    if name is None:
        raise DataError(f"{path}: an XNLI-MT file must be named multinli.train.<lang>.tsv (the language comes from "
                        "the name)")
    rows = []
    for number, header, fields in _tsv_rows(path):
        if len(rows) == 0 and header != ["premise", "hypo", "label"]:
            raise DataError(f"{path}:1: expected the header premise<TAB>hypo<TAB>label; found {header}")
        rows.append((name.group(2), fields[0], fields[1], _label(fields[2], f"{path}:{number}")))
    return _frame(rows, name.group(1))


def _read_jsonl(path: Path) -> pd.DataFrame:
    """MultiNLI 1.0 `*.jsonl`: English; pairs without a consensus label ("-") are dropped."""
    rows, dropped = [], 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                gold, premise, hypothesis = record["gold_label"], record["sentence1"], record["sentence2"]
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{number}: not a JSON object ({err.msg})") from None
            except (KeyError, TypeError) as err:
                raise DataError(f"{path}:{number}: expected gold_label, sentence1 and sentence2; "
                                f"missing {err}") from None
            if gold == "-":
                dropped += 1
                continue
            rows.append(("en", premise, hypothesis, _label(gold, f"{path}:{number}")))
    if dropped:
        log.info("%s: dropped %d pairs without a gold label ('-')", path, dropped)
    split = path.stem.removeprefix("multinli_1.0_")
    return _frame(rows, split)


def _frame(rows: list[tuple], split: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS[:4])
    frame["label"] = frame["label"].astype("int64")
    frame["split"] = split
    return frame


def _reader(path: Path):
    if path.suffix == ".jsonl":
        return _read_jsonl
    if path.suffix == ".tsv":
        if MT_FILE.match(path.name):
            return _read_mt_tsv
        return _read_xnli_tsv
    return None


def read_xnli(path: str | os.PathLike, languages: list[str] | None = None, *, split: str | None = None) -> pd.DataFrame:
    """Read XNLI / XNLI-MT / MultiNLI files (or a directory holding them) into one table.

    Columns: `language`, `premise`, `hypothesis`, `label` (entailment 0, neutral 1,
    contradiction 2) and `split` (dev, test, train, dev_matched ... from the file name).
    `languages` keeps only those languages, in that order; `split` keeps one split.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _reader(p) is not None)
        if not files:
            raise DataError(f"{path}: no XNLI files; expected xnli.{{dev,test}}.tsv, multinli.train.<lang>.tsv "
                            "or MultiNLI *.jsonl")
    elif path.is_file():
        if _reader(path) is None:
            raise DataError(f"{path}: unknown file type; expected a .tsv (XNLI-1.0, XNLI-MT) or .jsonl (MultiNLI)")
        files = [path]
    else:
        raise FileNotFoundError(f"{path}: no such file or directory")
    frame = pd.concat([_reader(f)(f) for f in files], ignore_index=True)
    if split is not None:
        found = sorted(frame["split"].unique())
        if split not in found:
            raise DataError(f"{path}: no {split!r} split; found {found}")
        frame = frame[frame["split"] == split]
    if languages is not None:
        found = list(dict.fromkeys(frame["language"]))
        absent = [lang for lang in languages if lang not in found]
        if absent:
            raise DataError(f"{path}: no pairs in {absent}; the files hold {found}")
        order = {lang: i for i, lang in enumerate(languages)}
        frame = frame[frame["language"].isin(order)]
        frame = frame.iloc[np.argsort(frame["language"].map(order).to_numpy(), kind="stable")]
    return frame.reset_index(drop=True)
