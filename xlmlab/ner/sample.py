"""The embedded NER sample (data/ner-sample): real translated sentences, entity spans known by construction.

No labelled NER data can be downloaded here, but Kolibri's interface is translated by people into
12 of the 15 XNLI languages, and some of its messages keep named placeholders in every
translation: "Account '{fullname}' from '{facilityname}' successfully loaded to this device".
Filling the placeholders gives real sentences in each language, with the entity spans known:

1. `read_templates` (needs the pinned Kolibri wheel): the messages with a person, facility or
   channel placeholder (and otherwise numbers only) -> templates.tsv; a template is "parallel"
   when the same placeholders survive in all 12 translations.
2. `render`: each placeholder filled in each language's own script: people with names from
   Faker's provider for that locale (tagged PER; Urdu has none, Persian names stand in: same
   script), facilities with a town name from CLDR in that language (tagged ORG: a Kolibri
   facility is a school or learning centre, usually named after its town; the sentence gives
   the role, the name alone is a place), channels with their publishers' names, which stay in
   Latin script in every translation (ORG), numbers with digits (O).
3. Words: split on spaces with punctuation peeled off (Chinese: one token per character, as
   WikiANN's Chinese is), tags in IOB2, files in WikiANN's layout (`lang:token<TAB>tag`).

Splits are by entity, not by sentence frame: there are too few frames (a few dozen) to hold some
out. Training is English, every template, with two thirds of the towns and publishers; dev and
test are the parallel templates in all 12 languages, with the other towns and publishers and
names drawn anew. So English test measures tagging unseen names in known frames, the other
languages transfer to other languages and scripts.

What it can show: zero-shot transfer of entity tagging from English to other languages and
scripts on real sentence frames; how names split into pieces. What it cannot: the variety of
real text (a few hundred templates of interface messages), nested or unusual entities, LOC/MISC.

    python -m xlmlab.ner.sample --wheels DIR      # templates.tsv from the Kolibri wheel, then render
    python -m xlmlab.ner.sample                   # render again from the committed templates.tsv
"""

from __future__ import annotations

import argparse
import re
import unicodedata
import zipfile
from itertools import product
from pathlib import Path

import pandas as pd

from ..parallel import LOCALES, kolibri_messages
from .data import write_wikiann

LANGUAGES = ["en", "fr", "es", "de", "el", "bg", "ar", "vi", "zh", "hi", "sw", "ur"]
KOLIBRI = {"en": "en"} | LOCALES["kolibri"]  # Kolibri's name of each language
WHEEL = "kolibri-0.19.5-py2.py3-none-any.whl"
# Faker's locale for each language's names (Urdu: none in Faker; Persian names share the script)
FAKER = {"en": "en_US", "fr": "fr_FR", "es": "es_ES", "de": "de_DE", "el": "el_GR", "bg": "bg_BG", "ar": "ar_SA",
         "vi": "vi_VN", "zh": "zh_CN", "hi": "hi_IN", "sw": "sw", "ur": "fa_IR"}
PERSON = {"full_name", "fullname", "fullName", "learnerName", "name", "name1", "name2", "username"}
FACILITY = {"facilityName", "facility", "target_facility", "facilityname", "targetFacility", "facility_name",
            "facilities"}
CHANNEL = {"channelName", "channelTitle", "channel", "channelname"}
NUMBER = {"size", "fileSize", "total", "step", "steps", "number", "version", "newVersion", "oldVersion", "nextVersion",
          "currentVersion", "count", "answeredQuestionsCount", "totalQuestionsCount", "resourcesInChannel",
          "totalResources"}
ENTITY = {**dict.fromkeys(PERSON, "PER"), **dict.fromkeys(FACILITY | CHANNEL, "ORG")}
# Kolibri's channels carry their publishers' names, kept in Latin script in every translation
PUBLISHERS = ["Khan Academy", "CK-12", "PhET", "African Storybook", "Sikana", "Touchable Earth", "MIT Blossoms",
              "OpenStax", "Global Digital Library", "Pratham Books", "Ubongo", "Learning Equality"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
RENDERINGS = {"train": 8, "dev": 1, "test": 3}  # sentences per template (train: English only)
COMMITTED = Path(__file__).resolve().parents[2] / "data" / "ner-sample"


# 1. templates from the Kolibri wheel --------------------------------------------------------------
def read_templates(wheel_path: str | Path) -> pd.DataFrame:
    """Messages with an entity placeholder (the others numbers), one column per language ("" where
    a translation lacks or changes the placeholders), one row per distinct English string (sorted),
    and `parallel`: all 12 translations usable."""
    wheel = zipfile.ZipFile(wheel_path)
    read = {lang: kolibri_messages(wheel, locale) for lang, locale in KOLIBRI.items()}
    rows = {}
    for key, english in sorted(read["en"].items()):
        names = sorted(PLACEHOLDER.findall(english)) if isinstance(english, str) else []
        if (not set(names) & set(ENTITY) or not set(names) <= set(ENTITY) | NUMBER
                or re.search(r"[<>%]|\{\w+,", english) or " ".join(english.split()) != english):
            continue
        texts = {lang: read[lang].get(key) for lang in LANGUAGES}
        texts = {lang: t if isinstance(t, str) and " ".join(t.split()) == t and sorted(PLACEHOLDER.findall(t)) == names
                 and not re.search(r"[{}]", PLACEHOLDER.sub("", t)) and (lang == "en" or t != english) else ""
                 for lang, t in texts.items()}
        texts["parallel"] = all(texts.values())
        if english not in rows or texts["parallel"] > rows[english]["parallel"]:
            rows[english] = texts
    return pd.DataFrame(list(rows.values()), columns=[*LANGUAGES, "parallel"])


# 2. filling the placeholders -----------------------------------------------------------------------
def towns() -> list[list[str]]:
    """Town names from CLDR in every language (one list per town, in LANGUAGES order): the
    exemplar cities of time zones that all 12 locales name."""
    from babel import Locale

    locales = [Locale.parse(lang) for lang in LANGUAGES]
    out = []
    for zone in sorted(locales[0].time_zones):
        names = [loc.time_zones.get(zone, {}).get("city") for loc in locales]
        if all(names) and "," not in names[0]:  # "Center, North Dakota" is a place and its state
            out.append(names)
    return out


def person(fake, lang: str) -> str:
    """A person's name in the order of the language (family name first in Chinese and Vietnamese)."""
    if lang == "zh":
        return fake.last_name() + fake.first_name()
    if lang == "vi":
        return f"{fake.last_name()} {fake.first_name()}"
    return f"{fake.first_name()} {fake.last_name()}"


# 3. words and tags -----------------------------------------------------------------------------------
def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def _is_cjk(char: str) -> bool:
    return unicodedata.category(char) == "Lo" and ("\u3000" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff")


def split_words(text: str, lang: str) -> list[str]:
    """Words of a text: spaces split, punctuation at either end of a word is a word of its own;
    in Chinese every CJK character and punctuation mark is one.

    split_words("Removed 'Nairobi' from", "en") -> ['Removed', "'", 'Nairobi', "'", 'from']
    """
    words = []
    for chunk in text.split():
        if lang == "zh":
            words += re.findall(r"[\u3000-\u9fff\uf900-\ufaff]|[^\s\u3000-\u9fff\uf900-\ufaff]+", chunk)
            continue
        head, tail = [], []
        while chunk and _is_punctuation(chunk[0]):
            head.append(chunk[0])
            chunk = chunk[1:]
        while chunk and _is_punctuation(chunk[-1]):
            tail.insert(0, chunk[-1])
            chunk = chunk[:-1]
        words += head + ([chunk] if chunk else []) + tail
    # Chinese: punctuation runs split into marks too
    return [p for w in words for p in (list(w) if lang == "zh" and all(map(_is_punctuation, w)) else [w])]


def fill(template: str, values: dict[str, str], lang: str) -> tuple[list[str], list[str]]:
    """Words and IOB2 tags of a template with its placeholders filled.

    fill("Coach – {name}", {"name": "Ada Lovelace"}, "en")
        -> (['Coach', '–', 'Ada', 'Lovelace'], ['O', 'O', 'B-PER', 'I-PER'])
    """
    words, tags = [], []
    position = 0
    for found in PLACEHOLDER.finditer(template):
        text = split_words(template[position:found.start()], lang)
        words += text
        tags += ["O"] * len(text)
        entity = split_words(values[found.group(1)], lang)
        kind = ENTITY.get(found.group(1))
        words += entity
        tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(entity) - 1) if kind else ["O"] * len(entity)
        position = found.end()
    text = split_words(template[position:], lang)
    return words + text, tags + ["O"] * len(text)


def render(templates: pd.DataFrame, *, seed: int = 0) -> dict[str, pd.DataFrame]:
    """{split: read_ner-style table}: train in English only, dev and test in every language."""
    from faker import Faker

    fakers = {lang: Faker(FAKER[lang]) for lang in LANGUAGES}
    all_towns = towns()
    town_split = {name: [t for i, t in enumerate(all_towns) if (i % 3 == 0) == (name != "train")]
                  for name in RENDERINGS}
    publishers = {name: [p for i, p in enumerate(PUBLISHERS) if (i % 3 == 0) == (name != "train")]
                  for name in RENDERINGS}
    rows: dict[str, list] = {name: [] for name in RENDERINGS}
    for (index, template), split in product(enumerate(templates.itertuples(index=False)), RENDERINGS):
        if split != "train" and not template.parallel:
            continue
        languages = ["en"] if split == "train" else LANGUAGES
        for r in range(RENDERINGS[split]):
            town = town_split[split][(index * 7 + r) % len(town_split[split])]
            publisher = publishers[split][(index * 5 + r) % len(publishers[split])]
            for lang in languages:
                fake = fakers[lang]
                fake.seed_instance(hash_seed(seed, split, index, r, lang))
                text = getattr(template, lang)
                values = {}
                for name in dict.fromkeys(PLACEHOLDER.findall(text)):
                    if name == "username":
                        values[name] = fake.first_name()
                    elif name in PERSON:
                        values[name] = person(fake, lang)
                    elif name in FACILITY:
                        values[name] = town[LANGUAGES.index(lang)]
                    elif name in CHANNEL:
                        values[name] = publisher
                    else:
                        values[name] = str(fake.random_int(2, 40))
                words, tags = fill(text, values, lang)
                rows[split].append((lang, words, tags, index))
    out = {}
    for split, found in rows.items():
        frame = pd.DataFrame(found, columns=["language", "tokens", "tags", "template"])
        # languages in LANGUAGES order, the same template order within each: parallel rows
        frame["order"] = frame["language"].map(LANGUAGES.index)
        frame = frame.sort_values(["order", "template"], kind="stable").drop(columns="order")
        out[split] = frame.reset_index(drop=True).assign(split=split)
    return out


def hash_seed(*parts) -> int:
    """A seed from a tuple of names and numbers, the same in every process (unlike hash())."""
    value = 0
    for char in "\x1f".join(map(str, parts)):
        value = (value * 1_000_003 + ord(char)) % (2**31 - 1)
    return value


# the files ---------------------------------------------------------------------------------------
def write(templates: pd.DataFrame, out: Path = COMMITTED) -> Path:
    """templates.tsv, {train,dev,test}.tsv (WikiANN layout) and README.md, under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    # tab-separated, no quoting (messages hold quotes, never tabs or newlines)
    lines = ["\t".join(templates.columns)] + ["\t".join(map(str, row)) for row in templates.itertuples(index=False)]
    (out / "templates.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    splits = render(templates)
    for split, frame in splits.items():
        write_wikiann(frame, out / f"{split}.tsv")
    (out / "README.md").write_text(readme(templates, splits), encoding="utf-8")
    return out


def read_committed_templates(directory: Path = COMMITTED) -> pd.DataFrame:
    frame = pd.read_csv(directory / "templates.tsv", sep="\t", dtype=str, keep_default_na=False, quoting=3)
    return frame.assign(parallel=frame["parallel"] == "True")


def readme(templates: pd.DataFrame, splits: dict[str, pd.DataFrame]) -> str:
    counts = {split: frame.groupby("language", sort=False).size().to_dict() for split, frame in splits.items()}
    entities = {split: int(sum(t.startswith("B-") for tags in frame["tags"] for t in tags)) for split, frame in
                splits.items()}
    per_language = {s: len(f[f["language"] == "en"]) for s, f in splits.items()}
    return f"""# NER sample: Kolibri's translated messages with their placeholders filled

Written by `python -m xlmlab.ner.sample` (see `xlmlab/ner/sample.py`); do not edit by hand.

`templates.tsv`: {len(templates)} messages of Kolibri 0.19.5 (MIT, see `../parallel/LICENSES/kolibri.txt`) with a
person, facility or channel placeholder; {int(templates["parallel"].sum())} keep their placeholders in all 12
translations ({', '.join(LANGUAGES)}) and make the dev and test sets.

Each placeholder is filled in the language's own script: people with Faker names of that locale
(PER; Urdu takes Persian names, Faker has no Urdu), facilities with a town name from CLDR in that
language (ORG), channels with publishers' names, in Latin script in every language as Kolibri
keeps them (ORG), numbers with digits. Words are split at spaces with punctuation peeled off (Chinese: per character);
tags in IOB2; files in WikiANN's layout (`lang:token<TAB>tag`, a blank line between sentences).

| split | languages | sentences per language | entities (all languages) |
|---|---|---|---|
""" + "\n".join(f"| {s} | {len(counts[s])} | {per_language[s]} | {entities[s]:,} |" for s in splits) + """

Train is English only, every template; dev and test are the parallel templates in all 12 languages
(the same towns and publishers in every language, names of each locale). Training never sees a
town or publisher of dev and test, but it does see their sentence frames: there are too few to
hold some out. English test therefore measures new names in known frames; the other languages,
transfer. Interface messages, not prose: a few dozen frames, two entity types (no LOC or MISC).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xlmlab.ner.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help=f"a folder with {WHEEL} (pip download --no-deps kolibri==0.19.5)")
    parser.add_argument("--out", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    templates = read_templates(args.wheels / WHEEL) if args.wheels else read_committed_templates(args.out)
    print(write(templates, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
