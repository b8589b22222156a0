"""Real parallel text, offline: sentences translated by people, read from translated software.

No corpus can be downloaded here, but the package index ships applications whose interface was
translated by people into many languages. This module reads three of them from their wheels
(downloaded, never installed) and writes `data/parallel/`, deterministically:

    source                            licence      used as   XNLI languages
    kolibri 0.19.5                    MIT          train     fr es de el bg ar vi zh hi sw ur
    home-assistant-frontend 20250109  Apache-2.0   train     fr es de el bg ru tr ar vi th zh hi ur
    django 5.2.19                     BSD-3        eval      all 14 besides English

    train/<lang>.tsv   en, <lang>, source: every distinct English string once, with one translation
    eval.tsv           the Django strings translated into all 15 languages, one column each: the
                       same sentences in every language (FLoRes-like), held out from training

Rules, in order: a message is kept when it is translated (not fuzzy, not empty, not equal to the
English: Home Assistant's build fills gaps with English), has no placeholders or markup
(`{n}`, `%(name)s`, `%s`, `<b>`), and is text (one line, at least one letter); whitespace is
collapsed. An English string of the evaluation set never occurs in the training files. Sentences
are interface text, short (about 5 English words on average), not prose: say so wherever
they are used.

    python -m xlmlab.parallel --download /tmp/wheels --out data/parallel   # fetch the pinned wheels, build
    python -m xlmlab.parallel --wheels /tmp/wheels --out data/parallel     # build from wheels you have
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

from .paths import staged_directory

XNLI_LANGUAGES = ["en", "fr", "es", "de", "el", "bg", "ru", "tr", "ar", "vi", "th", "zh", "hi", "sw", "ur"]
SOURCES = {  # name -> (pinned requirement, wheel file prefix, licence, split)
    "kolibri": ("kolibri==0.19.5", "kolibri-0.19.5-", "MIT", "train"),
    "home-assistant": ("home-assistant-frontend==20250109.2", "home_assistant_frontend-20250109.2-", "Apache-2.0",
                       "train"),
    "django": ("django==5.2.19", "django-5.2.19-", "BSD-3-Clause", "eval"),
}
# each source's name for the XNLI languages it has
LOCALES = {
    "kolibri": {"en": "en", "fr": "fr_FR", "es": "es_ES", "de": "de", "el": "el", "bg": "bg_BG", "ar": "ar",
                "vi": "vi", "zh": "zh_Hans", "hi": "hi_IN", "sw": "sw_TZ", "ur": "ur_PK"},
    "home-assistant": {"en": "en", "fr": "fr", "es": "es", "de": "de", "el": "el", "bg": "bg", "ru": "ru",
                       "tr": "tr", "ar": "ar", "vi": "vi", "th": "th", "zh": "zh-Hans", "hi": "hi", "ur": "ur"},
    "django": {lang: "zh_Hans" if lang == "zh" else lang for lang in XNLI_LANGUAGES},
}
COMMITTED = Path(__file__).resolve().parents[1] / "data" / "parallel"  # in a source checkout
MARKUP = re.compile(r"[{}<>]|%\(|%[sd]|\$\{|\\n")
LETTER = re.compile(r"[^\W\d_]")


class CorpusError(ValueError):
    """A wheel or data file that does not hold what the builder expects."""


def clean(text: str) -> str | None:
    """One line of text, or None when the message is not usable as a sentence.

    clean("  Save   changes ") -> "Save changes";  clean("Hello, %(name)s") -> None
    """
    if not isinstance(text, str) or MARKUP.search(text):
        return None
    text = " ".join(text.split())
    return text if LETTER.search(text) else None


# reading each source: {xnli language: {English: translation}} -----------------------------------
def _wheel(wheels: Path, source: str) -> zipfile.ZipFile:
    prefix = SOURCES[source][1]
    found = sorted(wheels.glob(prefix + "*.whl"))
    if not found:
        raise CorpusError(f"{wheels}: no {prefix}*.whl; download it: pip download --no-deps -d {wheels} "
                          f"{SOURCES[source][0]}")
    return zipfile.ZipFile(found[0])


def kolibri_messages(wheel: zipfile.ZipFile, locale: str) -> dict[str, str]:
    """kolibri/locale/<locale>/LC_MESSAGES/*-messages.json: "<bundle>:<key>" -> text, as translated."""
    out = {}
    for name in sorted(n for n in wheel.namelist()
                       if n.startswith(f"kolibri/locale/{locale}/LC_MESSAGES/") and n.endswith("-messages.json")):
        bundle = name.rsplit("/", 1)[1]
        out |= {f"{bundle}:{key}": text for key, text in json.loads(wheel.read(name)).items()}
    return out


def read_kolibri(wheel: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    """Every Kolibri language's messages, English by key: {lang: {English: translation}}."""
    english = kolibri_messages(wheel, "en")
    return {lang: {english[k]: t for k, t in kolibri_messages(wheel, locale).items() if k in english}
            for lang, locale in LOCALES["kolibri"].items() if lang != "en"}


def read_home_assistant(wheel: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    """hass_frontend/static/translations/**/<locale>-<hash>.json: flat key -> text; English by key."""
    pattern = re.compile(r"^hass_frontend/static/translations/(?:(.+)/)?([A-Za-z-]+)-[0-9a-f]{32}\.json$")
    files: dict[str, list[str]] = {}
    for name in sorted(wheel.namelist()):
        match = pattern.match(name)
        if match:
            files.setdefault(match.group(2), []).append(name)

    def messages(locale: str) -> dict[str, str]:
        out = {}
        for name in files.get(locale, []):
            folder = pattern.match(name).group(1) or ""
            out |= {f"{folder}:{key}": text for key, text in _flatten(json.loads(wheel.read(name)))}
        return out
    english = messages("en")
    return {lang: {english[k]: t for k, t in messages(locale).items() if k in english}
            for lang, locale in LOCALES["home-assistant"].items() if lang != "en"}


def _flatten(tree, prefix: str = ""):
    """{"a": {"b": "x"}} -> [("a.b", "x")]"""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(tree, str):
        yield prefix, tree


def read_django(wheel: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    """django/**/locale/<locale>/LC_MESSAGES/*.po: msgid (English) -> msgstr, fuzzy and plural forms left out."""
    from babel.messages.pofile import read_po

    out: dict[str, dict[str, str]] = {}
    for lang, locale in LOCALES["django"].items():
        if lang == "en":
            continue
        pairs = out.setdefault(lang, {})
        for name in sorted(n for n in wheel.namelist() if f"/locale/{locale}/LC_MESSAGES/" in n and n.endswith(".po")):
            with contextlib.redirect_stdout(io.StringIO()):  # babel reports plural-count mismatches on stdout
                catalog = read_po(io.BytesIO(wheel.read(name)))
            for message in catalog:
                if message.id and isinstance(message.id, str) and isinstance(message.string, str) \
                        and message.string and not message.fuzzy:
                    pairs.setdefault(message.id, message.string)
    return out


READERS = {"kolibri": read_kolibri, "home-assistant": read_home_assistant, "django": read_django}


# building ----------------------------------------------------------------------------------------
def usable_pairs(pairs: dict[str, str]) -> dict[str, str]:
    """English -> translation, both cleaned, translations different from the English."""
    out = {}
    for english, translation in pairs.items():
        en, text = clean(english), clean(translation)
        if en and text and text != en:
            out.setdefault(en, text)
    return out


def build_frames(read: dict[str, dict[str, dict[str, str]]]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """From what each source holds to ({lang: training pairs}, the multi-way evaluation table)."""
    evaluation = {lang: usable_pairs(pairs) for lang, pairs in read["django"].items()}
    shared = sorted(set.intersection(*(set(pairs) for pairs in evaluation.values())))
    eval_frame = pd.DataFrame({"en": shared, **{lang: [evaluation[lang][en] for en in shared]
                                                for lang in XNLI_LANGUAGES[1:]}})
    held_out = {en for pairs in evaluation.values() for en in pairs}  # every Django English string
    train = {}
    for lang in XNLI_LANGUAGES[1:]:
        rows = {}
        for source in ("kolibri", "home-assistant"):  # the first source to have an English string keeps it
            for en, text in sorted(usable_pairs(read[source].get(lang, {})).items()):
                if en not in held_out:
                    rows.setdefault(en, (text, source))
        train[lang] = pd.DataFrame([(en, text, source) for en, (text, source) in sorted(rows.items())],
                                   columns=["en", lang, "source"])
    return train, eval_frame


def write(train: dict[str, pd.DataFrame], eval_frame: pd.DataFrame, out: Path, versions: dict[str, str],
          licences: dict[str, str]) -> Path:
    """data/parallel: train/<lang>.tsv, eval.tsv, counts.json, README.md and each source's licence,
    written whole (staged, renamed)."""
    with staged_directory(out) as staging:
        (staging / "train").mkdir()
        for lang, frame in train.items():
            _write_tsv(frame, staging / "train" / f"{lang}.tsv")
        _write_tsv(eval_frame, staging / "eval.tsv")
        counts = {"sources": versions, "train": {lang: len(f) for lang, f in train.items()},
                  "train_by_source": {lang: f["source"].value_counts().sort_index().to_dict()
                                      for lang, f in train.items()},
                  "eval": len(eval_frame),
                  "en_words": round(float(_mean_words(pd.concat([f["en"] for f in train.values()]))), 2)}
        (staging / "counts.json").write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
        (staging / "LICENSES").mkdir()
        for source, text in licences.items():
            (staging / "LICENSES" / f"{source}.txt").write_text(text, encoding="utf-8")
        (staging / "README.md").write_text(readme(counts), encoding="utf-8")
    return out


def _mean_words(texts: pd.Series) -> float:
    return texts.str.split().str.len().mean()


def readme(counts: dict) -> str:
    """The directory's README: where the text comes from, under which licence, how much there is."""
    rows = "\n".join(f"| {lang} | {n:,} | " + " | ".join(f"{counts['train_by_source'][lang].get(s, 0):,}"
                                                         for s in ("kolibri", "home-assistant")) + " |"
                     for lang, n in sorted(counts["train"].items()))
    least = ", ".join(f"{lang} {n:,}" for lang, n in sorted(counts["train"].items(), key=lambda ln: ln[1])[:4])
    sources = "\n".join(f"- {name}: `{counts['sources'][name]}`, {SOURCES[name][2]} (LICENSES/{name}.txt), "
                         f"{SOURCES[name][3]}" for name in SOURCES)
    return f"""# Parallel text from translated software

Written by `python -m xlmlab.parallel` (see `xlmlab/parallel.py` for the rules); do not edit by
hand. Interface messages translated by people, paired with their English source:

{sources}

`eval.tsv`: {counts['eval']:,} English strings of Django translated into all 14 other XNLI
languages, one column per language: held out, and no English string of it occurs in `train/`.

`train/<lang>.tsv`: distinct English strings with one translation each (en, <lang>, source).
The fewest: {least}. English has {counts['en_words']:.1f} words per string on average.

| language | training pairs | from kolibri | from home-assistant |
|---|---|---|---|
{rows}

The sentences are interface text (buttons, messages, help), not prose.
"""


def _write_tsv(frame: pd.DataFrame, path: Path) -> None:
    lines = ["\t".join(frame.columns)] + ["\t".join(row) for row in frame.astype(str).itertuples(index=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(wheels: Path, out: Path) -> Path:
    """Read the three wheels in `wheels` and write `out` (see the module docstring)."""
    read, versions, licences = {}, {}, {}
    for source in SOURCES:
        wheel = _wheel(Path(wheels), source)
        read[source] = READERS[source](wheel)
        versions[source] = Path(wheel.filename).name
        licences[source] = _licence(wheel)
    train, eval_frame = build_frames(read)
    return write(train, eval_frame, Path(out), versions, licences)


def _licence(wheel: zipfile.ZipFile) -> str:
    """The package's own licence file from its .dist-info (not those of packages it vendors)."""
    pattern = re.compile(r"^[^/]+\.dist-info/(?:licenses/)?LICEN[CS]E(?:\.md|\.txt)?$")
    found = sorted(n for n in wheel.namelist() if pattern.match(n))
    if not found:
        raise CorpusError(f"{wheel.filename}: no licence file in its .dist-info")
    return wheel.read(found[0]).decode("utf-8")


def download(directory: Path) -> Path:
    """The pinned wheels, fetched with pip (no dependencies, nothing installed)."""
    for requirement, *_ in SOURCES.values():
        extra = ["--only-binary=:all:", "--python-version", "3.11"] if "home-assistant" in requirement else []
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(directory),
                        *extra, requirement], check=True)
    return directory


# reading the committed files ---------------------------------------------------------------------
def read_train(lang: str, directory: Path = COMMITTED) -> pd.DataFrame:
    """Training pairs for one language: columns en, <lang>, source."""
    return _read_tsv(Path(directory) / "train" / f"{lang}.tsv", ["en", lang, "source"])


def read_eval(directory: Path = COMMITTED) -> pd.DataFrame:
    """The held-out multi-way table: one row per English string, one column per XNLI language."""
    return _read_tsv(Path(directory) / "eval.tsv", XNLI_LANGUAGES)


def pairs(split: str = "train", languages: list[str] | None = None, directory: Path = COMMITTED) -> pd.DataFrame:
    """English-X pairs as one table (language, en, text): the training files, or the held-out set
    ("eval") with one row per language and English string."""
    if split not in ("train", "eval"):
        raise ValueError(f"split {split!r}; expected 'train' or 'eval'")
    languages = languages or XNLI_LANGUAGES[1:]
    unknown = sorted(set(languages) - set(XNLI_LANGUAGES[1:]))
    if unknown:
        raise ValueError(f"no parallel text for {unknown}; the languages are {XNLI_LANGUAGES[1:]}")
    if split == "eval":
        table = read_eval(directory)
        frames = [pd.DataFrame({"language": lang, "en": table["en"], "text": table[lang]}) for lang in languages]
    else:
        frames = [read_train(lang, directory).rename(columns={lang: "text"}).assign(language=lang)
                  [["language", "en", "text"]] for lang in languages]
    return pd.concat(frames, ignore_index=True)


def _read_tsv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; build it with python -m xlmlab.parallel --download DIR "
                                f"--out {path.parent if path.name == 'eval.tsv' else path.parent.parent}")
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    if header != columns:
        raise CorpusError(f"{path}:1: expected the columns {columns}; found {header}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise CorpusError(f"{path}:{number}: expected {len(columns)} tab-separated fields; found {len(fields)}")
        rows.append(fields)
    return pd.DataFrame(rows, columns=columns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xlmlab.parallel", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--wheels", type=Path, help="a directory holding the three pinned wheels")
    where.add_argument("--download", type=Path, help="download the pinned wheels into this directory first")
    parser.add_argument("--out", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    wheels = download(args.download) if args.download else args.wheels
    out = build(wheels, args.out)
    print(json.loads((out / "counts.json").read_text())["train"], f"eval {len(read_eval(out))}", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
