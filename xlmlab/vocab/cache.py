"""Where vocabulary builds are kept, and the directory each build writes.

A build writes what `xlmlab.load_tokenizer` reads, plus how it was built:

    sentencepiece.bpe.model   the unigram model (the published files' name)
    tokenizer_config.json     as the published XLM-R / XLM-V directories have it
    vocabulary.json           the settings and the intermediate results of the build

Builds are cached in `$XLMLAB_HOME/vocab/<kind>/<key>`, the key a hash of every setting (and of
VERSION), so a second build with the same settings is instant and any change builds anew.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..paths import home, staged_directory
from . import unigram

VERSION = 2  # bump when a change alters the files a build writes (2: ALP curves at exact piece counts)
FILES = ("sentencepiece.bpe.model", "tokenizer_config.json", "vocabulary.json")


def cache_path(kind: str, settings: dict) -> Path:
    """$XLMLAB_HOME/vocab/<kind>/<16 hex digits of the settings' hash>."""
    key = hashlib.sha256(json.dumps({**settings, "version": VERSION}, sort_keys=True).encode()).hexdigest()[:16]
    return home() / "vocab" / kind / key


def count_pieces(model) -> int:
    """All pieces, the control pieces (<unk>, <s>, </s>) included, as SentencePiece counts a
    vocabulary: a size of N gives N + 2 ids (fairseq's <pad> and <mask> are added)."""
    return len(model.pieces)


def write_directory(out: Path, model, info: dict) -> Path:
    """The published layout: what `load_tokenizer` reads, plus how it was built."""
    with staged_directory(out) as staging:
        unigram.write(model, staging / "sentencepiece.bpe.model")
        (staging / "tokenizer_config.json").write_text(
            json.dumps({"model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer"}, indent=2))
        (staging / "vocabulary.json").write_text(json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False))
    return out


def copy_to(built: Path, out: Path | None) -> Path:
    """The cached build, or a copy of its files in `out`."""
    if out is None or Path(out).resolve() == built.resolve():
        return built
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy(built / name, out / name)
    return out
